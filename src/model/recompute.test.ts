import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { probeMemory } from '../bench/memprobe';
import { layerNormLean } from '../kernels/wasm/pointwise';
import { recomputed } from './recompute';

/** A residual segment with a custom-gradient op inside: x + W2ᵀ·gelu-free tanh(LN(x)·W1). */
function segment(w1: tf.Tensor2D, w2: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) {
  return (x: tf.Tensor2D): tf.Tensor2D => tf.add(x, tf.matMul(tf.tanh(tf.matMul(layerNormLean(x, g, b, 1e-5) as tf.Tensor2D, w1)), w2));
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`recomputed segments (${backend})`, () => {
    it('give the same value and gradients as the plain chain, for trained and frozen weights alike', async () => {
      await initNodeBackend(backend);
      const layers = 4;
      const w1 = Array.from({ length: layers }, (_, i) => tf.variable(tf.randomNormal([32, 64], 0, 0.2, 'float32', 10 + i)) as tf.Variable<tf.Rank.R2>);
      const w2 = Array.from({ length: layers }, (_, i) => tf.randomNormal([64, 32], 0, 0.2, 'float32', 20 + i) as tf.Tensor2D); // frozen
      const g = tf.variable(tf.ones([32])) as tf.Variable<tf.Rank.R1>;
      const b = tf.zeros([32]) as tf.Tensor1D;
      const x0 = tf.randomNormal([16, 32], 0, 1, 'float32', 1) as tf.Tensor2D;
      const vars = [...w1, g];
      const loss = (recompute: boolean) => () => {
        let x = x0;
        for (let i = 0; i < layers; i++) x = recompute ? recomputed(segment(w1[i], w2[i], g, b), x, [w1[i], g]) : segment(w1[i], w2[i], g, b)(x);
        return tf.sum(tf.square(x)) as tf.Scalar;
      };
      const plain = tf.variableGrads(loss(false), vars);
      const recomp = tf.variableGrads(loss(true), vars);
      expect(Math.abs(recomp.value.dataSync()[0] - plain.value.dataSync()[0])).toBeLessThan(1e-3);
      for (const v of vars) {
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(recomp.grads[v.name], plain.grads[v.name]))).dataSync()[0]);
        expect(d, v.name).toBeLessThan(1e-4);
      }
      // Gradient with respect to the input too (the first segment's x).
      const dxPlain = tf.grad((x: tf.Tensor) => tf.sum(tf.square(segment(w1[0], w2[0], g, b)(x as tf.Tensor2D))))(x0);
      const dxRecomp = tf.grad((x: tf.Tensor) => tf.sum(tf.square(recomputed(segment(w1[0], w2[0], g, b), x as tf.Tensor2D, [w1[0], g]))))(x0);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(dxPlain, dxRecomp))).dataSync()[0])).toBeLessThan(1e-5);
      // The outer step still cleans up: nothing is left behind by either.
      const before = tf.memory().numTensors;
      const again = tf.variableGrads(loss(true), vars);
      tf.dispose([again.value, ...Object.values(again.grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([plain.value, recomp.value, ...Object.values(plain.grads), ...Object.values(recomp.grads), dxPlain, dxRecomp, x0, b, ...w2, ...vars]);
    });

    it('keeps far less at the peak over many segments', async () => {
      await initNodeBackend(backend);
      const w1 = tf.variable(tf.randomNormal([64, 256], 0, 0.1, 'float32', 3)) as tf.Variable<tf.Rank.R2>;
      const w2 = tf.randomNormal([256, 64], 0, 0.1, 'float32', 4) as tf.Tensor2D;
      const g = tf.ones([64]) as tf.Tensor1D,
        b = tf.zeros([64]) as tf.Tensor1D;
      const x0 = tf.randomNormal([128, 64], 0, 1, 'float32', 5) as tf.Tensor2D;
      const peak = async (recompute: boolean) => {
        const r = await probeMemory(
          () => {
            const grads = tf.tidy(
              () =>
                tf.variableGrads(() => {
                  let x = x0;
                  for (let i = 0; i < 12; i++) x = recompute ? recomputed(segment(w1, w2, g, b), x, [w1]) : segment(w1, w2, g, b)(x);
                  return tf.sum(x) as tf.Scalar;
                }, [w1]).grads,
            );
            tf.dispose(Object.values(grads));
          },
          { live: [w1, w2, g, b, x0] },
        );
        return r.peakBytes - r.startBytes;
      };
      const plain = await peak(false),
        recomp = await peak(true);
      expect(recomp).toBeLessThan(0.35 * plain);
      tf.dispose([w1, w2, g, b, x0]);
    });
  });
}

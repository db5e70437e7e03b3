/**
 * The training step: a linear probe (only the head trains) computes the pooled features off the
 * gradient tape, and its loss and gradients are bit-identical to differentiating the whole
 * forward pass (what every step did before), on the fixture's tiny hub model, WASM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { kernelsFor } from '../kernels';
import { initHead, paramsFromCanonical, type ParamSet } from '../model/params';
import { crossEntropy, forward, type ViT } from '../model/vit';
import { loadCheckpoint } from '../weights/load';
import { fixture } from '../weights/testutil';
import { probeMemory } from '../bench/memprobe';
import type { Batch } from '../data/trainData';
import { METHODS } from './methods';
import type { Optimizer } from './optimizer';
import { trainableVariables, trainStep, trainsOnlyHead } from './step';

const K = 5;
let model: ViT;
let owned: tf.Tensor[] = [];

beforeAll(async () => {
  await initNodeBackend('wasm');
  const ckpt = await loadCheckpoint(fixture('hf_tiny_model.safetensors'), { name: 'hf_tiny_model.safetensors' });
  const cfg = { ...ckpt.config, numClasses: K };
  const params: ParamSet = { ...paramsFromCanonical(ckpt.tensors) };
  const head = initHead(cfg, K, 7);
  // As the trainer holds a linear probe: the head as trainable variables, the backbone as plain tensors.
  for (const [n, t] of Object.entries(head)) {
    params[n] = tf.variable(t, true, `step.test.${n}`);
    t.dispose();
  }
  owned = Object.values(params);
  model = { cfg, params, kernels: kernelsFor('wasm') };
});

afterAll(() => tf.dispose(owned));

/** Seeded pixels [n, C, S, S] and labels, as the trainer's host-side batches hold them. */
function batchOf(n: number): Batch {
  const { channels: c, imageSize: s } = model.cfg;
  const pixels = new Float32Array(n * c * s * s);
  let state = 12345;
  for (let i = 0; i < pixels.length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    pixels[i] = (state / 2 ** 31) * 2 - 1;
  }
  return { pixels, labels: Int32Array.from({ length: n }, (_, i) => (i * 3) % K), size: n };
}

/** An optimizer that only copies the gradients it is handed (the step's gradients, to compare). */
function recorder(): { optimizer: Optimizer; grads: Map<string, Float32Array> } {
  const grads = new Map<string, Float32Array>();
  const optimizer = {
    apply: (_vars: Record<string, tf.Variable>, g: Record<string, tf.Tensor>) => {
      for (const [n, t] of Object.entries(g)) grads.set(n, t.dataSync() as Float32Array);
    },
  } as unknown as Optimizer;
  return { optimizer, grads };
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('a linear probe steps off the tape', () => {
  const phase = METHODS.linear.phases[0];

  it('trains only the head, so the backbone runs before the tape starts', () => {
    expect(trainsOnlyHead(trainableVariables(model.params))).toBe(true);
    expect(trainsOnlyHead({ ...trainableVariables(model.params), 'prompts.0': model.params['head.weight'] as tf.Variable })).toBe(false);
  });

  it('loss, correct predictions and gradients are bit-identical to the whole forward pass on the tape, holding no backbone activation', async () => {
    const batch = batchOf(8);
    const vars = trainableVariables(model.params);
    const { optimizer, grads } = recorder();
    const step = await probeMemory(() => trainStep(model, batch, phase, optimizer, { lr: 0.1, seed: 3 }), { live: owned });
    const { loss, correct } = step.result;

    // The path every step took before: the whole forward pass recorded, differentiated for the head.
    const { channels: c, imageSize: s } = model.cfg;
    const taped = await probeMemory(
      () =>
        tf.tidy(() => {
          const x = tf.tensor4d(batch.pixels, [batch.size, c, s, s]); // [B, C, S, S]
          const y = tf.tensor1d(batch.labels, 'int32'); // [B]
          let logits: tf.Tensor2D | null = null;
          const r = tf.variableGrads(() => {
            logits = tf.keep(forward(model, x, { promptMode: 'none', training: true, promptDropout: 0, dropoutSeed: 3 })); // [B, K]
            return tf.mul(crossEntropy(logits, y), 1) as tf.Scalar;
          }, Object.values(vars));
          const right = tf.sum(tf.cast(tf.equal(tf.argMax(logits!, -1), y), 'float32'));
          return { loss: r.value, correct: right, grads: r.grads };
        }),
      { live: owned },
    );
    const want = taped.result;

    expect(bits(loss.dataSync() as Float32Array).equals(bits(want.loss.dataSync() as Float32Array))).toBe(true);
    expect(correct.dataSync()[0]).toBe(want.correct.dataSync()[0]);
    expect([...grads.keys()].sort()).toEqual(['head.bias', 'head.weight']);
    for (const [n, v] of Object.entries(vars)) expect(bits(grads.get(n)!).equals(bits(want.grads[v.name].dataSync() as Float32Array)), n).toBe(true);
    // Nothing of the backbone is kept for a backward pass: at the step's peak, what gradients hold
    // (the pooled features and the head's weight) is a sliver of what the whole tape kept.
    expect(taped.atPeak!.byGroup.saved).toBeGreaterThan(0);
    expect(step.atPeak!.byGroup.saved).toBeLessThan(0.01 * taped.atPeak!.byGroup.saved);
    expect(step.peakBytes).toBeLessThan(taped.peakBytes);
    tf.dispose([loss, correct, want.loss, want.correct, ...Object.values(want.grads)]);
  });

  it('micro-batches sum to the same gradients as one pass (to rounding)', () => {
    const batch = batchOf(8);
    const whole = recorder(),
      parts = recorder();
    tf.dispose(Object.values(trainStep(model, batch, phase, whole.optimizer, { lr: 0.1, seed: 3 })));
    tf.dispose(Object.values(trainStep(model, batch, phase, parts.optimizer, { lr: 0.1, seed: 3, microBatch: 3 })));
    for (const [n, g] of whole.grads) {
      const h = parts.grads.get(n)!;
      for (let i = 0; i < g.length; i++) expect(h[i]).toBeCloseTo(g[i]!, 6);
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../backend/node';
import { stockKernels } from '../../model/ops';
import { probeMemory } from '../../bench/memprobe';
import { geluLean, layerNormLean } from './pointwise';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * Value and every input gradient of sum(f(inputs) ⊙ r), with the buffer-level peak of the same
 * through 8 chained applications (f∘f∘…, as layers chain), where what each node keeps adds up.
 */
async function valueAndGrads(f: (...x: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], r: tf.Tensor) {
  const probe = await probeMemory(
    () =>
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((...x: tf.Tensor[]) => tf.sum(tf.mul(f(...x), r)))(inputs);
        return [value, ...grads];
      }),
    { live: [...inputs, r] },
  );
  const chained = await probeMemory(
    () =>
      tf.tidy(() => {
        const { grads } = tf.valueAndGrads((...x: tf.Tensor[]) => {
          let y = x[0];
          for (let i = 0; i < 8; i++) y = f(y, ...x.slice(1));
          return tf.sum(tf.mul(y, r));
        })(inputs);
        return grads;
      }),
    { live: [...inputs, r] },
  );
  tf.dispose(chained.result);
  return { out: probe.result, peak: chained.peakBytes - chained.startBytes };
}

describe('lean LayerNorm and GELU (one tape node each) against the stock ops', () => {
  it('LayerNorm: same value and gradients (x, γ, β), with less memory at the peak', async () => {
    const x = tf.randomNormal([3, 50, 64], 0.3, 2, 'float32', 1);
    const g = tf.randomNormal([64], 1, 0.1, 'float32', 2) as tf.Tensor1D;
    const b = tf.randomNormal([64], 0, 0.1, 'float32', 3) as tf.Tensor1D;
    const r = tf.randomNormal([3, 50, 64], 0, 1, 'float32', 4);
    const lean = await valueAndGrads((xi, gi, bi) => layerNormLean(xi, gi as tf.Tensor1D, bi as tf.Tensor1D, 1e-6), [x, g, b], r);
    const stock = await valueAndGrads((xi, gi, bi) => stockKernels.layerNorm(xi, gi as tf.Tensor1D, bi as tf.Tensor1D, 1e-6), [x, g, b], r);
    lean.out.forEach((t, i) => expect(maxAbsDiff(t, stock.out[i])).toBeLessThan(2e-4));
    expect(lean.peak).toBeLessThan(0.6 * stock.peak);
    tf.dispose([x, g, b, r, ...lean.out, ...stock.out]);
  });

  it('GELU: same value and gradient, with less memory at the peak', async () => {
    const x = tf.randomNormal([200, 96], 0, 3, 'float32', 5);
    const r = tf.randomNormal([200, 96], 0, 1, 'float32', 6);
    const lean = await valueAndGrads((xi) => geluLean(xi), [x], r);
    const stock = await valueAndGrads((xi) => stockKernels.gelu(xi), [x], r);
    lean.out.forEach((t, i) => expect(maxAbsDiff(t, stock.out[i])).toBeLessThan(1e-4));
    expect(lean.peak).toBeLessThan(0.6 * stock.peak);
    tf.dispose([x, r, ...lean.out, ...stock.out]);
  });
});

/**
 * The one-pass element-wise kernels on the WASM heap against tfjs' own ops: the same values and
 * gradients (within float32 rounding of the erf approximation), on one thread and two.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../backend/node';
import { stockKernels } from '../../model/ops';
import { adamWFused, columnSum, fusedAvailable, gemmFused, geluFused, layerNormFused, registerFused, softmaxGrad } from './fused';
import { callerTakesChunks, helperChunks, splitCalls } from './pool';
import { simdHelpersReady, simdKernelsFor } from './simd';

afterAll(async () => {
  await initNodeBackend('wasm', { threads: 1 });
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Value and input gradient of sum(f(x) ⊙ r). */
function valueAndGrad(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, r: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(f(xi), r)))(x);
    return [f(x), g];
  });
}

describe.each([1, 2])('fused GELU on %i WASM thread(s)', (threads) => {
  it('gives tfjs’ exact GELU and its gradient, over the whole range, on a heap that grew in between', async () => {
    await initNodeBackend('wasm', { threads });
    expect(fusedAvailable()).toBe(true);
    registerFused();
    // Node has WebAssembly SIMD: the vector loops run (a module that fails to compile would fall back to JS).
    const wasm = (tf.backend() as unknown as { wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory: WebAssembly.Memory } } }).wasm;
    expect(simdKernelsFor((wasm.wasmMemory ?? wasm.asm?.memory)!)).not.toBeNull();
    // Normal values plus the tails and the exact points where a sign test could go wrong.
    const x = tf.tidy(() => tf.concat([tf.randomNormal([5000], 0, 3, 'float32', 7), tf.tensor1d([0, -0, 1e-8, -1e-8, 6, -6, 12, -12, 40, -40])]));
    const r = tf.randomNormal(x.shape, 0, 1, 'float32', 8);
    const fused = valueAndGrad(geluFused, x, r);
    const big = tf.zeros([64 * 2 ** 20]); // 256 MB: the heap grows between the two passes
    const stock = valueAndGrad(stockKernels.gelu, x, r);
    expect(maxAbsDiff(fused[0], stock[0])).toBeLessThan(2e-6);
    expect(maxAbsDiff(fused[1], stock[1])).toBeLessThan(2e-6);
    const again = valueAndGrad(geluFused, x, r); // after growth: same numbers, bit for bit
    again.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(fused[i].dataSync())));
    tf.dispose([x, r, big, ...fused, ...stock, ...again]);
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('column sums on the WASM heap', () => {
  it('sum every axis but the last, as tfjs does, for the shapes a step uses and for odd ones', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    registerFused();
    for (const shape of [
      [1576, 768],
      [8, 197, 192],
      [3, 4],
      [1, 8],
      [5, 6],
      [7, 3],
    ]) {
      const x = tf.randomNormal(shape, 0, 1, 'float32', shape[0]);
      const [ours, ref] = tf.tidy(() => [
        columnSum(x),
        tf.sum(
          x,
          Array.from({ length: x.rank - 1 }, (_, i) => i),
        ),
      ]);
      expect(ours.shape).toEqual([shape[shape.length - 1]]);
      expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-4 * Math.sqrt(x.size / shape[shape.length - 1]));
      tf.dispose([x, ours, ref]);
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe.each([1, 2])('fused LayerNorm on %i WASM thread(s)', (threads) => {
  it('gives the stock LayerNorm’s values and gradients (x, γ, β) within float32 rounding, for every row length', async () => {
    await initNodeBackend('wasm', { threads });
    registerFused();
    for (const shape of [
      [8, 197, 192],
      [1576, 768],
      [3, 4],
      [5, 7], // not a multiple of 4: the tfjs-ops path
    ]) {
      const d = shape[shape.length - 1];
      const x = tf.randomNormal(shape, 0.3, 2, 'float32', 1);
      const g = tf.randomNormal([d], 1, 0.1, 'float32', 2) as tf.Tensor1D;
      const b = tf.randomNormal([d], 0, 0.1, 'float32', 3) as tf.Tensor1D;
      const r = tf.randomNormal(shape, 0, 1, 'float32', 4);
      const run = (ln: typeof layerNormFused) =>
        tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) =>
            tf.sum(tf.mul(ln(xi, gi as tf.Tensor1D, bi as tf.Tensor1D, 1e-6), r)),
          )([x, g, b]);
          return [ln(x, g, b, 1e-6), value, ...grads];
        });
      const ours = run(layerNormFused);
      const stock = run(stockKernels.layerNorm);
      const rows = x.size / d;
      expect(maxAbsDiff(ours[0], stock[0])).toBeLessThan(5e-6); // y: |x̂| ≲ 4, a few ulps
      expect(maxAbsDiff(ours[2], stock[2])).toBeLessThan(5e-6); // dx
      expect(maxAbsDiff(ours[3], stock[3])).toBeLessThan(2e-6 * Math.sqrt(rows) * 4); // dγ: a sum over rows
      expect(maxAbsDiff(ours[4], stock[4])).toBeLessThan(2e-6 * Math.sqrt(rows) * 4); // dβ
      tf.dispose([x, g, b, r, ...ours, ...stock]);
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('fused AdamW on the WASM heap', () => {
  it('updates w, m, v as the optimizer’s tfjs expression does (within 1e-6 relative), ragged lengths included', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    registerFused();
    for (const n of [1, 3, 8, 1001, 192 * 768]) {
      const [w, g, m] = [1, 2, 3].map((s) => tf.randomNormal([n], 0, 1, 'float32', s));
      const v = tf.tidy(() => tf.square(tf.randomNormal([n], 0, 0.1, 'float32', 4)));
      const s = { b1: 0.9, b2: 0.999, decay: 1 - 1e-3 * 0.05, c1: 1 - 0.9 ** 3, c2: 1 - 0.999 ** 3, eps: 1e-8, lr: 1e-3 };
      const ours = adamWFused(w, g, m, v, s)!;
      expect(ours).not.toBeNull();
      const ref = tf.tidy(() => {
        const m2 = tf.add(tf.mul(m, s.b1), tf.mul(g, 1 - s.b1));
        const v2 = tf.add(tf.mul(v, s.b2), tf.mul(tf.square(g), 1 - s.b2));
        const w2 = tf.sub(tf.mul(w, s.decay), tf.mul(tf.div(tf.div(m2, s.c1), tf.add(tf.sqrt(tf.div(v2, s.c2)), s.eps)), s.lr));
        return [w2, m2, v2];
      });
      ours.forEach((t, i) => {
        const a = t.dataSync(),
          e = ref[i].dataSync();
        let worst = 0;
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(a[j] - e[j]) / Math.max(Math.abs(e[j]), 1e-30));
        expect(worst, `n=${n}, output ${i}`).toBeLessThanOrEqual(1e-6);
      });
      tf.dispose([w, g, m, v, ...ours, ...ref]);
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('the softmax gradient on the WASM heap', () => {
  it('gives p·(dp − Σ dp·p) as tfjs’ ops do, for row lengths with and without a ragged tail', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    registerFused();
    for (const shape of [
      [24, 197, 197],
      [3, 5],
      [2, 9],
      [4, 8],
      [1, 1],
      [6, 3],
    ]) {
      const p = tf.tidy(() => tf.softmax(tf.randomNormal(shape, 0, 4, 'float32', 21)));
      const dp = tf.randomNormal(shape, 0, 1, 'float32', 22);
      const ds = softmaxGrad(p, dp);
      const want = tf.tidy(() => tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))));
      expect(ds.shape).toEqual(shape);
      const scale = Math.max(
        1,
        tf.tidy(() => tf.max(tf.abs(want)).dataSync()[0]),
      );
      expect(maxAbsDiff(ds, want) / scale, `[${shape}]`).toBeLessThan(3e-6); // float32 rounding of 197-term sums in another order
      tf.dispose([p, dp, ds, want]);
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('the SIMD batched product on the WASM heap', () => {
  it('gives tfjs’ a·b and aᵀ·b for attention shapes and for every ragged edge (rows, 8-, 4- and 1-column tails)', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    registerFused();
    for (const [n, m, k, cols] of [
      [24, 197, 197, 64],
      [24, 197, 64, 197],
      [2, 5, 3, 8],
      [1, 1, 1, 1],
      [3, 4, 7, 16],
      [2, 7, 5, 13],
      [2, 5, 9, 6],
      [3, 9, 4, 3],
    ]) {
      for (const transposeA of [false, true]) {
        const a = tf.randomNormal(transposeA ? [n, k, m] : [n, m, k], 0, 1, 'float32', 31) as tf.Tensor3D;
        const b = tf.randomNormal([n, k, cols], 0, 1, 'float32', 32) as tf.Tensor3D;
        const got = gemmFused(a, b, transposeA)!;
        const want = tf.matMul(a, b, transposeA, false);
        expect(got.shape).toEqual([n, m, cols]);
        // Sums of k products of N(0, 1) values, about √k in size, added in another order than tfjs'.
        expect(maxAbsDiff(got, want), `[${n}, ${m}, ${k}]·[${n}, ${k}, ${cols}] ${transposeA ? 'aᵀ·b' : 'a·b'}`).toBeLessThan(1e-5 * Math.max(4, k));
        tf.dispose([a, b, got, want]);
      }
    }
    expect(tf.memory().numTensors).toBe(0);
  });
});

describe('the SIMD loops split over the WASM threads', () => {
  // Ragged sizes above the split threshold: chunks of unequal length and a scalar tail.
  const N = 1576 * 768 + 3;
  const memoryOf = () => {
    const wasm = (tf.backend() as unknown as { wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory: WebAssembly.Memory } } }).wasm;
    return (wasm.wasmMemory ?? wasm.asm?.memory)!;
  };
  /** GELU value and gradient, LayerNorm forward and AdamW's w', m', v', as plain arrays. */
  function outputs(): Float32Array[] {
    const x = tf.randomNormal([N], 0, 3, 'float32', 11);
    const r = tf.randomNormal([N], 0, 1, 'float32', 12);
    const rows = tf.randomNormal([1000, 196], 0.3, 2, 'float32', 13); // 196 floats a row, 1000 rows
    const g = tf.randomNormal([196], 1, 0.1, 'float32', 14) as tf.Tensor1D;
    const b = tf.randomNormal([196], 0, 0.1, 'float32', 15) as tf.Tensor1D;
    const v = tf.tidy(() => tf.square(r));
    const s = { b1: 0.9, b2: 0.999, decay: 1 - 1e-3 * 0.05, c1: 1 - 0.9 ** 3, c2: 1 - 0.999 ** 3, eps: 1e-8, lr: 1e-3 };
    const p = tf.tidy(() => tf.softmax(tf.randomNormal([300, 247], 0, 3, 'float32', 16))); // rows of an odd length: SIMD lanes and a tail
    const dp = tf.randomNormal([300, 247], 0, 1, 'float32', 17);
    const heads = tf.randomNormal([6, 197, 64], 0, 1, 'float32', 18) as tf.Tensor3D; // [heads, T, hd]
    const res = [
      ...valueAndGrad(geluFused, x, r),
      tf.tidy(() => layerNormFused(rows, g, b, 1e-6)),
      ...adamWFused(x, r, x, v, s)!,
      softmaxGrad(p, dp),
      tf.tidy(() => gemmFused(tf.reshape(p, [6, 50, 247]) as tf.Tensor3D, tf.reshape(dp, [6, 247, 50]) as tf.Tensor3D)!),
      gemmFused(heads, heads, true)!, // [6, 64, 64]: aᵀ·a
    ];
    const arrays = res.map((t) => t.dataSync() as Float32Array);
    // Today's tolerance against stock tfjs, on every thread count.
    const stock = valueAndGrad(stockKernels.gelu, x, r);
    const stockLn = tf.tidy(() => stockKernels.layerNorm(rows, g, b, 1e-6));
    expect(maxAbsDiff(res[0], stock[0])).toBeLessThan(2e-6);
    expect(maxAbsDiff(res[1], stock[1])).toBeLessThan(2e-6);
    expect(maxAbsDiff(res[2], stockLn)).toBeLessThan(5e-6);
    const stockDs = tf.tidy(() => tf.mul(p, tf.sub(dp, tf.sum(tf.mul(dp, p), -1, true))));
    expect(maxAbsDiff(res[6], stockDs)).toBeLessThan(3e-6);
    const stockGemm = [tf.tidy(() => tf.matMul(tf.reshape(p, [6, 50, 247]), tf.reshape(dp, [6, 247, 50]))), tf.matMul(heads, heads, true, false)];
    expect(maxAbsDiff(res[7], stockGemm[0])).toBeLessThan(1e-5);
    expect(maxAbsDiff(res[8], stockGemm[1])).toBeLessThan(5e-4); // sums of 197 products of N(0, 1) values, ~197 on the diagonal
    tf.dispose([x, r, rows, g, b, v, p, dp, heads, ...res, ...stock, stockLn, stockDs, ...stockGemm]);
    expect(tf.memory().numTensors).toBe(0);
    return arrays;
  }

  it('on 2 threads: the helpers take chunks, and the results equal 1 thread’s to the bit', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    registerFused();
    const before = splitCalls();
    const one = outputs();
    expect(splitCalls()).toBe(before); // one thread: nothing to split over
    await initNodeBackend('wasm', { threads: 2 });
    registerFused();
    expect(await simdHelpersReady(memoryOf())).toBe(true);
    // As a run splits: whichever thread claims a chunk computes it (which one wins is the machine's load).
    const start = splitCalls();
    const two = outputs();
    // GELU forward and backward (and the forward again inside the gradient), LayerNorm, AdamW, the softmax gradient, a product.
    expect(splitCalls() - start).toBeGreaterThanOrEqual(6);
    // The caller leaves every chunk to the helper: the helper computed all of each split call (a
    // helper that failed to start, or computed anything differently, would show here).
    callerTakesChunks(false);
    let byHelpers: Float32Array[];
    const helped = helperChunks(),
      calls = splitCalls();
    try {
      byHelpers = outputs();
    } finally {
      callerTakesChunks(true);
    }
    expect(splitCalls() - calls).toBeGreaterThanOrEqual(6);
    expect(helperChunks() - helped).toBeGreaterThanOrEqual(2 * (splitCalls() - calls)); // 2 threads: at least 2 chunks a call, all the helper's
    const same = (a: Float32Array, b: Float32Array) =>
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    two.forEach((a, i) => expect(same(a, one[i]), `output ${i}, split`).toBe(true));
    byHelpers.forEach((a, i) => expect(same(a, one[i]), `output ${i}, all on the helper`).toBe(true));
  });
});

/**
 * The in-heap Transpose against the permutation done element by element on the bits: bit-identical
 * (a transpose is a copy), on odd shapes, on one thread and two, after the heap grew; and the
 * permutation reduction that decides which transposes take it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../backend/node';
import { asAxisSwap, reducePermutation, registerHeapTranspose } from './transpose';

afterAll(async () => {
  await initNodeBackend('wasm', { threads: 1 });
});

/** x's bits permuted by `perm`, element by element. */
function reference(bits: Uint32Array, shape: number[], perm: number[]): Uint32Array {
  const outShape = perm.map((a) => shape[a]);
  const inStrides = [...tf.util.computeStrides(shape), 1];
  const outStrides = [...tf.util.computeStrides(outShape), 1];
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    let rest = i,
      from = 0;
    for (let d = 0; d < outShape.length; d++) {
      const v = Math.floor(rest / outStrides[d]);
      rest -= v * outStrides[d];
      from += v * inStrides[perm[d]];
    }
    out[i] = bits[from];
  }
  return out;
}

/** Values with a distinct bit pattern each (NaN payloads, −0, denormals included). */
function distinct(shape: number[], dtype: 'float32' | 'int32'): { x: tf.Tensor; bits: Uint32Array } {
  const n = tf.util.sizeFromShape(shape);
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = (Math.imul(i + 1, 2654435761) ^ (i << 3)) >>> 0;
  if (n > 3) [bits[0], bits[1], bits[2]] = [0x7fc00001, 0x80000000, 0x00000001];
  const x = dtype === 'float32' ? tf.tensor(new Float32Array(bits.buffer), shape, 'float32') : tf.tensor(new Int32Array(bits.buffer), shape, 'int32');
  return { x, bits };
}

const cases: [number[], number[]][] = [
  [
    [1, 1],
    [1, 0],
  ],
  [
    [3, 5],
    [1, 0],
  ],
  [
    [4, 8],
    [1, 0],
  ],
  [
    [197, 64],
    [1, 0],
  ],
  [
    [1576, 192],
    [1, 0],
  ],
  [
    [7, 2],
    [1, 0],
  ],
  [
    [24, 197, 197],
    [0, 2, 1],
  ], // attention Pᵀ, dSᵀ
  [
    [6, 13, 9],
    [0, 2, 1],
  ],
  [
    [8, 197, 9, 64],
    [0, 2, 1, 3],
  ], // head split
  [
    [8, 3, 197, 64],
    [0, 2, 1, 3],
  ], // head merge
  [
    [2, 5, 3, 3],
    [0, 2, 1, 3],
  ], // runs of 3 elements
  [
    [5, 1, 7],
    [2, 1, 0],
  ], // size-1 axis dropped: a 2-D transpose
  [
    [2, 3, 4, 5],
    [0, 1, 3, 2],
  ], // leading axes merged
  [
    [3, 4, 5],
    [2, 0, 1],
  ], // [12, 5]ᵀ once axes 0 and 1 merge
  [
    [3, 4, 5],
    [2, 1, 0],
  ], // not a swap: tfjs' kernel
  [
    [2, 3, 4, 5],
    [3, 2, 1, 0],
  ], // not a swap: tfjs' kernel
];

describe.each([1, 2])('Transpose on the WASM heap, %i thread(s)', (threads) => {
  it('is bit-identical to the permutation done element by element, before and after the heap grows', async () => {
    await initNodeBackend('wasm', { threads });
    registerHeapTranspose();
    for (const grow of [false, true]) {
      const big = grow ? tf.zeros([64 * 2 ** 20]) : null; // 256 MB: the heap grows before these
      for (const [shape, perm] of cases)
        for (const dtype of ['float32', 'int32'] as const) {
          const { x, bits } = distinct(shape, dtype);
          const y = tf.transpose(x, perm);
          expect(y.shape).toEqual(perm.map((a) => shape[a]));
          const got = new Uint32Array((y.dataSync() as Float32Array).slice().buffer);
          expect(Buffer.from(got.buffer).equals(Buffer.from(reference(bits, shape, perm).buffer)), `${shape} ${perm} ${dtype}`).toBe(true);
          tf.dispose([x, y]);
        }
      big?.dispose();
    }
  });
});

describe('reducePermutation', () => {
  it('drops size-1 axes and merges neighbours, so the step’s transposes are axis swaps', () => {
    expect(reducePermutation([5, 1, 7], [2, 1, 0])).toEqual({ shape: [5, 7], perm: [1, 0] });
    expect(reducePermutation([2, 3, 4, 5], [0, 1, 3, 2])).toEqual({ shape: [6, 4, 5], perm: [0, 2, 1] });
    expect(reducePermutation([8, 197, 9, 64], [0, 2, 1, 3])).toEqual({ shape: [8, 197, 9, 64], perm: [0, 2, 1, 3] });
    expect(reducePermutation([4, 6], [0, 1])).toEqual({ shape: [24], perm: [0] });
    expect(asAxisSwap(reducePermutation([2, 3, 4], [1, 0, 2]))).toEqual([1, 2, 3, 4]);
    expect(asAxisSwap(reducePermutation([3, 4, 5], [2, 0, 1]))).toEqual([1, 12, 5, 1]); // [12, 5]ᵀ
    expect(asAxisSwap(reducePermutation([3, 4, 5], [2, 1, 0]))).toBeNull();
    expect(asAxisSwap({ shape: [24], perm: [0] })).toBeNull();
  });
});

/**
 * The in-heap Slice and SplitV against a plain reference over the values, for contiguous and
 * strided slices of every rank the model uses, several dtypes, and pieces of a split.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../backend/node';
import { registerHeapSlice } from './slice';

beforeAll(async () => {
  await initNodeBackend('wasm');
  registerHeapSlice();
});

/** x[begin : begin + size] computed element by element from x's values. */
function reference(x: tf.Tensor, begin: number[], size: number[]): number[] {
  const src = tf.buffer(x.shape, x.dtype as 'float32', x.dataSync() as Float32Array);
  const out: number[] = [];
  const n = tf.util.sizeFromShape(size);
  const strides = tf.util.computeStrides(size);
  for (let i = 0; i < n; i++) {
    let rest = i;
    const loc = size.map((_, d) => {
      const s = d < strides.length ? strides[d] : 1;
      const v = Math.floor(rest / s);
      rest -= v * s;
      return begin[d] + v;
    });
    out.push(src.get(...loc));
  }
  return out;
}

describe('Slice on the WASM heap', () => {
  const cases: [number[], number[], number[]][] = [
    [[10], [3], [5]],
    [
      [6, 7],
      [2, 0],
      [3, 7],
    ], // contiguous rows
    [
      [6, 7],
      [1, 2],
      [4, 3],
    ], // strided
    [
      [3, 4, 5],
      [0, 1, 0],
      [3, 2, 5],
    ],
    [
      [9, 2, 5, 4],
      [3, 0, 0, 0],
      [3, 2, 5, 4],
    ], // the q/k/v block of a [3H, B, T, hd] tensor
    [
      [2, 7, 3],
      [0, 1, 0],
      [2, 6, 3],
    ], // prompts stripped from a token axis
    [
      [2, 3, 4, 5, 2],
      [1, 1, 0, 2, 1],
      [1, 2, 4, 3, 1],
    ],
    [
      [4, 5],
      [2, 3],
      [0, 2],
    ], // empty
  ];
  for (const dtype of ['float32', 'int32', 'bool'] as const) {
    it.each(cases)(`${dtype}: [%s] sliced at %s, size %s`, (shape, begin, size) => {
      const x = tf.tidy(() => tf.cast(tf.randomUniform(shape, -50, 50, 'float32', 3), dtype));
      const y = tf.slice(x, begin, size);
      expect(y.shape).toEqual(size);
      expect(Array.from(y.dataSync() as Float32Array)).toEqual(reference(x, begin, size));
      tf.dispose([x, y]);
    });
  }

  it('splits along any axis, pieces of different sizes, and their gradient is unchanged', () => {
    const x = tf.randomNormal([6, 4, 5], 0, 1, 'float32', 9);
    for (const axis of [0, 1, 2]) {
      const sizes = axis === 0 ? [1, 3, 2] : axis === 1 ? [2, 2] : [4, 1];
      const pieces = tf.split(x, sizes, axis);
      let at = 0;
      pieces.forEach((p, i) => {
        const begin = [0, 0, 0],
          size = x.shape.slice();
        begin[axis] = at;
        size[axis] = sizes[i];
        at += sizes[i];
        expect(Array.from(p.dataSync())).toEqual(reference(x, begin, size));
      });
      tf.dispose(pieces);
    }
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.split(t, [2, 4], 0)[1], 3)))(x);
    expect(Array.from(g.dataSync())).toEqual([...new Array(40).fill(0), ...new Array(80).fill(3)]);
    tf.dispose([x, g]);
    expect(tf.memory().numTensors).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { LinearCkaAccumulator, linearCka } from './cka';
import { mulberry32 } from '../data/rng';

function normal(n: number, seed: number, mean = 0): Float64Array {
  const r = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + Math.sqrt(-2 * Math.log(Math.max(1e-12, r()))) * Math.cos(2 * Math.PI * r());
  return out;
}

/** x [n, p] · m [p, q]. */
function times(x: Float64Array, m: Float64Array, n: number, p: number, q: number): Float64Array {
  const out = new Float64Array(n * q);
  for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) for (let j = 0; j < q; j++) out[i * q + j] += x[i * p + k] * m[k * q + j];
  return out;
}

/** A random orthogonal p×p matrix (Gram–Schmidt on Gaussian columns). */
function orthogonal(p: number, seed: number): Float64Array {
  const a = normal(p * p, seed);
  const cols: Float64Array[] = [];
  for (let j = 0; j < p; j++) {
    const v = Float64Array.from({ length: p }, (_, i) => a[i * p + j]);
    for (const c of cols) {
      const d = v.reduce((s, x, i) => s + x * c[i], 0);
      for (let i = 0; i < p; i++) v[i] -= d * c[i];
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return Float64Array.from({ length: p * p }, (_, k) => cols[k % p][Math.floor(k / p)]);
}

describe('linear CKA', () => {
  it('is the squared correlation for one-dimensional features', () => {
    const x = [1, 2, 3, 4, 6],
      y = [2, 1, 4, 3, 7];
    const mx = 16 / 5,
      my = 17 / 5;
    const cov = x.reduce((s, v, i) => s + (v - mx) * (y[i] - my), 0);
    const vx = x.reduce((s, v) => s + (v - mx) ** 2, 0),
      vy = y.reduce((s, v) => s + (v - my) ** 2, 0);
    expect(linearCka(x, y, 5, 1, 1)).toBeCloseTo((cov * cov) / (vx * vy), 12);
  });

  it('is 1 under rotation, isotropic scaling and translation, and small for unrelated features', () => {
    const n = 400,
      p = 6;
    const x = normal(n * p, 1);
    const rotated = times(x, orthogonal(p, 2), n, p, p).map((v) => 3 * v + 5);
    expect(linearCka(x, x, n, p, p)).toBeCloseTo(1, 12);
    expect(linearCka(x, rotated, n, p, p)).toBeCloseTo(1, 10);
    // Unrelated Gaussian features: E[CKA] is about p·q / n, far below 1.
    expect(linearCka(x, normal(n * 4, 3), n, p, 4)).toBeLessThan(0.1);
    // Not invariant to anisotropic scaling (one direction stretched 10x).
    const stretched = x.map((v, i) => (i % p === 0 ? 10 * v : v));
    expect(linearCka(x, stretched, n, p, p)).toBeLessThan(0.9);
  });

  it('accumulated in batches on tfjs equals the float64 reference, even on a large common mean', async () => {
    await tf.setBackend('cpu');
    const n = 300,
      p = 5,
      q = 3;
    // Features around 1000 with unit spread: a naive float32 Σxᵀx would lose the spread.
    const x = normal(n * p, 4, 1000);
    const y = times(normal(n * p, 5), normal(p * q, 6), n, p, q).map((v, i) => v + 0.5 * x[Math.floor(i / q) * p] - 200);
    const expected = linearCka(x, y, n, p, q);
    const acc = new LinearCkaAccumulator();
    const before = tf.memory().numTensors;
    for (let s = 0; s < n; s += 64) {
      const b = Math.min(64, n - s);
      const xt = tf.tensor2d(Float32Array.from(x.subarray(s * p, (s + b) * p)), [b, p]);
      const yt = tf.tensor2d(Float32Array.from(y.subarray(s * q, (s + b) * q)), [b, q]);
      acc.add(xt, yt);
      tf.dispose([xt, yt]);
    }
    expect(acc.rows).toBe(n);
    expect(await acc.value()).toBeCloseTo(expected, 4);
    acc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

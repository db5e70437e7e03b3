import { describe, expect, it } from 'vitest';
import { Matrix } from 'ml-matrix';
import { fitGaussian, frechetDistance, sqrtmSymmetric } from './frechet';
import { mulberry32 } from '../data/rng';

function gaussianSamples(n: number, dim: number, shift: number, scale: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const out = new Float64Array(n * dim);
  for (let i = 0; i < n * dim; i++) {
    // Box–Muller
    const u = Math.max(1e-12, r()),
      v = r();
    out[i] = shift + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

describe('Fréchet distance', () => {
  it('sqrtm squares back to the matrix', () => {
    const a = new Matrix([
      [4, 1, 0],
      [1, 3, 0.5],
      [0, 0.5, 2],
    ]);
    const s = sqrtmSymmetric(a);
    const back = s.mmul(s);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(back.get(i, j)).toBeCloseTo(a.get(i, j), 10);
  });

  it('is zero for a set against itself and matches the closed form for isotropic Gaussians', () => {
    const dim = 4,
      n = 4000;
    const x = fitGaussian(gaussianSamples(n, dim, 0, 1, 1), n, dim);
    expect(frechetDistance(x, x)).toBeCloseTo(0, 8);
    // N(0, I) vs N(2·1, 4·I): |μ|² = 4·dim, tr term = dim·(1 + 4 − 2·2) = dim.
    const y = fitGaussian(gaussianSamples(n, dim, 2, 2, 2), n, dim);
    expect(frechetDistance(x, y)).toBeGreaterThan(0.85 * 5 * dim);
    expect(frechetDistance(x, y)).toBeLessThan(1.15 * 5 * dim);
  });

  it('grows with the shift', () => {
    const dim = 3,
      n = 500;
    const base = fitGaussian(gaussianSamples(n, dim, 0, 1, 3), n, dim);
    const near = fitGaussian(gaussianSamples(n, dim, 0.5, 1, 4), n, dim);
    const far = fitGaussian(gaussianSamples(n, dim, 3, 1, 5), n, dim);
    expect(frechetDistance(base, near)).toBeLessThan(frechetDistance(base, far));
  });
});

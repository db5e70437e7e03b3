/**
 * Fréchet distance between two feature sets, each summarised by its mean and covariance:
 *   d² = |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)
 * (the FID formula, on the backbone's CLS features). The matrix square root comes from
 * ml-matrix's symmetric eigendecomposition: tr((Σ₁Σ₂)^½) = tr((A Σ₂ A)^½) with A = Σ₁^½, and
 * A Σ₂ A is symmetric positive semi-definite, so its square root is well defined.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface Gaussian {
  mean: Float64Array;
  /** D × D, row-major. */
  cov: Float64Array;
  dim: number;
  count: number;
}

/** Mean and (unbiased) covariance of N feature rows of width D (row-major). */
export function fitGaussian(features: Float32Array | Float64Array, count: number, dim: number): Gaussian {
  if (count < 2) throw new Error(`A Fréchet distance needs at least 2 feature vectors, got ${count}.`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let d = 0; d < dim; d++) mean[d] += features[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= count;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) row[d] = features[i * dim + d] - mean[d];
    for (let a = 0; a < dim; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b] += ra * row[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (count - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { mean, cov, dim, count };
}

function toMatrix(cov: Float64Array, dim: number): Matrix {
  const m = new Matrix(dim, dim);
  for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) m.set(a, b, cov[a * dim + b]);
  return m;
}

/** Symmetric PSD square root via eigendecomposition (negative eigenvalues from round-off → 0). */
export function sqrtmSymmetric(m: Matrix): Matrix {
  const sym = m.add(m.transpose()).mul(0.5);
  const eig = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const v = eig.eigenvectorMatrix;
  const roots = eig.realEigenvalues.map((x) => Math.sqrt(Math.max(0, x)));
  return v.mmul(Matrix.diag(roots)).mmul(v.transpose());
}

export function frechetDistance(p: Gaussian, q: Gaussian): number {
  if (p.dim !== q.dim) throw new Error(`Feature widths differ: ${p.dim} vs ${q.dim}.`);
  const dim = p.dim;
  let meanTerm = 0;
  for (let d = 0; d < dim; d++) meanTerm += (p.mean[d] - q.mean[d]) ** 2;
  const s1 = toMatrix(p.cov, dim),
    s2 = toMatrix(q.cov, dim);
  const a = sqrtmSymmetric(s1);
  const cross = sqrtmSymmetric(a.mmul(s2).mmul(a));
  const trace = s1.trace() + s2.trace() - 2 * cross.trace();
  return meanTerm + Math.max(0, trace);
}

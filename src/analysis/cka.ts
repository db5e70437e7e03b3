/**
 * Linear centred kernel alignment (CKA; Kornblith et al., "Similarity of Neural Network
 * Representations Revisited", ICML 2019): how similar two sets of features of the same rows are,
 * invariant to rotations and to isotropic scaling of either set. 1 = the same representation up to
 * rotation and scale, 0 = no linear relation.
 *
 *   CKA(X, Y) = ‖Ycᵀ Xc‖²_F / (‖Xcᵀ Xc‖_F · ‖Ycᵀ Yc‖_F),   Xc, Yc: column-centred X [n, p], Y [n, q]
 *
 * The lab uses it for the paper's "why": per layer, how far a tuned model's token features moved
 * from the pretrained backbone's on the same images (linear probing: exactly 1 everywhere).
 *
 * Rows arrive in batches, so the accumulator keeps the three cross-product sums and the column
 * sums, all p×p-sized at most, never the rows themselves: memory is independent of the row count.
 * Rows are shifted by the first batch's column means before they are summed (the "shifted data"
 * form of the variance), so float32 sums do not lose the spread to a large common mean.
 */
import * as tf from '@tensorflow/tfjs';

/** Reference implementation on plain arrays (row-major x [n, p], y [n, q]), in float64. */
export function linearCka(x: ArrayLike<number>, y: ArrayLike<number>, n: number, p: number, q: number): number {
  const xc = centred(x, n, p),
    yc = centred(y, n, q);
  const cross = gram(yc, xc, n, q, p); // [q, p]
  const xx = gram(xc, xc, n, p, p); // [p, p]
  const yy = gram(yc, yc, n, q, q); // [q, q]
  return ckaFromProducts(frobeniusSq(cross), frobeniusSq(xx), frobeniusSq(yy));
}

/** CKA from the squared Frobenius norms of Ycᵀ Xc, Xcᵀ Xc and Ycᵀ Yc. Constant features give NaN. */
export function ckaFromProducts(crossSq: number, xxSq: number, yySq: number): number {
  const denom = Math.sqrt(xxSq) * Math.sqrt(yySq);
  return denom > 0 ? crossSq / denom : NaN;
}

function centred(a: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = Float64Array.from(a as ArrayLike<number>);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += out[i * d + j];
    m /= n;
    for (let i = 0; i < n; i++) out[i * d + j] -= m;
  }
  return out;
}

/** aᵀ b for a [n, p], b [n, q] -> [p, q]. */
function gram(a: Float64Array, b: Float64Array, n: number, p: number, q: number): Float64Array {
  const out = new Float64Array(p * q);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < p; r++) {
      const av = a[i * p + r];
      if (av === 0) continue;
      for (let c = 0; c < q; c++) out[r * q + c] += av * b[i * q + c];
    }
  }
  return out;
}

function frobeniusSq(m: Float64Array): number {
  let s = 0;
  for (const v of m) s += v * v;
  return s;
}

/**
 * Running linear CKA between two feature sets fed in batches of the same rows. Owns a few tensors
 * (the sums); call dispose() when done.
 */
export class LinearCkaAccumulator {
  private n = 0;
  private shiftX: tf.Tensor1D | null = null; // [p]
  private shiftY: tf.Tensor1D | null = null; // [q]
  private sumX: tf.Tensor1D | null = null; // [p] Σ (x − shift)
  private sumY: tf.Tensor1D | null = null; // [q]
  private xx: tf.Tensor2D | null = null; // [p, p] Σ (x − shift)ᵀ(x − shift)
  private yy: tf.Tensor2D | null = null; // [q, q]
  private yx: tf.Tensor2D | null = null; // [q, p]

  /** Add rows: x [b, p] and y [b, q] describe the same b rows. The caller keeps its tensors. */
  add(x: tf.Tensor2D, y: tf.Tensor2D): void {
    if (x.shape[0] !== y.shape[0]) throw new Error(`CKA rows differ: x has ${x.shape[0]}, y has ${y.shape[0]}.`);
    if (x.shape[0] === 0) return;
    if (!this.shiftX) {
      this.shiftX = tf.keep(tf.mean(x, 0) as tf.Tensor1D);
      this.shiftY = tf.keep(tf.mean(y, 0) as tf.Tensor1D);
    }
    const next = tf.tidy(() => {
      const xs = tf.sub(x, this.shiftX!) as tf.Tensor2D; // [b, p]
      const ys = tf.sub(y, this.shiftY!) as tf.Tensor2D; // [b, q]
      const add = <T extends tf.Tensor>(acc: T | null, v: T): T => (acc ? (tf.add(acc, v) as T) : v);
      return {
        sumX: add(this.sumX, tf.sum(xs, 0) as tf.Tensor1D),
        sumY: add(this.sumY, tf.sum(ys, 0) as tf.Tensor1D),
        xx: add(this.xx, tf.matMul(xs, xs, true, false)),
        yy: add(this.yy, tf.matMul(ys, ys, true, false)),
        yx: add(this.yx, tf.matMul(ys, xs, true, false)),
      };
    });
    disposeAll([this.sumX, this.sumY, this.xx, this.yy, this.yx]);
    // kept: add() may run inside a caller's tf.tidy, which must not take the running sums with it.
    for (const t of Object.values(next)) tf.keep(t);
    Object.assign(this, next);
    this.n += x.shape[0];
  }

  /** Rows added so far. */
  get rows(): number {
    return this.n;
  }

  /** The CKA of everything added so far (NaN before any row). */
  async value(): Promise<number> {
    if (!this.n) return NaN;
    const n = this.n;
    const norms = tf.tidy(() => {
      // Centred products: Σ xsᵀxs − (Σxs)(Σxs)ᵀ / n, and likewise for the others.
      const outer = (a: tf.Tensor1D, b: tf.Tensor1D) => tf.div(tf.outerProduct(a, b), n);
      const cxx = tf.sub(this.xx!, outer(this.sumX!, this.sumX!));
      const cyy = tf.sub(this.yy!, outer(this.sumY!, this.sumY!));
      const cyx = tf.sub(this.yx!, outer(this.sumY!, this.sumX!));
      const sq = (m: tf.Tensor) => tf.sum(tf.square(m));
      return tf.stack([sq(cyx), sq(cxx), sq(cyy)]);
    });
    const [crossSq, xxSq, yySq] = Array.from(await norms.data());
    norms.dispose();
    return ckaFromProducts(crossSq, xxSq, yySq);
  }

  dispose(): void {
    disposeAll([this.shiftX, this.shiftY, this.sumX, this.sumY, this.xx, this.yy, this.yx]);
    this.shiftX = this.shiftY = this.sumX = this.sumY = this.xx = this.yy = this.yx = null;
    this.n = 0;
  }
}

function disposeAll(ts: (tf.Tensor | null)[]): void {
  for (const t of ts) t?.dispose();
}

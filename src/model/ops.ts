/**
 * The four operations a ViT is made of (linear, LayerNorm, GELU, attention), as one `Kernels`
 * object that the model is handed with its weights. A backend may bring faster ones (see
 * src/kernels/: `kernelsFor(backend)`); the model code never asks which it got.
 *
 * Whether a weight trains belongs to the weight: a trainable `tf.Variable` trains, any other
 * tensor is frozen (`trains`). The linear layer reads that once per call and, for a frozen
 * weight, computes no dW at all (VPT and linear probing backpropagate through activations only).
 *
 * Why a custom gradient for `linear`: tfjs' MatMul gradient uses transposed products
 * (dX = dY·Wᵀ, dW = Xᵀ·dY via transposeA/transposeB). On the WASM backend those run at
 * 1–3 GFLOP/s against 17–28 GFLOP/s for a plain product, so the stock kernels transpose
 * explicitly and multiply plainly (`stockProducts`).
 */
import * as tf from '@tensorflow/tfjs';

export interface Kernels {
  /** y = x·W + b for x [N, in], W [in, out], b [out]; dW and db only when W or b trains. */
  linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D;
  /** LayerNorm over the last axis with γ, β [D]. */
  layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor;
  /** Exact (erf) GELU, element-wise. */
  gelu(x: tf.Tensor): tf.Tensor;
  /** softmax(q·kᵀ·scale)·v for q, k, v [B·H, T, hd] -> [B·H, T, hd]. */
  attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D;
}

/** A weight trains when it is a trainable tf.Variable, and only then. */
export function trains(t: tf.Tensor | null): boolean {
  return t instanceof tf.Variable && t.trainable;
}

/** The three products of a linear layer and its gradients, as one backend computes them. */
export interface LinearProducts {
  /** x·W (+ b): [N, out]. */
  forward(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D;
  /** dX = dY·Wᵀ: [N, in]. */
  inputGrad(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D;
  /** dW = Xᵀ·dY: [in, out]. */
  weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D;
  /** db = Σ_rows dY: [out] (default: tfjs' Sum, which on WASM transposes first). */
  biasGrad?(dy: tf.Tensor2D): tf.Tensor1D;
}

/**
 * A linear layer with a hand-written gradient over `p`'s products. A frozen layer is a function
 * of x alone, so only dX is ever computed; a training one saves x and W for dX, dW and db.
 */
export function linearWith(p: LinearProducts): Kernels['linear'] {
  return (x, w, b) => {
    if (!trains(w) && !trains(b)) {
      const frozen = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
        // tidy: the forward's intermediate product must not outlive the call.
        value: tf.tidy(() => p.forward(args[0] as tf.Tensor2D, w, b)),
        gradFunc: (dy: tf.Tensor) => tf.tidy(() => p.inputGrad(dy as tf.Tensor2D, w)),
      }));
      return frozen(x) as tf.Tensor2D;
    }
    // In a tidy: tfjs frees nothing a gradient function makes (Wᵀ, Xᵀ) until the whole backward
    // pass ends, which held 420 MB of transposes at the peak of a ViT-B/16 FT step at batch 1.
    const grads = (dy: tf.Tensor2D, [xs, ws]: tf.Tensor2D[]) => tf.tidy(() => [p.inputGrad(dy, ws), p.weightGrad(xs, dy)]);
    const biasGrad = (dy: tf.Tensor2D) => tf.tidy(() => p.biasGrad?.(dy) ?? tf.sum(dy, 0));
    if (b) {
      const withBias = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [xi, wi, bi] = args as tf.Tensor[];
        (args[3] as tf.GradSaveFunc)([xi, wi]);
        return {
          value: tf.tidy(() => p.forward(xi as tf.Tensor2D, wi as tf.Tensor2D, bi as tf.Tensor1D)),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [...grads(dy as tf.Tensor2D, saved as tf.Tensor2D[]), biasGrad(dy as tf.Tensor2D)], // dX, dW, db [out]
        };
      });
      return withBias(x, w, b) as tf.Tensor2D;
    }
    const noBias = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, wi] = args as tf.Tensor[];
      (args[2] as tf.GradSaveFunc)([xi, wi]);
      return {
        value: tf.tidy(() => p.forward(xi as tf.Tensor2D, wi as tf.Tensor2D, null)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grads(dy as tf.Tensor2D, saved as tf.Tensor2D[]),
      };
    });
    return noBias(x, w) as tf.Tensor2D;
  };
}

/** Plain products against explicit transposes: the fast form on WASM (see the file comment). */
export const stockProducts: LinearProducts = {
  forward: (x, w, b) => (b ? tf.add(tf.matMul(x, w), b) : tf.matMul(x, w)),
  inputGrad: (dy, w) => tf.matMul(dy, tf.transpose(w)),
  weightGrad: (x, dy) => tf.matMul(tf.transpose(x), dy),
};

/** LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · γ + β, biased variance. */
function layerNormStock(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  const axis = x.rank - 1;
  const mean = tf.mean(x, axis, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), axis, true);
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, gamma), beta);
}

/** Exact GELU: x · Φ(x) = 0.5 · x · (1 + erf(x / √2)). */
function geluStock(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** softmax(q·kᵀ · scale) · v, one softmax per query row; q, k, v [B·H, T, hd]. */
function attentionStock(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  const scores = tf.mul(tf.matMul(q, k, false, true), scale); // [BH, T, T]
  const probs = tf.softmax(scores, -1);
  return tf.matMul(probs, v); // [BH, T, hd]
}

/** The lab's portable kernels: tfjs ops, with the explicit-transpose linear gradient. */
export const stockKernels: Kernels = {
  linear: linearWith(stockProducts),
  layerNorm: layerNormStock,
  gelu: geluStock,
  attention: attentionStock,
};

/**
 * Plain tfjs: y = x·W + b with tfjs' own MatMul gradient (transposed products, computed lazily per
 * input, so a frozen weight still gets no dW). The fast form on the plain-JS CPU backend, where an
 * explicit transpose costs more than a transposed product; on WASM it is 5–6x slower than
 * `stockKernels`' linear. Benchmarks measure it as "stock tfjs".
 */
export const tfjsKernels: Kernels = {
  ...stockKernels,
  linear: (x, w, b) => (b ? tf.add(tf.matMul(x, w), b) : tf.matMul(x, w)) as tf.Tensor2D,
};

// ---- shape operations that save nothing for the backward pass ----
//
// tfjs' gradients of Reshape, Add, Slice and Concat read only their inputs' shapes, yet save the
// input tensors themselves, so each input's buffer lives until the backward pass reaches it. In a
// ViT block that kept the qkv product (3·T·D per image), the attention context, the residual
// branches and both residual inputs, the token splice's slices: about 9·T·D per image and layer
// that PyTorch's autograd, which saves sizes, does not keep. These run tfjs' own kernels forward
// (the same values) and give the same gradients, from shapes taken at the call.

/** tf.reshape, saving nothing: dx = dy reshaped back. */
export function reshape<R extends tf.Rank>(x: tf.Tensor, shape: number[]): tf.Tensor<R> {
  const from = x.shape.slice();
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.reshape(args[0] as tf.Tensor, shape),
    gradFunc: (dy: tf.Tensor) => tf.reshape(dy, from),
  }));
  return f(x) as tf.Tensor<R>;
}

/**
 * a + b for a and b of one shape (a residual connection), saving nothing: both gradients are dy
 * (the second a copy sharing its buffer, so that each gradient is its own tensor).
 */
export function residual<T extends tf.Tensor>(a: T, b: T): T {
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new Error(`residual: shapes [${a.shape}] and [${b.shape}] differ.`);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.add(args[0] as tf.Tensor, args[1] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => [dy, tf.clone(dy)],
  }));
  return f(a, b) as T;
}

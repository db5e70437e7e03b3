/**
 * The few operations a ViT is made of, each written once so a faster kernel can replace it
 * (see `setKernelOverrides`) without the model code changing.
 *
 * Why a custom gradient for `linear`: tfjs' MatMul gradient uses transposed products
 * (dX = dY·Wᵀ, dW = Xᵀ·dY via transposeA/transposeB). On the WASM backend those run at
 * 1–3 GFLOP/s against 17–28 GFLOP/s for a plain product, so we transpose explicitly and
 * multiply plainly. It also lets a frozen weight skip its dW entirely: a weight that is not
 * passed as a differentiable input gets no gradient computed.
 */
import * as tf from '@tensorflow/tfjs';

/** Optional faster implementations (e.g. fused WebGPU kernels); null = stock tfjs path. */
export interface KernelOverrides {
  linear?: typeof linearStock;
  layerNorm?: typeof layerNormStock;
  gelu?: typeof geluStock;
  attention?: typeof attentionStock;
}

/** Faster kernels per backend, installed by the backend's set-up (e.g. WASM's batched products). */
const byBackend = new Map<string, KernelOverrides>();
/** Overrides forced for every backend (benchmarks use this to measure the stock path). */
let forced: KernelOverrides | null = null;

/** Install faster kernels for one backend; they are used whenever that backend is active. */
export function registerKernelOverrides(backend: string, o: KernelOverrides): void {
  byBackend.set(backend, o);
}

/** Force one set of kernels on every backend ({} = plain stock path); null = per-backend again. */
export function setKernelOverrides(o: KernelOverrides | null): void {
  forced = o;
}

export function getKernelOverrides(): KernelOverrides | null {
  return forced;
}

function active(): KernelOverrides {
  return forced ?? byBackend.get(tf.getBackend()) ?? {};
}

/**
 * y = x·W + b for x [N, in], W [in, out], b [out].
 * `gradW` false: W and b are frozen; only dX flows back (VPT and linear probing).
 */
function linearStock(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, gradW: boolean): tf.Tensor2D {
  if (!gradW) {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const xi = args[0] as tf.Tensor;
      return {
        // tidy: the forward's intermediate product must not outlive the call.
        value: tf.tidy(() => (b ? tf.add(tf.matMul(xi as tf.Tensor2D, w), b) : tf.matMul(xi as tf.Tensor2D, w))),
        // dX = dY·Wᵀ, written as a plain product against an explicit transpose.
        gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, tf.transpose(w)),
      };
    });
    return f(x) as tf.Tensor2D;
  }
  if (b) {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, wi, bi] = args as tf.Tensor[];
      (args[3] as tf.GradSaveFunc)([xi, wi]);
      return {
        value: tf.tidy(() => tf.add(tf.matMul(xi as tf.Tensor2D, wi as tf.Tensor2D), bi)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
          return [
            tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), // dX [N, in]
            tf.matMul(tf.transpose(xs), dy as tf.Tensor2D), // dW [in, out]
            tf.sum(dy, 0), // db [out]
          ];
        },
      };
    });
    return f(x, w, b) as tf.Tensor2D;
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([xi, wi]);
    return {
      value: tf.matMul(xi as tf.Tensor2D, wi as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
      },
    };
  });
  return f(x, w) as tf.Tensor2D;
}

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

/**
 * Scaled dot-product attention for q, k, v [B·H, T, hd] → [B·H, T, hd].
 * softmax(q·kᵀ · scale) · v, one softmax per query row.
 */
function attentionStock(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  const scores = tf.mul(tf.matMul(q, k, false, true), scale); // [BH, T, T]
  const probs = tf.softmax(scores, -1);
  return tf.matMul(probs, v); // [BH, T, hd]
}

export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, gradW = true): tf.Tensor2D {
  return (active().linear ?? linearStock)(x, w, b, gradW);
}

export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  return (active().layerNorm ?? layerNormStock)(x, gamma, beta, eps);
}

export function gelu(x: tf.Tensor): tf.Tensor {
  return (active().gelu ?? geluStock)(x);
}

export function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  return (active().attention ?? attentionStock)(q, k, v, scale);
}

/**
 * y = x·W + b with tfjs' own MatMul gradient (transposed products, lazily per input, so frozen
 * weights still get no dW). The fast form on the plain-JS CPU backend, where an explicit transpose
 * costs more than a transposed product; on WASM it is 5–6x slower than `linear`'s gradient.
 */
export function plainLinear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  return (b ? tf.add(tf.matMul(x, w), b) : tf.matMul(x, w)) as tf.Tensor2D;
}

export const stockOps = { linear: linearStock, layerNorm: layerNormStock, gelu: geluStock, attention: attentionStock };

/**
 * Attention for the WASM backend: the same math as the stock path (softmax(q·kᵀ·scale)·v) with a
 * hand-written gradient. Every per-head product is the lab's SIMD product (fused.ts gemmFused: whole
 * heads per thread, the [T, T] maps read transposed in place), or where that is not installed
 * `bmm` (XNNPACK's 2-D product per head on zero-copy views, bmm.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { linearWith, stockKernels, stockProducts, type Kernels, type LinearProducts } from '../../model/ops';
import { bmm, isAvailable, registerLabBmm } from './bmm';
import { guardMalloc, registerSharingIdentity } from './heap';
import { columnSum, fusedAvailable, gemmFused, geluFused, layerNormFused, registerFused, softmaxGrad } from './fused';
import { geluLean, layerNormLean } from './pointwise';
import { registerHeapSlice } from './slice';
import { registerHeapTranspose } from './transpose';

const t12 = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;
/** a·b per head: the lab's SIMD product where it is installed, else XNNPACK's. */
const nn = (a: tf.Tensor3D, b: tf.Tensor3D) => gemmFused(a, b) ?? bmm(a, b);
/** aᵀ·b per head, a read transposed in place where the SIMD product applies (no [BH, T, T] transpose). */
const tn = (a: tf.Tensor3D, b: tf.Tensor3D) => gemmFused(a, b, true) ?? bmm(t12(a), b);

function attentionWasm(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi] = args as tf.Tensor3D[];
    // The scale goes on q [BH, T, hd] rather than on the scores [BH, T, T]: T/hd times fewer
    // multiplies each way, and for hd = 64 (scale 1/8, a power of two) the very same floats.
    const probs = tf.tidy(() => tf.softmax(nn(tf.mul(qi, scale) as tf.Tensor3D, t12(ki)), -1)) as tf.Tensor3D; // [BH, T, T]
    (args[3] as tf.GradSaveFunc)([qi, ki, vi, probs]);
    return {
      value: tf.tidy(() => nn(probs, vi)), // [BH, T, hd]
      // In a tidy: tfjs frees nothing a gradient function makes until the whole backward pass
      // ends, so the [BH, T, T] temporaries of every layer would otherwise pile up.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qs, ks, vs, p] = saved as tf.Tensor3D[];
          const dO = dy as tf.Tensor3D;
          const dV = tn(p, dO); // [BH, T, hd]
          const dP = nn(dO, t12(vs)); // [BH, T, T]
          const dS = softmaxGrad(p, dP); // [BH, T, T], the gradient of the scores (q·scale)·kᵀ
          return [tf.mul(nn(dS, ks), scale), tf.mul(tn(dS, qs), scale), dV]; // dq, dk [BH, T, hd]
        }),
    };
  });
  return f(q, k, v) as tf.Tensor3D;
}

/**
 * A linear layer's products with the bias added inside XNNPACK's product (tfjs' fused matmul on
 * WASM: one threaded kernel), instead of a separate single-threaded Add over the [N, out] output.
 */
const wasmProducts: LinearProducts = {
  ...stockProducts,
  forward: (x, w, b) => (b ? tf.fused.matMul({ a: x, b: w, bias: b }) : tf.matMul(x, w)) as tf.Tensor2D,
  weightGrad,
};

/**
 * dW [in, out] = Xᵀ·dY for x [N, in], dy [N, out]. XNNPACK repacks a product's right operand on
 * every call, on one thread: for fc1 and qkv (in < out) that is dY's N·out floats, the larger
 * operand. There the product is taken the other way round, (dYᵀ·X)ᵀ, packing X's N·in floats
 * instead (the transposes are of dY and of the small [out, in] result).
 */
function weightGrad(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (x.shape[1] >= dy.shape[1]) return tf.matMul(tf.transpose(x), dy) as tf.Tensor2D;
  return tf.transpose(tf.matMul(tf.transpose(dy), x)) as tf.Tensor2D; // [out, N]·[N, in] -> [out, in] -> [in, out]
}

/** With the SIMD kernels: db as one pass over dY's rows (fused.ts), not tfjs' transpose-then-Sum. */
const wasmProductsSimd: LinearProducts = { ...wasmProducts, biasGrad: columnSum };

/**
 * The WASM backend's kernels: linear layers with the bias inside the product, GELU and LayerNorm as
 * one SIMD pass each way (fused.ts), and this attention when the backend's internals are what we
 * expect. Heap safety comes first: a failed allocation throws (never writes at address 0), and
 * tensors saved for the backward pass share their buffer instead of being copied (see heap.ts);
 * Slice and SplitV copy only what they return (slice.ts); transposes that swap two axes are SIMD
 * block copies (transpose.ts). All are installed on the running WASM
 * module, once.
 */
export function wasmKernels(): Kernels {
  guardMalloc();
  registerSharingIdentity();
  registerHeapSlice();
  const fused = fusedAvailable();
  if (fused) {
    registerFused();
    registerHeapTranspose();
  }
  const lean: Kernels = fused
    ? { ...stockKernels, linear: linearWith(wasmProductsSimd), layerNorm: layerNormFused, gelu: geluFused }
    : { ...stockKernels, linear: linearWith(wasmProducts), layerNorm: layerNormLean, gelu: geluLean };
  if (!isAvailable()) return lean;
  registerLabBmm();
  return { ...lean, attention: attentionWasm };
}

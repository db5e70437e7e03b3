/**
 * The lab's own WebGPU kernels for the ViT's hot operations, as `Kernels` for src/model/ops.ts.
 * Each takes its kernel only when it applies (WebGPU backend active, float32, shapes the kernel
 * handles) and otherwise calls the stock path, so using them is always safe.
 */
import type * as tf from '@tensorflow/tfjs';
import { linearWith, stockKernels, type Kernels, type LinearProducts } from '../../model/ops';
import { onWebGPU } from './common';
import { labAttention, MAX_HEAD_DIM } from './attention';
import { labBiasGelu } from './gelu';
import { labLayerNorm } from './layernorm';
import { labMatMul } from './matmul';

export { labAttention, labBiasGelu, labLayerNorm, labMatMul };

/** How many times each override took the lab kernel (tests use this to see the wiring is live). */
export const labKernelCalls = { matmul: 0, layerNorm: 0, gelu: 0, attention: 0 };

const f32 = (...ts: (tf.Tensor | null)[]) => ts.every((t) => !t || t.dtype === 'float32');

/** The linear layer's products on the lab's tiled matmul (bias fused into the forward). */
const labProducts: LinearProducts = {
  forward: (x, w, b) => labMatMul(x, w, { bias: b }),
  inputGrad: (dy, w) => labMatMul(dy, w, { transB: true }),
  weightGrad: (x, dy) => labMatMul(x, dy, { transA: true }),
};
const labLinearOnGpu = linearWith(labProducts);

function linearLab(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  if (!onWebGPU() || !f32(x, w, b)) return stockKernels.linear(x, w, b);
  labKernelCalls.matmul++;
  return labLinearOnGpu(x, w, b);
}

function layerNormLab(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  if (!onWebGPU() || !f32(x, gamma, beta) || x.rank < 1) return stockKernels.layerNorm(x, gamma, beta, eps);
  labKernelCalls.layerNorm++;
  return labLayerNorm(x, gamma, beta, eps);
}

function geluLab(x: tf.Tensor): tf.Tensor {
  if (!onWebGPU() || !f32(x) || x.rank < 1) return stockKernels.gelu(x);
  labKernelCalls.gelu++;
  return labBiasGelu(x);
}

function attentionLab(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  const hd = q.shape[2];
  if (!onWebGPU() || !f32(q, k, v) || hd > MAX_HEAD_DIM || hd < 1) return stockKernels.attention(q, k, v, scale);
  labKernelCalls.attention++;
  return labAttention(q, k, v, scale);
}

/** The lab's WebGPU kernels, each falling back to stock where it does not apply. */
export function webgpuKernels(): Kernels {
  return { linear: linearLab, layerNorm: layerNormLab, gelu: geluLab, attention: attentionLab };
}

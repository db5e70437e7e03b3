/**
 * The lab's own WebGPU kernels for the ViT's hot operations, as `KernelOverrides` for
 * src/model/ops.ts. Each override takes its kernel only when it applies (WebGPU backend active,
 * float32, shapes the kernel handles, flag on) and otherwise calls the stock path, so installing
 * the overrides is always safe.
 *
 * Flags: `setWebgpuKernelFlags({ attention: false })` turns one kernel off (stock path) at run
 * time; in the page, `?kernels=stock` or `?kernels=attention,gelu` (enable list) does the same
 * before start-up via `webgpuKernelFlagsFromQuery`.
 */
import * as tf from '@tensorflow/tfjs';
import { stockOps, type KernelOverrides } from '../../model/ops';
import { onWebGPU } from './common';
import { labAttention, MAX_HEAD_DIM } from './attention';
import { labBiasGelu } from './gelu';
import { labLayerNorm } from './layernorm';
import { labMatMul } from './matmul';

export { labAttention, labBiasGelu, labLayerNorm, labMatMul };

export interface WebgpuKernelFlags {
  matmul: boolean;
  layerNorm: boolean;
  gelu: boolean;
  attention: boolean;
}

const ALL_ON: WebgpuKernelFlags = { matmul: true, layerNorm: true, gelu: true, attention: true };
let flags: WebgpuKernelFlags = { ...ALL_ON };

export function setWebgpuKernelFlags(f: Partial<WebgpuKernelFlags>): void {
  flags = { ...flags, ...f };
}

export function getWebgpuKernelFlags(): WebgpuKernelFlags {
  return { ...flags };
}

/** 'stock' → all off; 'lab' or 'all' → all on; a comma list → exactly those on. */
export function parseWebgpuKernelFlags(spec: string | null | undefined): WebgpuKernelFlags {
  if (!spec || spec === 'lab' || spec === 'all') return { ...ALL_ON };
  if (spec === 'stock' || spec === 'none') return { matmul: false, layerNorm: false, gelu: false, attention: false };
  const on = new Set(spec.split(',').map((s) => s.trim()));
  return { matmul: on.has('matmul'), layerNorm: on.has('layerNorm') || on.has('layernorm'), gelu: on.has('gelu'), attention: on.has('attention') };
}

/** How many times each override took the lab kernel (tests use this to see the wiring is live). */
export const labKernelCalls = { matmul: 0, layerNorm: 0, gelu: 0, attention: 0 };

const f32 = (...ts: (tf.Tensor | null)[]) => ts.every((t) => !t || t.dtype === 'float32');

function linearLab(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null, gradW: boolean): tf.Tensor2D {
  if (!flags.matmul || !onWebGPU() || !f32(x, w, b)) return stockOps.linear(x, w, b, gradW);
  const bias = b ?? null;
  labKernelCalls.matmul++;
  if (!gradW) {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: labMatMul(args[0] as tf.Tensor2D, w, { bias }),
      gradFunc: (dy: tf.Tensor) => labMatMul(dy as tf.Tensor2D, w, { transB: true }), // dX = dY·Wᵀ
    }));
    return f(x) as tf.Tensor2D;
  }
  if (bias) {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, wi, bi] = args as tf.Tensor2D[];
      (args[3] as tf.GradSaveFunc)([xi, wi]);
      return {
        value: labMatMul(xi, wi, { bias: bi as unknown as tf.Tensor1D }),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ws] = saved as tf.Tensor2D[];
          return [labMatMul(dy as tf.Tensor2D, ws, { transB: true }), labMatMul(xs, dy as tf.Tensor2D, { transA: true }), tf.sum(dy, 0)];
        },
      };
    });
    return f(x, w, bias) as tf.Tensor2D;
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi] = args as tf.Tensor2D[];
    (args[2] as tf.GradSaveFunc)([xi, wi]);
    return {
      value: labMatMul(xi, wi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as tf.Tensor2D[];
        return [labMatMul(dy as tf.Tensor2D, ws, { transB: true }), labMatMul(xs, dy as tf.Tensor2D, { transA: true })];
      },
    };
  });
  return f(x, w) as tf.Tensor2D;
}

function layerNormLab(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  if (!flags.layerNorm || !onWebGPU() || !f32(x, gamma, beta) || x.rank < 1) return stockOps.layerNorm(x, gamma, beta, eps);
  labKernelCalls.layerNorm++;
  return labLayerNorm(x, gamma, beta, eps);
}

function geluLab(x: tf.Tensor): tf.Tensor {
  if (!flags.gelu || !onWebGPU() || !f32(x) || x.rank < 1) return stockOps.gelu(x);
  labKernelCalls.gelu++;
  return labBiasGelu(x);
}

function attentionLab(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  const hd = q.shape[2];
  if (!flags.attention || !onWebGPU() || !f32(q, k, v) || hd > MAX_HEAD_DIM || hd < 1) return stockOps.attention(q, k, v, scale);
  labKernelCalls.attention++;
  return labAttention(q, k, v, scale);
}

/** Overrides for `setKernelOverrides`: the lab's WebGPU kernels, each falling back to stock. */
export function webgpuKernelOverrides(): KernelOverrides {
  return { linear: linearLab, layerNorm: layerNormLab, gelu: geluLab, attention: attentionLab };
}

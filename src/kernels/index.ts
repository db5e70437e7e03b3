/**
 * Which kernels a backend runs the model with: a pure choice from the backend's name, made where
 * a model is put together (session, trainer, bench, verify), never switched behind its back.
 */
import { stockKernels, tfjsKernels, type Kernels } from '../model/ops';
import { wasmKernels } from './wasm/attention';
import { webgpuKernels } from './webgpu';

/** The lab's own kernels, or plain tfjs ops (to compare against: benchmarks, `verify --kernels stock`). */
export type KernelChoice = 'lab' | 'stock';
export const KERNEL_CHOICES: readonly KernelChoice[] = ['lab', 'stock'];

/** The lab's kernels for `backend` (tf.getBackend()'s name), or tfjs' own ops with 'stock'. */
export function kernelsFor(backend: string, choice: KernelChoice = 'lab'): Kernels {
  if (choice === 'stock') return tfjsKernels; // tfjs' own ops and gradients, nothing of the lab's
  switch (backend) {
    case 'wasm':
      return wasmKernels(); // attention through zero-copy 2-D products
    case 'webgpu':
      return webgpuKernels(); // the lab's fused shaders
    case 'cpu':
      return tfjsKernels; // an explicit transpose costs more than a transposed product here
    default:
      return stockKernels;
  }
}

/**
 * Which kernels a backend runs the model with: a pure choice from the backend's name, made where
 * a model is put together (session, trainer, bench, verify), never switched behind its back.
 */
import { stockKernels, tfjsKernels, type Kernels } from '../model/ops';
import { wasmKernels } from './wasm/attention';
import { webgpuKernels } from './webgpu';

/** The lab's kernels for `backend` (tf.getBackend()'s name). */
export function kernelsFor(backend: string): Kernels {
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

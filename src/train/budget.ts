/**
 * The memory budget of the running tfjs backend, for the planner (src/train/memory.ts):
 * WASM's 4 GiB heap less headroom; on WebGPU the device's buffer limits (tfjs asks for the
 * adapter's own) and a device-memory budget, which WebGPU does not report (given, or a default).
 */
import * as tf from '@tensorflow/tfjs';
import { hostBudget, wasmBudget, webgpuBudget, type MemoryBudget } from './memory';

interface WebgpuBackendLike {
  device?: { limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number } };
}

export function memoryBudget(opts: { deviceMemoryBytes?: number } = {}): MemoryBudget {
  const name = tf.getBackend();
  if (name === 'wasm') return wasmBudget();
  if (name === 'webgpu') {
    const limits = (tf.backend() as unknown as WebgpuBackendLike).device?.limits;
    // WebGPU's guaranteed minimums when the device does not say (it always does in practice).
    return webgpuBudget({ maxBufferSize: limits?.maxBufferSize ?? 256 * 2 ** 20, maxStorageBufferBindingSize: limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20 }, opts.deviceMemoryBytes);
  }
  return hostBudget(name === 'webgl' ? 'webgl' : 'cpu');
}

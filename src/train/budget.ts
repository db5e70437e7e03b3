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

/** The WebGPU device's memory where the host knows it (WebGPU does not say): bytes, and from where. */
let deviceMemory: { bytes: number; from: string } | undefined;

/**
 * Tell the planner how much memory the WebGPU device has for a run (a CLI's --gpu-memory, or
 * nvidia-smi's free memory, src/cli/backend.ts); undefined goes back to the default.
 */
export function setDeviceMemory(known: { bytes: number; from: string } | undefined): void {
  deviceMemory = known;
}

export function memoryBudget(opts: { deviceMemoryBytes?: number } = {}): MemoryBudget {
  const name = tf.getBackend();
  if (name === 'wasm') return wasmBudget();
  if (name === 'webgpu') {
    const limits = (tf.backend() as unknown as WebgpuBackendLike).device?.limits;
    // WebGPU's guaranteed minimums when the device does not say (it always does in practice).
    return webgpuBudget(
      { maxBufferSize: limits?.maxBufferSize ?? 256 * 2 ** 20, maxStorageBufferBindingSize: limits?.maxStorageBufferBindingSize ?? 128 * 2 ** 20 },
      opts.deviceMemoryBytes ?? deviceMemory?.bytes,
      opts.deviceMemoryBytes ? 'given' : deviceMemory?.from,
    );
  }
  return hostBudget(name === 'webgl' ? 'webgl' : 'cpu');
}

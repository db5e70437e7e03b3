/**
 * WebGPU in Node through Dawn (Chrome's WebGPU implementation, the npm `webgpu` package).
 *
 * tfjs' WebGPU backend registers itself only if `navigator.gpu` exists when its module runs, so
 * Dawn goes onto `navigator.gpu` first and the backend module is imported after it, both here
 * and only when WebGPU is asked for: a WASM or CPU run never loads the native module.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { LabError } from '../domain/errors';
import { looksSoftware } from './select';
import { describeVulkanProblem, findVulkan } from './vulkan';

/** The adapter Dawn gives, in the words a user needs: who made it, and is it real hardware. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  /** A software rasteriser (SwiftShader, llvmpipe): correct, and 30-100x slower than WASM. */
  software: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

interface GpuLike {
  requestAdapter(o?: { powerPreference?: string }): Promise<{
    info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
    isFallbackAdapter?: boolean;
    limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  } | null>;
}

let dawnGpu: GpuLike | null = null;

/** Load Dawn, put it on `navigator.gpu`, then let tfjs' WebGPU backend register. Idempotent. */
export async function installDawn(): Promise<void> {
  if (dawnGpu) return;
  let dawn: { create(flags: string[]): unknown; globals: object };
  try {
    dawn = (await import('webgpu')) as typeof dawn;
  } catch (e) {
    throw new LabError(
      'backend/unavailable',
      `WebGPU in Node needs Dawn, the npm package 'webgpu', which could not be loaded (${(e as Error).message.split('\n')[0]}).`,
      "Run npm install (it is one of the project's dev dependencies), or use --backend wasm.",
    );
  }
  Object.assign(globalThis, dawn.globals);
  dawnGpu = dawn.create([]) as GpuLike;
  const nav = (globalThis as { navigator?: object }).navigator;
  // Node 21+ has a navigator object (without gpu); Node 20 has none.
  if (nav) Object.defineProperty(nav, 'gpu', { value: dawnGpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawnGpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) {
    throw new LabError(
      'internal',
      "tfjs' WebGPU backend was loaded before Dawn was installed, so it did not register.",
      'Nothing may import @tensorflow/tfjs-backend-webgpu before installDawn() in a Node entry point.',
    );
  }
}

/** The adapter tfjs will get (it asks for the high-performance one), or null when there is none. */
export async function probeDawnAdapter(): Promise<AdapterReport | null> {
  await installDawn();
  let adapter: Awaited<ReturnType<GpuLike['requestAdapter']>>;
  try {
    adapter = await dawnGpu!.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    adapter = null;
  }
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const vendor = info.vendor || 'unknown vendor';
  const architecture = info.architecture || 'unknown architecture';
  const description = info.description || info.device || '';
  return {
    vendor,
    architecture,
    description,
    software: !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || looksSoftware(vendor, architecture, description),
    limits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
  };
}

/** "google swiftshader (SwiftShader driver 5.0.0), software" */
export function describeAdapter(a: AdapterReport): string {
  return `${a.vendor} ${a.architecture}${a.description ? ` (${a.description})` : ''}, ${a.software ? 'software (a CPU rasteriser: correct, and 30-100x slower than WASM)' : 'hardware'}`;
}

/**
 * Dawn on tfjs: install, find an adapter (a named error that says what to install when there is
 * none), and make 'webgpu' the active backend.
 */
export async function initDawnBackend(): Promise<AdapterReport> {
  const adapter = await probeDawnAdapter();
  if (!adapter) {
    const { what, fix } = describeVulkanProblem(findVulkan());
    throw new LabError('backend/unavailable', `No WebGPU adapter: ${what}.`, fix);
  }
  let ok = false;
  try {
    ok = await tf.setBackend('webgpu');
  } catch {
    ok = false;
  }
  if (!ok)
    throw new LabError(
      'backend/unavailable',
      `The WebGPU adapter ${describeAdapter(adapter)} was found, but tfjs could not open a device on it.`,
      'Check the GPU driver (vulkaninfo, nvidia-smi), or use --backend wasm.',
    );
  await tf.ready();
  return adapter;
}

/**
 * NVIDIA GPUs' memory from nvidia-smi (WebGPU does not report a device's memory), in bytes: the
 * GPU with the least free memory, since which GPU Dawn opened is not known. Null without
 * nvidia-smi or on any failure.
 */
export function nvidiaMemory(): { name: string; freeBytes: number; totalBytes: number } | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,memory.free', '--format=csv,noheader,nounits'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const gpus = out
      .trim()
      .split('\n')
      .map((l) => l.split(',').map((x) => x.trim()))
      .filter((f) => f.length === 3 && Number(f[1]) > 0 && Number(f[2]) >= 0)
      .map(([name, total, free]) => ({ name: name!, totalBytes: Number(total) * 2 ** 20, freeBytes: Number(free) * 2 ** 20 }));
    return gpus.length ? gpus.reduce((a, b) => (b.freeBytes < a.freeBytes ? b : a)) : null;
  } catch {
    return null;
  }
}

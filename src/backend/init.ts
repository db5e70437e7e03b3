/**
 * Browser/worker backend set-up: probe what the host offers, choose from the closed list with a
 * reason (select.ts), and initialise tfjs on it. Runs inside the engine worker.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { BACKENDS, type BackendName } from '../domain/run';
import { chooseBackend, looksSoftware, type BackendChoice, type HostCapabilities } from './select';
import { wasmThreading } from './threads';

// Threads only where the decision allows them (threads.ts: cross-origin isolation, and tfjs 4.22's
// threaded build failing inside bundled workers, tfjs#8513); otherwise SIMD on one thread.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', wasmThreading({ isolated: !!globalThis.crossOriginIsolated }).threaded);

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  description?: string;
  device?: string;
  isFallbackAdapter?: boolean;
}

export async function probeCapabilities(): Promise<HostCapabilities> {
  const caps: HostCapabilities = {
    webgpu: { available: false, software: false, description: 'none' },
    webgl: { available: false, software: false, description: 'none' },
    wasm: typeof WebAssembly === 'object',
  };
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } })?.gpu;
  if (gpu) {
    try {
      const adapter = (await gpu.requestAdapter()) as { info?: AdapterInfoLike; isFallbackAdapter?: boolean } | null;
      if (adapter) {
        const info: AdapterInfoLike = adapter.info ?? {};
        const name = [info.vendor, info.architecture, info.description || info.device].filter(Boolean).join(' ') || 'unknown adapter';
        const software = !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || looksSoftware(info.vendor, info.architecture, info.description, info.device);
        caps.webgpu = { available: true, software, description: software && !/swiftshader/i.test(name) ? `${name} (software)` : name };
      }
    } catch {
      /* no adapter */
    }
  }
  try {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : null;
    const gl = canvas?.getContext('webgl2') as WebGL2RenderingContext | null | undefined;
    if (gl) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
      caps.webgl = { available: true, software: looksSoftware(renderer), description: renderer };
    }
  } catch {
    /* no WebGL */
  }
  return caps;
}

/**
 * The WebGPU backend is a separate chunk (about a fifth of the engine's code), fetched only where
 * it can be used. Importing it twice is a no-op. (The lab's WebGPU kernels stay in the engine:
 * they use only the backend's types.)
 */
async function loadWebGPU(): Promise<void> {
  await import('@tensorflow/tfjs-backend-webgpu');
}

/** Probe, choose and initialise; falls through the list if a backend fails to start. */
export async function initBrowserBackend(override?: BackendName | null): Promise<BackendChoice> {
  const caps = await probeCapabilities();
  // A software adapter is never chosen unless asked for (select.ts), so its backend is not loaded.
  if (caps.webgpu.available && (!caps.webgpu.software || override === 'webgpu')) {
    try {
      await loadWebGPU();
    } catch {
      caps.webgpu = { ...caps.webgpu, available: false, description: `${caps.webgpu.description} (the WebGPU backend failed to load)` };
    }
  }
  let choice = chooseBackend(caps, override);
  for (let attempt = 0; attempt < BACKENDS.length; attempt++) {
    try {
      if (await tf.setBackend(choice.backend)) {
        await tf.ready();
        return choice;
      }
    } catch {
      /* fall through */
    }
    const failed = choice.backend;
    if (failed === 'webgpu') caps.webgpu.available = false;
    else if (failed === 'webgl') caps.webgl.available = false;
    else if (failed === 'wasm') caps.wasm = false;
    else break;
    const next = chooseBackend(caps, null);
    choice = { ...next, reason: `${failed} failed to initialise; ${next.reason}` };
  }
  await tf.setBackend('cpu');
  return { backend: 'cpu', adapter: 'JavaScript CPU', reason: 'every other backend failed to initialise', noWebGPU: true };
}

/**
 * Browser/worker backend set-up: probe what the host offers, choose from the closed list with a
 * reason (select.ts), and initialise tfjs on it. Runs inside the engine worker.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// The Emscripten glue of the threaded build as a file of its own, byte for byte as tfjs ships it:
// what each pthread worker loads (src/backend/wasm.ts says why not the bundled copy).
import threadedGlue from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
import { BACKENDS, type BackendName } from '../domain/run';
import { chooseBackend, looksSoftware, type BackendChoice, type HostCapabilities } from './select';
import { threadsFailed, wasmThreading, type WasmThreading } from './threads';
import { lastWasmThreadsError, pthreadWorkerSource, useWasmThreads, wasmThreadsConfigured, type ThreadedWasmFiles } from './wasm';

// tfjs' own start-up of its threaded build is the one that fails in a bundle (src/backend/wasm.ts):
// it only ever starts the single-threaded SIMD build here; threads start through useWasmThreads.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

let pthreadWorkerUrl: string | null = null;

/**
 * The threaded build's parts in the page. URLs are made absolute: the pthread workers run from a
 * blob: URL, against which a relative one does not resolve. The worker script is a blob of the
 * string tfjs ships (a string survives minification; the glue, a function, does not).
 */
const browserThreadedFiles: ThreadedWasmFiles = {
  get glue() {
    return new URL(threadedGlue, self.location.href).href;
  },
  get worker() {
    pthreadWorkerUrl ??= URL.createObjectURL(new Blob([pthreadWorkerSource(wasmWorkerContents)], { type: 'text/javascript' }));
    return pthreadWorkerUrl;
  },
  async instantiate(imports) {
    const url = new URL(wasmThreaded, self.location.href).href;
    try {
      return await WebAssembly.instantiateStreaming(fetch(url, { credentials: 'same-origin' }), imports);
    } catch {
      // A host that serves .wasm without application/wasm: compile from the bytes instead.
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return WebAssembly.instantiate(await response.arrayBuffer(), imports);
    }
  },
};

export interface BrowserBackendOptions {
  /** WASM threads asked for (benchmarks, tests); by default one per logical core, up to the cap. */
  threads?: number;
}

/** The WASM threading decision for this worker, applied to tfjs before it starts WASM. */
function prepareWasm(opts: BrowserBackendOptions): WasmThreading {
  const decided = wasmThreading({ isolated: !!globalThis.crossOriginIsolated, cores: globalThis.navigator?.hardwareConcurrency ?? 1, asked: opts.threads });
  if (decided.threads !== wasmThreadsConfigured() || !tf.findBackendFactory('wasm')) useWasmThreads(decided.threads, browserThreadedFiles);
  return decided;
}

/** Start WASM as decided; when the threaded build does not start, one thread, saying why. */
async function startWasm(opts: BrowserBackendOptions): Promise<WasmThreading | null> {
  const decided = prepareWasm(opts);
  if (tf.getBackend() === 'wasm' || (await tf.setBackend('wasm'))) return decided;
  if (decided.threads === 1) return null;
  useWasmThreads(1);
  return (await tf.setBackend('wasm')) ? threadsFailed(lastWasmThreadsError() ?? 'unknown error') : null;
}

/** The badge's words for WASM: SIMD, and how many threads. */
export function wasmAdapter(threading: WasmThreading): string {
  return `WebAssembly (SIMD, ${threading.threads} thread${threading.threads === 1 ? '' : 's'})`;
}

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
        const software =
          !!(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || looksSoftware(info.vendor, info.architecture, info.description, info.device);
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
export async function initBrowserBackend(override?: BackendName | null, opts: BrowserBackendOptions = {}): Promise<BackendChoice> {
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
      if (choice.backend === 'wasm') {
        const threads = await startWasm(opts);
        if (threads) {
          await tf.ready();
          return { ...choice, adapter: wasmAdapter(threads), threads };
        }
      } else if (await tf.setBackend(choice.backend)) {
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

/**
 * Backend choice: a closed list, an explicit reason, and an override. Pure logic over what the
 * host reports, so it is tested without a browser.
 */
import type { BackendName } from '../domain/run';
import type { WasmThreading } from './threads';

/** What the host offers, as probed (see init.ts). */
export interface HostCapabilities {
  /** WebGPU adapter found, and whether it is a software one (SwiftShader / fallback). */
  webgpu: { available: boolean; software: boolean; description: string };
  /** WebGL2 context available, and whether its renderer is software. */
  webgl: { available: boolean; software: boolean; description: string };
  wasm: boolean;
}

export interface BackendChoice {
  backend: BackendName;
  /** The adapter or renderer in words ("NVIDIA … via WebGPU", "SwiftShader", "WASM SIMD"). */
  adapter: string;
  /** Why this backend: shown in the page's badge and logged. */
  reason: string;
  /** True when WebGPU could not be used at all (the page shows a banner naming the fallback). */
  noWebGPU: boolean;
  /** WASM: how many threads run, and why not more (set once the backend has started). */
  threads?: WasmThreading;
}

/**
 * Preference: a hardware WebGPU adapter; else a hardware WebGL; else WASM (a software GPU adapter
 * is ~30× slower than WASM for a matmul on the same CPU); else the plain CPU backend.
 * `override` wins when the host has it.
 */
export function chooseBackend(caps: HostCapabilities, override?: BackendName | null): BackendChoice {
  const noWebGPU = !caps.webgpu.available;
  const describe = (b: BackendName) =>
    b === 'webgpu' ? caps.webgpu.description : b === 'webgl' ? caps.webgl.description : b === 'wasm' ? 'WebAssembly (SIMD)' : 'JavaScript CPU';
  const has = (b: BackendName) => (b === 'webgpu' ? caps.webgpu.available : b === 'webgl' ? caps.webgl.available : b === 'wasm' ? caps.wasm : true);
  if (override) {
    if (has(override)) return { backend: override, adapter: describe(override), reason: `chosen by you (override '${override}')`, noWebGPU };
    const fallback = chooseBackend(caps, null);
    return { ...fallback, reason: `'${override}' was asked for but is not available here; ${fallback.reason}` };
  }
  if (caps.webgpu.available && !caps.webgpu.software) {
    return { backend: 'webgpu', adapter: describe('webgpu'), reason: 'a hardware WebGPU adapter is available', noWebGPU };
  }
  if (caps.webgl.available && !caps.webgl.software) {
    return {
      backend: 'webgl',
      adapter: describe('webgl'),
      reason: caps.webgpu.available ? 'WebGPU only has a software adapter; hardware WebGL is faster' : 'no WebGPU here; hardware WebGL is the fastest option',
      noWebGPU,
    };
  }
  if (caps.wasm) {
    const why = caps.webgpu.available
      ? `the only WebGPU adapter is software (${caps.webgpu.description}), about 30× slower than WASM for a matmul`
      : 'no GPU adapter is available; WASM is the fastest CPU backend';
    return { backend: 'wasm', adapter: describe('wasm'), reason: why, noWebGPU };
  }
  return { backend: 'cpu', adapter: describe('cpu'), reason: 'neither a GPU nor WebAssembly is available', noWebGPU };
}

/** Recognise software adapters by the names they report. */
export function looksSoftware(...names: (string | undefined)[]): boolean {
  return names.some((n) => !!n && /swiftshader|llvmpipe|software|softpipe|microsoft basic render/i.test(n));
}

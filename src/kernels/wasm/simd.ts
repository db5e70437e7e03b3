/**
 * The lab's WebAssembly SIMD kernels (4 float32 lanes), bound to tfjs' own WASM memory.
 *
 * tfjs-backend-wasm runs element-wise math as scalar C++ (`std::erf`, `std::exp`), one operation
 * per kernel and a pass over memory each; plain JS is no faster. These kernels are written in
 * WebAssembly text (wat/, one file per kernel, declared in kernels.ts) and assembled into
 * module.gen.ts; the module imports the backend's memory, so the kernels read and write tensors in
 * place. It is compiled once per memory: the threaded build's memory is shared and the
 * single-threaded one's is not, and the memory import must say which.
 */
import { helpersReady, runSplit } from './pool';
import type { SimdKernels, SplitKernel } from './kernels';
import { SIMD_MODULE } from './module.gen';

function bytes(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

const byMemory = new WeakMap<WebAssembly.Memory, { kernels: SimdKernels; module: WebAssembly.Module } | null>();

function compiledFor(memory: WebAssembly.Memory): { kernels: SimdKernels; module: WebAssembly.Module } | null {
  let c = byMemory.get(memory);
  if (c !== undefined) return c;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const module = new WebAssembly.Module(bytes(shared ? SIMD_MODULE.shared : SIMD_MODULE.unshared));
    c = { kernels: new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels, module };
  } catch {
    c = null; // no SIMD (or an engine that refuses the module): the callers keep tfjs' ops
  }
  byMemory.set(memory, c);
  return c;
}

/** The kernels bound to `memory`, or null where this engine lacks WebAssembly SIMD. Compiled once per memory. */
export function simdKernelsFor(memory: WebAssembly.Memory): SimdKernels | null {
  return compiledFor(memory)?.kernels ?? null;
}

/**
 * Runs kernel `fn` over `units` (vectors, rows or products), split over the WASM threads where the
 * work is large enough (pool.ts runSplit: `argsFor(start, length)` gives a chunk's arguments).
 */
function split(memory: WebAssembly.Memory, fn: SplitKernel, units: number, elements: number, argsFor: (start: number, length: number) => number[]): void {
  const c = compiledFor(memory)!;
  runSplit(memory, c.module, c.kernels[fn] as (...a: number[]) => void, fn, units, elements, argsFor);
}

/**
 * Runs an element-wise kernel (`fn`: its pointer arguments, then the vector count n4, then
 * `scalars`) over n4 vectors of 4 floats, split over the WASM threads: each chunk's pointers
 * advance by 16 bytes a vector.
 */
export function splitVectors(memory: WebAssembly.Memory, fn: 'gelu' | 'geluGrad' | 'adamW', pointers: number[], n4: number, scalars: number[] = []): void {
  split(memory, fn, n4, 4 * n4, (start, len) => [...pointers.map((p) => p + 16 * start), len, ...scalars]);
}

/** LayerNorm forward (see KERNELS.layerNorm) with its rows split over the WASM threads. */
export function splitLayerNorm(
  memory: WebAssembly.Memory,
  x: number,
  g: number,
  b: number,
  y: number,
  xh: number,
  rs: number,
  rows: number,
  d4: number,
  eps: number,
): void {
  const row = 16 * d4; // bytes
  split(memory, 'layerNorm', rows, 4 * d4 * rows, (s, len) => [x + row * s, g, b, y + row * s, xh + row * s, rs + 4 * s, len, d4, eps]);
}

/** The softmax's backward pass (see KERNELS.softmaxGrad) with its rows split over the WASM threads. */
export function splitSoftmaxGrad(memory: WebAssembly.Memory, p: number, dp: number, ds: number, rows: number, n: number): void {
  const row = 4 * n; // bytes
  split(memory, 'softmaxGrad', rows, n * rows, (s, len) => [p + row * s, dp + row * s, ds + row * s, len, n]);
}

/**
 * A batch of products C_i = A_i·B_i (see KERNELS.gemm; byte offsets and strides), the batch split
 * over the WASM threads: each thread takes whole products, so no thread waits on another inside one.
 */
export function splitGemm(
  memory: WebAssembly.Memory,
  p: {
    a: number;
    b: number;
    c: number;
    count: number;
    sa: number;
    sb: number;
    sc: number;
    m: number;
    n: number;
    k: number;
    am: number;
    ak: number;
    bk: number;
    cm: number;
  },
): void {
  split(memory, 'bgemm', p.count, p.count * p.m * p.n, (s, len) => [
    p.a + p.sa * s,
    p.b + p.sb * s,
    p.c + p.sc * s,
    len,
    p.sa,
    p.sb,
    p.sc,
    p.m,
    p.n,
    p.k,
    p.am,
    p.ak,
    p.bk,
    p.cm,
  ]);
}

/** Waits until the helper threads for `memory` take work (tests), false where none run. */
export function simdHelpersReady(memory: WebAssembly.Memory, timeoutMs?: number): Promise<boolean> {
  const c = compiledFor(memory);
  return c ? helpersReady(memory, c.module, timeoutMs) : Promise.resolve(false);
}

/**
 * The WASM backend's heap, made safe and measurable.
 *
 * tfjs-backend-wasm 4.22 keeps every tensor in one WebAssembly memory (at most 4 GiB) and three of
 * its habits turn "too big" into memory corruption or wasted memory:
 *
 * 1. Out of memory is not an error. `_malloc` returns 0 when the heap cannot grow, and the backend
 *    uses that 0 as the tensor's address (`backend_wasm.js`: `this.wasm._malloc(n) >>> 0`, no
 *    check). The next kernel writes its output over the module's static data at address 0 (its
 *    function-pointer tables among it), and the run dies later with "table index is out of
 *    bounds" or "memory access out of bounds". `guardMalloc` makes a failed allocation throw a
 *    named error at the allocation, before anything is overwritten, so the module stays usable.
 * 2. Every tensor saved for the backward pass is copied. tfjs saves a tensor by cloning it, and
 *    the WASM backend's Identity kernel copies (the CPU, WebGL and WebGPU backends share the buffer
 *    and count references): in a ViT-B/16 FT step, hundreds of MB of copies at the peak, a third
 *    of them copies of the weights themselves. `registerSharingIdentity` makes WASM
 *    share as the others do; WASM kernels never write into their inputs, so sharing is safe.
 * 3. The heap never shrinks, so its size is the high-water mark of a process. `freshWasmBackend`
 *    starts a new module (a new, small heap) so that benchmarks can measure each case on its own.
 *
 * None of this keeps a typed-array view of the heap: views of `memory.buffer` detach when the heap
 * grows, so anything here works with byte offsets and reads `HEAPU8` afresh.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmHelpersReady } from './fused';
import { LabError } from '../../domain/errors';

interface WasmModuleLike {
  _malloc(n: number): number;
  HEAPU8: Uint8Array;
  /** Set once the guard is installed on this module. */
  __labMallocGuard?: true;
}

interface WasmBackendLike {
  wasm: WasmModuleLike;
  incRef(dataId: object): void;
}

function wasmBackend(): WasmBackendLike | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as Partial<WasmBackendLike>;
  return b.wasm && typeof b.wasm._malloc === 'function' ? (b as WasmBackendLike) : null;
}

/** The heap's current size in bytes (= its high-water mark: it never shrinks), or null off WASM. */
export function wasmHeapBytes(): number | null {
  return wasmBackend()?.wasm.HEAPU8.buffer.byteLength ?? null;
}

export class WasmHeapExhausted extends LabError {
  constructor(
    readonly requested: number,
    readonly heapBytes: number,
  ) {
    super(
      'run/out-of-memory',
      `The WASM heap is full: ${(requested / 2 ** 20).toFixed(1)} MiB more did not fit in ${(heapBytes / 2 ** 30).toFixed(2)} GiB (WebAssembly's limit is 4 GiB).`,
      'Use a smaller batch (the effective batch stays the same through gradient accumulation), turn on activation recomputation, or a smaller image size.',
    );
  }
}

/**
 * Make every JS-side allocation of the active WASM backend throw `WasmHeapExhausted` instead of
 * returning address 0. Idempotent per module. Allocations inside the C++ code (XNNPACK's packed
 * weights) are not covered: XNNPACK itself reports those as a status and tfjs skips the product,
 * which is why the memory planner keeps a run well below the ceiling.
 */
export function guardMalloc(): boolean {
  const b = wasmBackend();
  if (!b) return false;
  const m = b.wasm;
  if (m.__labMallocGuard) return true;
  // Emscripten binds exports lazily: the first call of `_malloc` replaces the property with the
  // raw export. An accessor keeps the guard in front of whatever is assigned there.
  let raw = m._malloc;
  const guarded = (n: number) => {
    const p = raw.call(m, n);
    if (p === 0 && n > 0) throw new WasmHeapExhausted(n, m.HEAPU8.buffer.byteLength);
    return p;
  };
  Object.defineProperty(m, '_malloc', {
    configurable: true,
    enumerable: true,
    get: () => guarded,
    set: (f: (n: number) => number) => {
      raw = f;
    },
  });
  m.__labMallocGuard = true;
  return true;
}

/** Identity that shares the input's buffer (reference-counted), as the other backends do. */
function sharingIdentity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let identityShared = false;

/** Replace the WASM backend's copying Identity kernel with a sharing one (once per process). */
export function registerSharingIdentity(): void {
  if (identityShared) return;
  if (tf.getKernel('Identity', 'wasm')) tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharingIdentity as unknown as tf.KernelFunc });
  identityShared = true;
}

/**
 * Replace the active WASM backend by a new module with a fresh (small) heap. Every tensor on the
 * old backend becomes invalid, so call it only when none is live (benchmarks between cases), or
 * with `discard` to drop whatever a failed case left behind (the whole engine is reset: only for
 * a process that owns every tensor, such as `npm run bench` in Node).
 */
export async function freshWasmBackend(opts: { discard?: boolean } = {}): Promise<void> {
  if (tf.getBackend() !== 'wasm') throw new Error('freshWasmBackend: the WASM backend is not active.');
  const live = tf.memory().numTensors;
  if (live > 0 && !opts.discard) throw new Error(`freshWasmBackend: ${live} tensors are still live; dispose them first.`);
  if (live > 0) tf.engine().reset(); // forgets every tensor and backend instance; factories stay
  const factory = tf.findBackendFactory('wasm');
  if (!factory) throw new Error('freshWasmBackend: no WASM backend factory is registered.');
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, 2);
  if (!(await tf.setBackend('wasm'))) throw new Error('freshWasmBackend: the WASM backend did not restart.');
  await tf.ready();
  guardMalloc();
  await wasmHelpersReady(); // the new memory's helper threads, before anything is timed on it
}

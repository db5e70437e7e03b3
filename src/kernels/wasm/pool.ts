/**
 * Runs the SIMD kernels (simd.ts) on every WASM thread: helper workers that share tfjs' memory.
 *
 * XNNPACK splits tfjs' own products over its threads; the lab's kernels would run on the calling
 * thread alone. When tfjs' threaded build runs (its WebAssembly.Memory is shared), `threads − 1`
 * helper workers are started once per memory; each instantiates the same SIMD module over that
 * memory (the compiled module and the memory are posted to it) and waits on a small
 * SharedArrayBuffer control block. A call cuts its range into `CHUNKS_PER_THREAD` contiguous chunks
 * per thread: the caller stores the first chunk's arguments and how they advance per chunk, bumps a
 * generation counter and notifies, then every thread, the caller too, claims chunks from a shared
 * counter until none is left; the caller returns once every chunk is counted done. A helper that
 * wakes late (a vCPU that was descheduled) finds the chunks taken, so a split call is never much
 * slower than the caller alone. Waking the helpers costs tens of µs, so only ranges of
 * `SPLIT_MIN_ELEMENTS` or more are split.
 *
 * Only kernels marked `split` in KERNELS are split: every output element depends on its own inputs
 * alone, so a chunk computes exactly what one thread would and 1 and N threads stay bit-identical.
 * Reductions across the range (column sums, LayerNorm's dγ and dβ) are not.
 *
 * Blocking: the caller waits with Atomics.wait, which a browser's main thread may not do; there
 * (and wherever the helpers are not started yet, or cannot be) every call runs on the caller.
 * Heap growth: the memory is shared and grows in place, and a WebAssembly instance always sees
 * its current size, so helpers need no view of the buffer. Shutdown: Node's helpers are unref'd
 * (they never keep a process alive), and a new memory (a new WASM backend) stops the old one's.
 */
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { SPLIT_KERNELS, type SplitKernel } from './kernels';

/** Ranges below this many float32 elements run on the caller alone. */
const SPLIT_MIN_ELEMENTS = 1 << 16;
/** Chunks per thread: small enough that a late thread's share is taken by the others. */
const CHUNKS_PER_THREAD = 4;

// Control block, Int32 slots: generation, chunks done, helpers ready, stop flag, function index,
// the claim word, units, units per chunk, index of the length argument, argument count, chunks
// the helpers have run (tests read it).
const GEN = 0,
  DONE = 1,
  READY = 2,
  STOP = 3,
  FN = 4,
  CLAIM = 5,
  UNITS = 7,
  PER = 8,
  LEN_AT = 9,
  NARGS = 10,
  HELPED = 11;
/**
 * The claim word: generation (low 20 bits) << 12 | chunk count << 6 | next chunk. One word, so a
 * claim is taken by compare-and-swap against the generation it belongs to: a thread that wakes
 * after its call ended can never take a chunk of the next call with the old call's count.
 */
const claimWord = (gen: number, count: number) => ((gen & 0xfffff) << 12) | (count << 6);
/** At most 63 chunks fit the claim word. */
const MAX_CHUNKS = 63;
/** Int32 slots of the header (an even count: the Float64 area after it is 8-byte aligned). */
const HEADER = 12;
/** Float64 slots for the first chunk's arguments, then as many for their advance per chunk. */
const ARGS = 24;

/**
 * The helper's whole program. It is sent to the worker as text, so it must reference nothing
 * outside itself (tfjs#8513 is what happens otherwise: a minifier renames an outer name). `listen`
 * delivers the one start message.
 */
function helperMain(
  listen: (h: (m: { module: WebAssembly.Module; memory: WebAssembly.Memory; control: SharedArrayBuffer; names: string[] }) => void) => void,
): void {
  listen(({ module, memory, control, names }) => {
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
    const c = new Int32Array(control, 0, 12);
    const base = new Float64Array(control, 48, 24),
      step = new Float64Array(control, 48 + 8 * 24, 24);
    let seen = Atomics.load(c, 0);
    Atomics.add(c, 2, 1);
    for (;;) {
      while (Atomics.load(c, 0) === seen) Atomics.wait(c, 0, seen);
      seen = Atomics.load(c, 0);
      if (Atomics.load(c, 3)) return;
      // Claim chunks of this generation until none is left (see claimWord); a claim orders every
      // read below after the caller's writes for it. Written out, not as an inner function: a
      // bundler may wrap a named inner function in a helper that this worker's text lacks.
      for (;;) {
        const v = Atomics.load(c, 5);
        if (v >>> 12 !== (seen & 0xfffff) || (v & 63) >= ((v >>> 6) & 63)) break;
        if (Atomics.compareExchange(c, 5, v, v + 1) !== v) continue;
        const j = v & 63;
        const per = Atomics.load(c, 8),
          n = Atomics.load(c, 10);
        const args = Array.from(base.subarray(0, n), (b, i) => b + j * step[i]);
        args[Atomics.load(c, 9)] = Math.min(per, Atomics.load(c, 7) - j * per);
        exports[names[Atomics.load(c, 4)]](...args);
        Atomics.add(c, 11, 1);
        Atomics.add(c, 1, 1);
        Atomics.notify(c, 1);
      }
    }
  });
}

interface Helpers {
  memory: WebAssembly.Memory;
  control: Int32Array<SharedArrayBuffer>;
  /** The first chunk's arguments, then (ARGS slots on) their advance per chunk. */
  args: Float64Array<SharedArrayBuffer>;
  count: number;
  stop(): void;
}

type NodeWorker = { unref(): void; terminate(): Promise<number>; postMessage(m: unknown): void; on(e: string, f: (x: unknown) => void): void };
type NodeWorkerThreads = { Worker: new (code: string, opts: { eval: true }) => NodeWorker };

function nodeWorkerThreads(): NodeWorkerThreads | null {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return (p?.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined) ?? null;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function mayWait(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // value differs: returns at once
    return true;
  } catch {
    return false;
  }
}

/** Starts `count` helpers over `memory`; they report ready through the control block. */
function startHelpers(memory: WebAssembly.Memory, module: WebAssembly.Module, count: number): Helpers | null {
  const sab = new SharedArrayBuffer(4 * HEADER + 8 * 2 * ARGS);
  const control = new Int32Array(sab, 0, HEADER);
  const args = new Float64Array(sab, 4 * HEADER, 2 * ARGS);
  const start = () => ({ module, memory, control: sab, names: SPLIT_KERNELS });
  const stops: (() => void)[] = [];
  const node = nodeWorkerThreads();
  let url: string | undefined;
  stops.push(() => url && URL.revokeObjectURL(url));
  try {
    for (let i = 0; i < count; i++) {
      if (node) {
        const w = new node.Worker(`(${helperMain.toString()})((h) => require('node:worker_threads').parentPort.once('message', h))`, { eval: true });
        w.on('error', () => {}); // a helper that died is simply never ready: calls stay on the caller
        w.unref();
        w.postMessage(start());
        stops.push(() => void w.terminate());
      } else if (typeof Worker !== 'undefined') {
        // The URL stays valid while the helpers live: a browser fetches a worker's script after
        // `new Worker` returns, so revoking it at once would fail their start.
        url ??= URL.createObjectURL(new Blob([`(${helperMain.toString()})((h) => { self.onmessage = (e) => h(e.data); })`], { type: 'text/javascript' }));
        const w = new Worker(url);
        w.postMessage(start());
        stops.push(() => w.terminate());
      } else return null;
    }
  } catch {
    stops.forEach((s) => s());
    return null;
  }
  return {
    memory,
    control,
    args,
    count,
    stop: () => {
      Atomics.store(control, STOP, 1);
      Atomics.add(control, GEN, 1);
      Atomics.notify(control, GEN);
      stops.forEach((s) => s());
    },
  };
}

let current: Helpers | null = null;
let currentMemory: WebAssembly.Memory | null = null;
let splits = 0;
let callerClaims = true;

/**
 * Test hook: with `false`, the caller of a split call claims no chunk and only waits, so the
 * helpers run every chunk. Which thread wins a chunk is otherwise a race (a loaded machine may
 * leave every chunk to the caller); this makes "the helpers work" a deterministic check.
 */
export function callerTakesChunks(on: boolean): void {
  callerClaims = on;
}

/** How many calls have been split over helpers in this process (tests assert it moves). */
export function splitCalls(): number {
  return splits;
}

/** Chunks the current helpers have run (tests assert that the helpers, not only the caller, work). */
export function helperChunks(): number {
  return current ? Atomics.load(current.control, HELPED) : 0;
}

/** Stops the helpers, if any (a new WASM backend also stops the previous one's). */
function stopHelpers(): void {
  current?.stop();
  current = null;
  currentMemory = null;
}

/**
 * Helpers for `memory`, ready to take work, or null (single-threaded build, a thread that may not
 * block, or helpers still starting: the first eligible call starts them and runs on its own).
 */
function helpersFor(memory: WebAssembly.Memory, module: WebAssembly.Module): Helpers | null {
  if (memory !== currentMemory) {
    stopHelpers();
    currentMemory = memory;
    let threads = 1;
    try {
      threads = getThreadsCount();
    } catch {
      threads = 1;
    }
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    if (shared && threads > 1 && mayWait()) current = startHelpers(memory, module, threads - 1);
  }
  return current && Atomics.load(current.control, READY) === current.count ? current : null;
}

/**
 * Runs `fn` over `units` units (vectors of 4 floats, rows, or products): `argsFor(start, length)`
 * gives the export's arguments for a contiguous chunk, and must be linear in `start` (pointers that
 * advance with it) with `length` in one argument. Split over the helpers when there are any and
 * `elements` (floats touched per output) reaches the threshold; else one call on this thread.
 */
export function runSplit(
  memory: WebAssembly.Memory,
  module: WebAssembly.Module,
  call: (...a: number[]) => void,
  fn: SplitKernel,
  units: number,
  elements: number,
  argsFor: (start: number, length: number) => number[],
): void {
  const h = elements >= SPLIT_MIN_ELEMENTS && units > 1 ? helpersFor(memory, module) : null;
  if (!h) {
    call(...argsFor(0, units));
    return;
  }
  const chunks = Math.min(units, CHUNKS_PER_THREAD * (h.count + 1), MAX_CHUNKS);
  const per = Math.ceil(units / chunks);
  const count = Math.ceil(units / per);
  const first = argsFor(0, per),
    next = argsFor(per, per);
  const lenAt = argsFor(0, per + 1).findIndex((a, i) => a !== first[i]);
  const c = h.control;
  h.args.set(first, 0);
  h.args.set(
    next.map((a, i) => a - first[i]),
    ARGS,
  );
  Atomics.store(c, FN, SPLIT_KERNELS.indexOf(fn)); // the helpers look the name up in the same list
  Atomics.store(c, UNITS, units);
  Atomics.store(c, PER, per);
  Atomics.store(c, LEN_AT, lenAt);
  Atomics.store(c, NARGS, first.length);
  Atomics.store(c, DONE, 0);
  const gen = Atomics.load(c, GEN) + 1;
  Atomics.store(c, CLAIM, claimWord(gen, count));
  Atomics.store(c, GEN, gen);
  Atomics.notify(c, GEN);
  for (let j = callerClaims ? claimChunk(c, gen) : -1; j >= 0; j = claimChunk(c, gen)) {
    call(...argsFor(j * per, Math.min(per, units - j * per)));
    Atomics.add(c, DONE, 1);
  }
  for (let d = Atomics.load(c, DONE); d < count; d = Atomics.load(c, DONE)) Atomics.wait(c, DONE, d);
  splits++;
}

/** The next chunk of generation `gen` (see claimWord), or −1 when none is left. */
function claimChunk(c: Int32Array<SharedArrayBuffer>, gen: number): number {
  for (;;) {
    const v = Atomics.load(c, CLAIM);
    if (v >>> 12 !== (gen & 0xfffff) || (v & 63) >= ((v >>> 6) & 63)) return -1;
    if (Atomics.compareExchange(c, CLAIM, v, v + 1) === v) return v & 63;
  }
}

/** Resolves once the helpers for `memory` are ready (true), or false where none will run. */
export async function helpersReady(memory: WebAssembly.Memory, module: WebAssembly.Module, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (helpersFor(memory, module)) return true;
    if (!current || Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The lab's SIMD loops (simd.ts) on every WASM thread: helper workers that share tfjs' memory.
 *
 * XNNPACK splits tfjs' products over its pthreads, but the lab's own loops ran on the calling
 * thread alone: in a 2-thread VPT-deep step, GELU forward and backward were 247 of 1 961 ms. When
 * tfjs' threaded build runs (its WebAssembly.Memory is shared), `threads − 1` helper workers are
 * started once per memory; each instantiates the same SIMD module over that memory (the compiled
 * module and the memory are posted to it) and waits on a small SharedArrayBuffer control block.
 * A call splits its range into contiguous chunks: the caller stores each helper's arguments,
 * bumps a generation counter and notifies, runs chunk 0 itself, then waits until every helper has
 * counted itself done. Signalling costs tens of µs, so only ranges of `SPLIT_MIN_ELEMENTS` or more
 * are split.
 *
 * Only work whose every output element depends on its own inputs alone is split (GELU, AdamW, a
 * LayerNorm row): a chunk computes exactly what one thread would, so 1 and N threads stay
 * bit-identical. Reductions across the split range (column sums, dγ, dβ) are never split.
 *
 * Blocking: the caller waits with Atomics.wait, which a browser's main thread may not do; there
 * (and wherever the helpers are not started yet, or cannot be) every call runs on the caller.
 * Heap growth: the memory is shared and grows in place, and a WebAssembly instance always sees
 * its current size, so helpers need no view of the buffer. Shutdown: Node's helpers are unref'd
 * (they never keep a process alive), and a new memory (a new WASM backend) stops the old one's.
 */
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/** Ranges below this many float32 elements run on the caller alone. */
const SPLIT_MIN_ELEMENTS = 1 << 16;

// Control block, Int32 slots: generation, done count, ready count, stop flag, function index.
const GEN = 0,
  DONE = 1,
  READY = 2,
  STOP = 3,
  FN = 4;
/** Float64 slots per helper for its arguments (byte offsets and float32 scalars fit exactly). */
const ARGS = 24;
/** Start of the argument area, in Float64 slots (after the Int32 header). */
const ARGS_AT = 4;

/** Exports a helper may be asked to run (their index is what the control block carries). */
const FUNCTIONS = ['gelu', 'geluGrad', 'layerNorm', 'adamW', 'softmaxGrad'] as const;
type SplitFunction = (typeof FUNCTIONS)[number];

/**
 * The helper's whole program. It is sent to the worker as text, so it must reference nothing
 * outside itself (tfjs#8513 is what happens otherwise: a minifier renames an outer name). `listen`
 * delivers the one start message.
 */
function helperMain(
  listen: (h: (m: { module: WebAssembly.Module; memory: WebAssembly.Memory; control: SharedArrayBuffer; slot: number; names: string[] }) => void) => void,
): void {
  listen(({ module, memory, control, slot, names }) => {
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, (...a: number[]) => void>;
    const c = new Int32Array(control);
    const args = new Float64Array(control, 8 * (4 + 24 * slot), 24);
    let seen = Atomics.load(c, 0);
    Atomics.add(c, 2, 1);
    for (;;) {
      while (Atomics.load(c, 0) === seen) Atomics.wait(c, 0, seen);
      seen = Atomics.load(c, 0);
      if (Atomics.load(c, 3)) return;
      const n = args[0];
      if (n >= 0) exports[names[Atomics.load(c, 4)]](...Array.from(args.subarray(1, 1 + n)));
      Atomics.add(c, 1, 1);
      Atomics.notify(c, 1);
    }
  });
}

interface Helpers {
  memory: WebAssembly.Memory;
  control: Int32Array<SharedArrayBuffer>;
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
  const sab = new SharedArrayBuffer(8 * (ARGS_AT + ARGS * count));
  const control = new Int32Array(sab, 0, 2 * ARGS_AT);
  const args = new Float64Array(sab);
  const start = (slot: number) => ({ module, memory, control: sab, slot, names: [...FUNCTIONS] });
  const stops: (() => void)[] = [];
  const node = nodeWorkerThreads();
  let url: string | undefined;
  stops.push(() => url && URL.revokeObjectURL(url));
  try {
    for (let slot = 0; slot < count; slot++) {
      if (node) {
        const w = new node.Worker(`(${helperMain.toString()})((h) => require('node:worker_threads').parentPort.once('message', h))`, { eval: true });
        w.on('error', () => {}); // a helper that died is simply never ready: calls stay on the caller
        w.unref();
        w.postMessage(start(slot));
        stops.push(() => void w.terminate());
      } else if (typeof Worker !== 'undefined') {
        // The URL stays valid while the helpers live: a browser fetches a worker's script after
        // `new Worker` returns, so revoking it at once would fail their start.
        url ??= URL.createObjectURL(new Blob([`(${helperMain.toString()})((h) => { self.onmessage = (e) => h(e.data); })`], { type: 'text/javascript' }));
        const w = new Worker(url);
        w.postMessage(start(slot));
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

/** How many calls have been split over helpers in this process (tests assert it moves). */
export function splitCalls(): number {
  return splits;
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
 * Runs `fn` over `units` units (vectors of 4 floats, or rows): `argsFor(start, length)` gives the
 * export's arguments for a contiguous chunk. Split over the helpers when there are any and
 * `elements` (floats touched per output) reaches the threshold; else one call on this thread.
 */
export function runSplit(
  memory: WebAssembly.Memory,
  module: WebAssembly.Module,
  call: (...a: number[]) => void,
  fn: SplitFunction,
  units: number,
  elements: number,
  argsFor: (start: number, length: number) => number[],
): void {
  const h = elements >= SPLIT_MIN_ELEMENTS && units > 1 ? helpersFor(memory, module) : null;
  if (!h) {
    call(...argsFor(0, units));
    return;
  }
  const parts = Math.min(h.count + 1, units);
  const per = Math.ceil(units / parts);
  const c = h.control;
  Atomics.store(c, FN, FUNCTIONS.indexOf(fn));
  Atomics.store(c, DONE, 0);
  for (let i = 1; i <= h.count; i++) {
    const start = i * per,
      len = Math.max(0, Math.min(per, units - start));
    const a = len > 0 ? argsFor(start, len) : [];
    const base = ARGS_AT + ARGS * (i - 1);
    h.args[base] = len > 0 ? a.length : -1;
    h.args.set(a, base + 1);
  }
  Atomics.add(c, GEN, 1);
  Atomics.notify(c, GEN);
  call(...argsFor(0, Math.min(per, units)));
  for (let d = Atomics.load(c, DONE); d < h.count; d = Atomics.load(c, DONE)) Atomics.wait(c, DONE, d);
  splits++;
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

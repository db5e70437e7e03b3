/**
 * How many threads the WASM backend runs, and why not more. Pure, so the page's badge, the
 * engine worker and the Node CLIs take one decision, tested without a browser.
 *
 * WASM threads need SharedArrayBuffer, which browsers only give a cross-origin isolated page
 * (served with COOP `same-origin` and COEP `require-corp`: the host's headers, or the lab's
 * service worker, src/pwa/sw.ts). Node always has it. Where it is there, the lab runs one thread
 * per logical core the host reports, up to `WASM_MAX_THREADS` (src/backend/wasm.ts starts tfjs'
 * threaded build with that count; README, "Threads").
 */

/** The one switch for WASM threads: off, every host runs tfjs' single-threaded SIMD build. */
export const WASM_THREADS_ENABLED = true;

/**
 * The most threads the lab asks for. tfjs' threaded build starts 8 pthread workers when it loads
 * and its pool never uses more (backend.cc, `max_num_threads`); more would need a worker started
 * while the engine thread blocks waiting for it. Past 8, a ViT step's products are too small per
 * thread to gain much either.
 */
export const WASM_MAX_THREADS = 8;

export type SingleThreadCause = 'not-isolated' | 'threads-off' | 'one-core' | 'failed';

export interface WasmThreading {
  /** Threads the WASM backend runs (1: the single-threaded SIMD build). */
  threads: number;
  /** True when more than one thread runs. */
  threaded: boolean;
  /** Why WASM runs on one thread (absent when threaded). */
  cause?: SingleThreadCause;
  /** Fewer threads than logical cores, because of `WASM_MAX_THREADS`. */
  capped?: boolean;
  /** One sentence for the page and the CLI: how many threads, and why not more. */
  reason: string;
}

export interface ThreadFacts {
  /** `crossOriginIsolated` of the page (or worker); true in Node. */
  isolated: boolean;
  /** A service worker controls the page: it adds COOP/COEP, so the next load is isolated. */
  serviceWorker?: boolean;
  /** Logical cores the host reports (`navigator.hardwareConcurrency`, `os.availableParallelism()`). */
  cores?: number;
  /** Threads asked for (benchmarks, tests, `--threads`); by default one per core, up to the cap. */
  asked?: number;
}

const plural = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;

export function wasmThreading(facts: ThreadFacts, enabled: boolean = WASM_THREADS_ENABLED): WasmThreading {
  const single = (cause: SingleThreadCause, reason: string): WasmThreading => ({
    threads: 1,
    threaded: false,
    cause,
    reason: `WASM runs on one thread: ${reason}.`,
  });
  if (!enabled) return single('threads-off', "the lab's WASM threads are switched off (WASM_THREADS_ENABLED in src/backend/threads.ts)");
  if (!facts.isolated) {
    const why = facts.serviceWorker
      ? 'yet (the offline copy adds the COOP/COEP headers from the next load on)'
      : '(the host sends no COOP/COEP headers: README, "Host it for a class")';
    return single('not-isolated', `the page is not cross-origin isolated ${why}, so threads cannot share memory`);
  }
  const cores = Math.max(1, Math.floor(facts.cores ?? 1));
  if (facts.asked !== undefined) {
    const n = Math.min(Math.max(1, Math.floor(facts.asked)), WASM_MAX_THREADS);
    const capped = n < facts.asked ? `; the cap is ${WASM_MAX_THREADS}` : '';
    return { threads: n, threaded: n > 1, reason: `WASM runs on ${plural(n)}, as asked (${cores} logical cores here${capped}).` };
  }
  if (cores === 1) return single('one-core', 'this machine reports one logical core');
  const n = Math.min(cores, WASM_MAX_THREADS);
  if (n < cores)
    return {
      threads: n,
      threaded: true,
      capped: true,
      reason: `WASM runs on ${plural(n)} of ${cores} logical cores: tfjs' threaded WASM build starts ${WASM_MAX_THREADS} worker threads and uses no more.`,
    };
  return { threads: n, threaded: true, reason: `WASM runs on ${plural(n)}, one per logical core.` };
}

/** The decision after the threaded build failed to start: one thread, and what went wrong. */
export function threadsFailed(error: string): WasmThreading {
  return { threads: 1, threaded: false, cause: 'failed', reason: `WASM runs on one thread: the threaded build did not start here (${error.slice(0, 200)}).` };
}

/**
 * Whether the WASM backend may use threads, and why not when it may not. Pure, so the page's
 * notice and the worker's tfjs flag come from one decision, tested without a browser.
 *
 * WASM threads need SharedArrayBuffer, which browsers only give a cross-origin isolated page
 * (served with COOP `same-origin` and COEP `require-corp`: the host's headers, or the lab's
 * service worker, src/pwa/sw.ts). Isolation alone is not enough today: tfjs 4.22's threaded
 * build fails inside a bundled worker (upstream tfjs#8513), so the lab keeps threads off until
 * that is fixed; `WASM_THREADS_ENABLED` is the one switch for it.
 */
export const WASM_THREADS_ENABLED = false;

export type SingleThreadCause = 'not-isolated' | 'threads-off';

export interface WasmThreading {
  /** True when the threaded WASM build may be used. */
  threaded: boolean;
  /** Why WASM runs on one thread (absent when threaded). */
  cause?: SingleThreadCause;
  /** One sentence for the page. */
  reason: string;
}

export interface IsolationFacts {
  /** `crossOriginIsolated` of the page (or worker). */
  isolated: boolean;
  /** A service worker controls the page: it adds COOP/COEP, so the next load is isolated. */
  serviceWorker?: boolean;
}

export function wasmThreading(facts: IsolationFacts, enabled: boolean = WASM_THREADS_ENABLED): WasmThreading {
  const off = "the lab's WASM threads are off for now (tfjs 4.22's threaded build fails in a bundled worker, tfjs#8513)";
  if (!facts.isolated) {
    const why = facts.serviceWorker
      ? 'yet (the offline copy adds the COOP/COEP headers from the next load on)'
      : '(the host sends no COOP/COEP headers: README, "Host it for a class")';
    return {
      threaded: false,
      cause: 'not-isolated',
      reason: `WASM runs on one thread: the page is not cross-origin isolated ${why}, so threads cannot share memory.${enabled ? '' : ` Even isolated, ${off}.`}`,
    };
  }
  if (!enabled) return { threaded: false, cause: 'threads-off', reason: `WASM runs on one thread: the page is cross-origin isolated, but ${off}.` };
  return { threaded: true, reason: 'WASM runs on several threads (the page is cross-origin isolated).' };
}

/**
 * The page's end of the engine worker: the only code on the main thread that calls
 * postMessage. The worker (and with it tfjs) is created on first use, so the first paint
 * downloads nothing heavy.
 */
import type { Command, EngineEvent } from './protocol';

type Listener = (ev: EngineEvent) => void;

let worker: Worker | null = null;
const listeners = new Set<Listener>();

/** Subscribe to every engine event; returns the unsubscribe function. */
export function onEngineEvent(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function dispatch(ev: EngineEvent): void {
  for (const fn of listeners) fn(ev);
}

function ensureWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  worker.onmessage = (e: MessageEvent<EngineEvent>) => dispatch(e.data);
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    dispatch({ type: 'error', error: { code: 'internal', message: `The engine worker failed: ${e.message || 'could not load the worker script'}.` } });
  };
  worker.onmessageerror = () => dispatch({ type: 'error', error: { code: 'internal', message: 'A message from the engine could not be read.' } });
  return worker;
}

/** Whether the worker has been created. */
export function engineStarted(): boolean {
  return worker !== null;
}

/** Sends a command to the engine, creating the worker on first use. */
export function send(cmd: Command): void {
  const w = ensureWorker();
  try {
    w.postMessage(cmd);
  } catch (e) {
    dispatch({ type: 'error', error: { code: 'internal', message: `Could not send '${cmd.type}' to the engine: ${(e as Error).message}` } });
  }
}

/** Ends the worker (tests; a backend change that needs a fresh engine). */
export function terminate(): void {
  worker?.terminate();
  worker = null;
}

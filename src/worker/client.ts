/**
 * The page's one door to the engine: the only code on the main thread that talks to the worker.
 * The worker (and with it tfjs) is created on first use, so the first paint downloads nothing
 * heavy. Views never call it directly; ui/actions.ts does, and the store hears every event.
 */
import type { Command, EngineEvent, Request } from '../engine/protocol';

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

/** Sends a command to the engine, creating the worker on first use. */
export function send(cmd: Command): void {
  const w = ensureWorker();
  try {
    w.postMessage(cmd);
  } catch (e) {
    dispatch({ type: 'error', error: { code: 'internal', message: `Could not send '${cmd.type}' to the engine: ${(e as Error).message}` } });
  }
}

/** Sends a command that carries a requestId; resolves with its answer, rejects with its error. */
export function request(cmd: Request): Promise<EngineEvent> {
  return new Promise((resolve, reject) => {
    const off = onEngineEvent((ev) => {
      if (!('requestId' in ev) || ev.requestId !== cmd.requestId) return;
      off();
      if (ev.type === 'error') reject(Object.assign(new Error(`${ev.error.code}: ${ev.error.message}`), { info: ev.error }));
      else resolve(ev);
    });
    send(cmd);
  });
}

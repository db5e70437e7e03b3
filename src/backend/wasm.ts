/**
 * tfjs' WASM backend on several threads, in the page's engine worker and in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build (Emscripten pthreads, XNNPACK's thread pool),
 * but its own start-up (`init` in backend_wasm.js) keeps it from running on more than one thread
 * here, for two reasons found by reading the built bundle and the runtime's C++:
 *
 * 1. The pthread workers die at start in a bundled app ("e is not defined", tfjs#8513). tfjs hands
 *    each pthread worker the Emscripten glue as text: `'var WasmBackendModuleThreadedSimd = ' +
 *    factory.toString()`, the source of the factory function as the bundler left it. That function
 *    is the inner part of the glue's IIFE and reads the IIFE's `_scriptDir` behind a
 *    `typeof _scriptDir !== "undefined"` guard. The minifier sees `_scriptDir` declared in scope,
 *    renames it `e` and drops the guard (`e!==void 0&&e&&(v=e)`): correct where the function was
 *    written, a ReferenceError once its text is evaluated alone in a worker. The worker never
 *    reports "loaded", so `setBackend('wasm')` waits forever. The cause is that stringification,
 *    not the headers or the worker: any minifier that trusts lexical scope breaks it.
 *    Fix: the pthread workers load the glue *file*, unmodified (`mainScriptUrlOrBlob` = its URL or
 *    path), so nothing depends on how our bundle was rewritten.
 * 2. The pool is sized `min(asked, 8, navigator.hardwareConcurrency / 2)`: backend.cc assumes two
 *    hardware threads per core, so a 2-thread machine gets 1 thread and 8 logical cores get 4. The
 *    runtime asks the JS side for the core count once, at start-up (`emscripten_num_logical_cores`,
 *    an import of the module); we answer 2 × the threads decided (src/backend/threads.ts), so its
 *    halving gives exactly that number, and `getThreadsCount()` reports what runs.
 *
 * tfjs exports neither knob, so the threaded backend is created here: tfjs' own Emscripten factory,
 * `BackendWasm` class and kernels, with our configuration. One thread is tfjs' own start-up and
 * SIMD build, unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as threadedGlue from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import { WASM_MAX_THREADS } from './threads';

/** Where the threaded build's parts are, per host (the page's assets, or node_modules). */
export interface ThreadedWasmFiles {
  /** URL (page) or absolute path (Node) of the unmodified Emscripten glue, for the pthread workers. */
  glue: string;
  /** URL (page) or absolute path (Node) of the script each pthread worker runs. */
  worker: string;
  /** The threaded SIMD binary, compiled and instantiated with the given imports. */
  instantiate(imports: WebAssembly.Imports): Promise<WebAssembly.WebAssemblyInstantiatedSource>;
}

/** The parts of the Emscripten module this file touches (the rest is BackendWasm's business). */
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread?: { terminateAllThreads(): void };
  tfjs?: unknown;
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
const factory: Factory = ((threadedGlue as unknown as { default?: Factory }).default ?? threadedGlue) as unknown as Factory;

/** WASM's priority among tfjs backends, as tfjs-backend-wasm registers it. */
const WASM_PRIORITY = 2;

/**
 * How long the threaded module may take to start its pthread workers. Each instantiates the
 * already compiled module (milliseconds); a worker that cannot start (a blocked script, a
 * browser without nested workers) would otherwise hang `setBackend` for ever.
 */
export const THREADED_START_TIMEOUT_MS = 60_000;

export class WasmThreadsFailed extends Error {
  constructor(message: string) {
    super(`The threaded WASM build did not start: ${message}`);
    this.name = 'WasmThreadsFailed';
  }
}

let stockFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | null = null;
let configured = 1;
let lastError: string | null = null;

/**
 * The WASM backend from now on runs `threads` threads (1: tfjs' own single-threaded SIMD build).
 * Takes effect at the next `tf.setBackend('wasm')`; a running WASM backend is disposed (with its
 * tensors and pthread workers), so call it only between jobs. Threads above the cap are refused.
 */
export function useWasmThreads(threads: number, files?: ThreadedWasmFiles): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > WASM_MAX_THREADS)
    throw new RangeError(`WASM threads must be an integer from 1 to ${WASM_MAX_THREADS}, got ${threads}.`);
  if (threads > 1 && !files) throw new Error('useWasmThreads: the threaded build needs its files.');
  stockFactory ??= tf.findBackendFactory('wasm');
  if (!stockFactory) throw new Error('useWasmThreads: tfjs-backend-wasm is not loaded.');
  // Removing disposes a running module and stops its pthread workers (BackendWasm.dispose).
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  configured = threads;
  tf.registerBackend('wasm', threads === 1 ? stockFactory : () => createThreaded(threads, files!), WASM_PRIORITY);
}

/** Threads the WASM backend was configured for (the running count is `wasmThreadsRunning`). */
export function wasmThreadsConfigured(): number {
  return configured;
}

/**
 * Why the threaded build last failed to start (tf.setBackend only logs a failed backend factory and
 * returns false), or null.
 */
export function lastWasmThreadsError(): string | null {
  return lastError;
}

/** Threads the running WASM backend's pool has (1 for the single-threaded build), or null. */
export function wasmThreadsRunning(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  try {
    return getThreadsCount();
  } catch {
    return null;
  }
}

async function createThreaded(threads: number, files: ThreadedWasmFiles): Promise<tf.KernelBackend> {
  lastError = null;
  let fail: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // The config object becomes the Emscripten module (Emscripten fills it in), so on failure its
  // PThread is what holds the workers that must be stopped.
  const config: Record<string, unknown> & Partial<EmscriptenModule> = {
    mainScriptUrlOrBlob: files.glue,
    locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? files.worker : prefix + path),
    instantiateWasm: (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
      // Answer the runtime's core count with 2 × threads: backend.cc halves it (see above).
      (imports.env as Record<string, unknown>).emscripten_num_logical_cores = () => 2 * threads;
      files.instantiate(imports).then(
        (r) => receive(r.instance, r.module),
        (e: unknown) => fail(new WasmThreadsFailed(`the binary did not load (${e instanceof Error ? e.message : String(e)})`)),
      );
      return {};
    },
    // A pthread worker that throws while starting is reported only through the module's printErr.
    printErr: (text: string) => {
      if (/worker sent an error/.test(text)) fail(new WasmThreadsFailed(text));
      else console.warn(text);
    },
    onAbort: (what: unknown) => fail(new WasmThreadsFailed(`aborted (${String(what)})`)),
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WasmThreadsFailed(`its ${threads - 1} pthread worker(s) did not start within ${THREADED_START_TIMEOUT_MS / 1000} s`)),
      THREADED_START_TIMEOUT_MS,
    );
  });
  let module: EmscriptenModule;
  try {
    module = await Promise.race([factory(config), failed, timeout]);
  } catch (e) {
    config.PThread?.terminateAllThreads();
    lastError = e instanceof Error ? e.message : String(e);
    throw e;
  } finally {
    clearTimeout(timer);
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  setThreadsCount(threads); // read by BackendWasm's constructor: the pool is made there
  return new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
}

/**
 * The pthread worker script as tfjs ships it: a string in a CommonJS module. Its string literals
 * hold "\n" escapes that the template literal turned into newlines; put them back (as tfjs does).
 */
export function pthreadWorkerSource(contents: string): string {
  return contents.replace(/\n/g, '\\n');
}

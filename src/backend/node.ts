/**
 * tfjs backends in Node: the JavaScript CPU backend, WASM (loaded from node_modules, on several
 * threads), and WebGPU through Dawn (src/backend/dawn.ts, loaded only when asked for). tfjs-node is
 * not used: it downloads a native library at install time, which these machines cannot do.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { LabError } from '../domain/errors';
import type { BackendName } from '../domain/run';
import type { AdapterReport } from './dawn';
import { threadsFailed, wasmThreading, type WasmThreading } from './threads';
import { lastWasmThreadsError, useWasmThreads, type ThreadedWasmFiles } from './wasm';

let wasmPathSet = false;
let threading: WasmThreading | null = null;

export interface NodeBackend {
  name: BackendName;
  /** WebGPU only: the adapter Dawn opened. */
  adapter?: AdapterReport;
}

/** The file names of the threaded build's parts, as the GPU package copies them (prepare.sh). */
const THREADED_GLUE = 'tfjs-backend-wasm-threaded-simd.js';
const PTHREAD_SCRIPT = 'wasm-pthread.cjs';

/**
 * Where tfjs' WASM files are: the package in node_modules, or (in the bundle the GPU package
 * runs, scripts/gpu/prepare.sh, which has no node_modules) a `tfjs-wasm` folder beside the entry,
 * holding the .wasm binaries, the threaded build's glue and the pthread script.
 */
function wasmFiles(): { dist: string; glue: string; pthread: string } {
  try {
    const require = createRequire(import.meta.url);
    return {
      dist: path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'),
      glue: require.resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${THREADED_GLUE}`),
      pthread: fileURLToPath(new URL(`./${PTHREAD_SCRIPT}`, import.meta.url)),
    };
  } catch {
    const beside = path.join(path.dirname(process.argv[1] ?? '.'), 'tfjs-wasm');
    if (existsSync(beside)) return { dist: beside, glue: path.join(beside, THREADED_GLUE), pthread: path.join(beside, PTHREAD_SCRIPT) };
    throw new LabError(
      'backend/unavailable',
      "tfjs' WASM binaries were not found (no @tensorflow/tfjs-backend-wasm in node_modules).",
      'Run npm install, or use --backend webgpu.',
    );
  }
}

/**
 * tfjs' threaded WASM build in Node: the pthread workers are worker_threads running
 * `wasm-pthread.cjs`, which evaluates the Emscripten glue file (src/backend/wasm.ts says why
 * tfjs' own start-up cannot be used). tfjs itself turns threads off in Node (tfjs#3830).
 */
function nodeThreadedFiles(): ThreadedWasmFiles {
  const files = wasmFiles();
  return {
    glue: files.glue,
    worker: files.pthread,
    instantiate: async (imports) => WebAssembly.instantiate(await readFile(path.join(files.dist, 'tfjs-backend-wasm-threaded-simd.wasm')), imports),
  };
}

/** Logical cores of this machine (what a worker-thread pool can use). */
export function nodeCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** How many threads the Node WASM backend runs, and why (set by initNodeBackend). */
export function nodeWasmThreading(): WasmThreading | null {
  return threading;
}

export interface NodeBackendOptions {
  /**
   * WASM threads: a count, or 'auto' for one per logical core up to the cap (src/backend/threads.ts).
   * Default 1: library callers (tests) get one thread, whose speed does not depend on how busy the
   * machine is; the CLIs ask for 'auto' (src/cli/backend.ts).
   */
  threads?: number | 'auto';
}

export async function initNodeBackend(name: BackendName = 'wasm', opts: NodeBackendOptions = {}): Promise<NodeBackend> {
  if (name === 'webgl')
    throw new LabError('backend/unavailable', 'WebGL needs a browser; it is not available in Node.', 'Use --backend webgpu (Dawn), wasm or cpu.');
  if (name === 'webgpu') {
    silenceNodeHint();
    // Imported here, not at the top: a WASM or CPU run never loads Dawn's native module.
    const { initDawnBackend } = await import('./dawn');
    return { name, adapter: await initDawnBackend() };
  }
  if (name === 'wasm' && !wasmPathSet) {
    setWasmPaths(wasmFiles().dist + path.sep);
    wasmPathSet = true;
  }
  silenceNodeHint();
  if (name === 'wasm') {
    const threads = opts.threads ?? 1;
    const decided = wasmThreading({ isolated: true, cores: nodeCores(), asked: threads === 'auto' ? undefined : threads });
    if (threading?.threads !== decided.threads || tf.getBackend() !== 'wasm') {
      useWasmThreads(decided.threads, decided.threads > 1 ? nodeThreadedFiles() : undefined);
      threading = decided;
      if (!(await setBackendQuietly('wasm')) && decided.threads > 1) {
        // The threaded build did not start: one thread, saying why, rather than no run at all.
        threading = threadsFailed(lastWasmThreadsError() ?? 'unknown error');
        useWasmThreads(1);
      }
    }
  }
  if (!(await setBackendQuietly(name))) throw new Error(`Could not initialise the ${name} backend.`);
  await tf.ready();
  return { name };
}

/**
 * tf.setBackend, without the process handlers the WASM module's Emscripten glue adds: they
 * rethrow any uncaught error or unhandled rejection from inside its minified source (Node then
 * prints kilobytes of it and exits 7). Errors are the CLI's to report.
 */
async function setBackendQuietly(name: BackendName): Promise<boolean> {
  if (tf.getBackend() === name) return true;
  const before = { ue: process.listeners('uncaughtException'), ur: process.listeners('unhandledRejection') };
  try {
    return await tf.setBackend(name);
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!before.ue.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.ur.includes(l)) process.removeListener('unhandledRejection', l);
  }
}

/**
 * tfjs prints an advert for tfjs-node on first use in Node; it cannot be installed here (it
 * downloads a native library), so the hint is noise. PROD silences tfjs' warnings only.
 */
function silenceNodeHint(): void {
  tf.env().set('PROD', true);
}

/**
 * tfjs backends in Node: the JavaScript CPU backend, WASM (loaded from node_modules), and WebGPU
 * through Dawn (src/backend/dawn.ts, loaded only when asked for). tfjs-node is not used: it
 * downloads a native library at install time, which these machines cannot do.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { LabError } from '../domain/errors';
import type { BackendName } from '../domain/run';
import type { AdapterReport } from './dawn';

let wasmPathSet = false;

export interface NodeBackend {
  name: BackendName;
  /** WebGPU only: the adapter Dawn opened. */
  adapter?: AdapterReport;
}

/**
 * Where tfjs' .wasm binaries are: the package in node_modules, or (in the bundle the GPU package
 * runs, scripts/gpu/prepare.sh, which has no node_modules) a `tfjs-wasm` folder beside the entry.
 */
function wasmDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  } catch {
    const beside = path.join(path.dirname(process.argv[1] ?? '.'), 'tfjs-wasm');
    if (existsSync(beside)) return beside;
    throw new LabError('backend/unavailable', "tfjs' WASM binaries were not found (no @tensorflow/tfjs-backend-wasm in node_modules).", 'Run npm install, or use --backend webgpu.');
  }
}

export async function initNodeBackend(name: BackendName = 'wasm'): Promise<NodeBackend> {
  if (name === 'webgl') throw new LabError('backend/unavailable', 'WebGL needs a browser; it is not available in Node.', 'Use --backend webgpu (Dawn), wasm or cpu.');
  if (name === 'webgpu') {
    silenceNodeHint();
    // Imported here, not at the top: a WASM or CPU run never loads Dawn's native module.
    const { initDawnBackend } = await import('./dawn');
    return { name, adapter: await initDawnBackend() };
  }
  if (name === 'wasm' && !wasmPathSet) {
    setWasmPaths(wasmDir() + path.sep);
    wasmPathSet = true;
  }
  silenceNodeHint();
  // The WASM module's Emscripten glue adds process handlers that rethrow any uncaught error or
  // unhandled rejection from inside its minified source (Node then prints kilobytes of it and
  // exits 7). Errors are the CLI's to report: drop the handlers the backend added.
  const before = { ue: process.listeners('uncaughtException'), ur: process.listeners('unhandledRejection') };
  const ok = await tf.setBackend(name);
  for (const l of process.listeners('uncaughtException')) if (!before.ue.includes(l)) process.removeListener('uncaughtException', l);
  for (const l of process.listeners('unhandledRejection')) if (!before.ur.includes(l)) process.removeListener('unhandledRejection', l);
  if (!ok) throw new Error(`Could not initialise the ${name} backend.`);
  await tf.ready();
  return { name };
}

/**
 * tfjs prints an advert for tfjs-node on first use in Node; it cannot be installed here (it
 * downloads a native library), so the hint is noise. PROD silences tfjs' warnings only.
 */
function silenceNodeHint(): void {
  tf.env().set('PROD', true);
}

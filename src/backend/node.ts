/**
 * tfjs backends in Node: the JavaScript CPU backend and WASM (loaded from node_modules).
 * tfjs-node is not used: it downloads a native library at install time, which these machines
 * cannot do.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { BackendName } from '../domain/run';

let wasmPathSet = false;

export async function initNodeBackend(name: BackendName = 'wasm'): Promise<BackendName> {
  if (name === 'webgpu' || name === 'webgl') {
    // WebGPU in Node needs Dawn (the `webgpu` package), installed by the caller before tfjs loads.
    if (!tf.findBackendFactory(name)) throw new Error(`The ${name} backend is not available in Node; use --backend wasm or cpu.`);
  }
  if (name === 'wasm' && !wasmPathSet) {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    setWasmPaths(path.join(dir, 'dist') + path.sep);
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
  return name;
}

/**
 * tfjs prints an advert for tfjs-node on first use in Node; it cannot be installed here (it
 * downloads a native library), so the hint is noise. PROD silences tfjs' warnings only.
 */
function silenceNodeHint(): void {
  tf.env().set('PROD', true);
}

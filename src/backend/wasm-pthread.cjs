'use strict';
/**
 * The script each pthread worker of tfjs' threaded WASM build runs in Node (src/backend/wasm.ts).
 * tfjs ships it only as a string inside a CommonJS module, written to be a file of its own with
 * `require` and `__filename` in scope; this runs it with both. Its string literals hold "\n"
 * escapes that the template literal turned into newlines: they are put back first (as tfjs does).
 * In the GPU package (scripts/gpu/prepare.sh: no node_modules) that module is copied beside this file.
 */
function workerModule() {
  try {
    return require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
  } catch {
    return require('./tfjs-backend-wasm-threaded-simd.worker.cjs');
  }
}
const { wasmWorkerContents } = workerModule();
new Function('require', '__filename', wasmWorkerContents.replace(/\n/g, '\\n'))(require, __filename);

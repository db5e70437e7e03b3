/** tfjs-backend-wasm's pthread worker script, shipped as a string in a CommonJS module (no types of its own). */
declare module '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js' {
  export const wasmWorkerContents: string;
}

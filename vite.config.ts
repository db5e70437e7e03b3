import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/**
 * The bundled model's content hash names its Cache API bucket, so a re-pretrained model is never
 * served stale from a visitor's cache.
 */
const bundled = 'public/models/tiny_pretrained.safetensors';
const bundledHash = existsSync(bundled) ? createHash('sha256').update(readFileSync(bundled)).digest('hex').slice(0, 12) : 'none';

/**
 * COOP/COEP make the page cross-origin isolated, which the threaded WASM backend needs
 * (SharedArrayBuffer). Both the dev and the preview server send them.
 */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
  define: { __BUNDLED_MODEL_HASH__: JSON.stringify(bundledHash) },
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});

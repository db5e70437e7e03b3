import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { ISOLATION_HEADERS } from './src/pwa/isolation.ts';

/**
 * The bundled models' content hash (every public/models/*.safetensors, in name order) names their
 * Cache API bucket, so a re-pretrained or added model is never served stale from a visitor's cache.
 */
const MODELS_DIR = 'public/models';
const bundledHash = (() => {
  const files = existsSync(MODELS_DIR)
    ? readdirSync(MODELS_DIR)
        .filter((f) => f.endsWith('.safetensors'))
        .sort()
    : [];
  if (!files.length) return 'none';
  const h = createHash('sha256');
  for (const f of files) h.update(f).update(readFileSync(`${MODELS_DIR}/${f}`));
  return h.digest('hex').slice(0, 12);
})();

/**
 * Which release a page is (its footer): LAB_BUILD_ID when set (a deploy can pass its own), else
 * the package version and the git commit. A lecturer can tell which build students have.
 */
function buildId(): string {
  if (process.env.LAB_BUILD_ID) return process.env.LAB_BUILD_ID;
  const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
  try {
    return `${version}+${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`;
  } catch {
    return version;
  }
}

/**
 * What the service worker precaches, so the lab starts offline after one visit: the app shell and
 * every chunk (the lazy views and the WebGPU backend too, so nothing is missing offline later),
 * the engine worker, the three WASM binaries and the bundled model; the plugin adds the manifest
 * and its icons. The largest file is the engine worker (~2 MB): the limit leaves room without
 * admitting anything unplanned (a hub checkpoint is 346 MB and never belongs here).
 */
const PRECACHE = ['**/*.{html,js,css,wasm}', 'models/*.safetensors'];
const PRECACHE_MAX_BYTES = 8 * 1024 * 1024;

export default defineConfig({
  // Relative URLs: one dist/ works at a domain root and under any sub-path, without a rebuild
  // (src/pwa/site.ts resolves public files from workers). `vite build --base /x/` still works.
  base: './',
  plugins: [
    react(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/pwa',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false, // src/pwa/register.ts registers it, after the page has loaded
      injectManifest: { globPatterns: PRECACHE, maximumFileSizeToCacheInBytes: PRECACHE_MAX_BYTES },
      devOptions: { enabled: false },
      manifest: {
        name: 'VPT vs full fine-tuning — ViT lab',
        short_name: 'ViT lab',
        description: 'Visual prompt tuning against full fine-tuning of a Vision Transformer, trained in the browser.',
        start_url: '.',
        scope: '.',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1f2937',
        // Rendered from public/favicon.svg with headless Chromium (the maskable one has the
        // grid inside the 80 % safe zone).
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'favicon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
    }),
  ],
  define: { __BUNDLED_MODEL_HASH__: JSON.stringify(bundledHash), __APP_BUILD__: JSON.stringify(buildId()) },
  // COOP/COEP make the page cross-origin isolated (WASM threads need it): both servers send them,
  // as the shipped host configurations do.
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
  // The dev server pre-bundles the engine worker's dependencies at start too (tfjs, its backends,
  // the WebGPU one imported lazily), instead of discovering them when the worker first loads and
  // reloading the page under a fresh visitor's first run.
  optimizeDeps: { entries: ['index.html', 'src/worker/engine.worker.ts'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});

import { describe, expect, it } from 'vitest';
import { chunkImports, groupFiles, measure, precacheUrls } from './size';

describe('size report', () => {
  it('reads static and dynamic imports of minified chunks', () => {
    const code = 'import{a as b}from"./shared-1.js";import"./side-2.js";const v=()=>import(`./View-3.js`);import(\'./lazy-4.js\')';
    expect(chunkImports(code)).toEqual({ static: ['./shared-1.js', './side-2.js'], dynamic: ['./View-3.js', './lazy-4.js'] });
  });

  it('groups a built site by when each file is needed', () => {
    const files = new Map<string, string | null>([
      ['index.html', '<script type="module" src="./assets/index-a.js"></script><link rel="stylesheet" href="./assets/index-b.css">'],
      [
        'assets/index-a.js',
        'import"./jsx-c.js";import(`./Paper-d.js`);import(`./workbox-window.prod-e.js`);new Worker(new URL(`engine.worker-f.js`,import.meta.url))',
      ],
      ['assets/jsx-c.js', ''],
      ['assets/index-b.css', null],
      ['assets/Paper-d.js', 'import"./charts-g.js"'],
      ['assets/charts-g.js', ''],
      ['assets/workbox-window.prod-e.js', ''],
      ['assets/engine.worker-f.js', 'import{x}from"./shared-h.js";import(`./dist-i.js`)'],
      ['assets/shared-h.js', ''],
      ['assets/dist-i.js', 'import{x}from"./shared-h.js"'],
      ['assets/tfjs-backend-wasm-simd-j.wasm', null],
      ['assets/tfjs-backend-wasm-threaded-simd-k.wasm', null],
      ['assets/tfjs-backend-wasm-l.wasm', null],
      ['assets/tfjs-backend-wasm-threaded-simd-m.js', 'var WasmBackendModuleThreadedSimd = (() => {})();'],
      ['models/tiny.safetensors', null],
      ['models/other.safetensors', null],
      ['sw.js', ''],
      ['_headers', null],
    ]);
    expect(Object.fromEntries(groupFiles(files, 'models/tiny.safetensors'))).toEqual({
      'index.html': 'page',
      'assets/index-a.js': 'page',
      'assets/jsx-c.js': 'page',
      'assets/index-b.css': 'page',
      'assets/Paper-d.js': 'views',
      'assets/charts-g.js': 'views',
      'assets/workbox-window.prod-e.js': 'offline',
      'sw.js': 'offline',
      'assets/engine.worker-f.js': 'worker',
      'assets/shared-h.js': 'worker',
      'assets/dist-i.js': 'webgpu',
      'assets/tfjs-backend-wasm-simd-j.wasm': 'wasm-simd',
      'assets/tfjs-backend-wasm-threaded-simd-k.wasm': 'wasm-threads',
      'assets/tfjs-backend-wasm-threaded-simd-m.js': 'wasm-threads',
      'assets/tfjs-backend-wasm-l.wasm': 'wasm-other',
      'models/tiny.safetensors': 'model',
      'models/other.safetensors': 'model-other',
    });
  });

  it('reads the precache list of a Workbox service worker', () => {
    expect(precacheUrls('e([{"revision":"1","url":"index.html"},{"revision":null,"url":"assets/a-x.js"},{url:"favicon.svg",revision:"2"}])')).toEqual([
      'index.html',
      'assets/a-x.js',
      'favicon.svg',
    ]);
  });

  it('compresses text and not random bytes', () => {
    const text = measure(new TextEncoder().encode('abc'.repeat(1000)), 't');
    expect(text.gzip).toBeLessThan(text.raw / 10);
    expect(text.brotli).toBeLessThan(text.raw / 10);
    const noise = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
    expect(measure(noise, 'n').raw).toBe(4096);
  });
});

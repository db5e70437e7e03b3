/**
 * The engine worker: the engine (src/engine/) on the browser's terms. tfjs lives here, never on
 * the page; checkpoints and data are read with the browser's loaders, runs are stored in
 * IndexedDB, and every EngineEvent goes back to the page by postMessage.
 */
import * as tf from '@tensorflow/tfjs';
import { initBrowserBackend } from '../backend/init';
import { browserDecoder } from '../data/decode.browser';
import { FileListSource, DirectoryHandleSource, UrlSource } from '../data/source';
import { ZipSource } from '../data/zip';
import { LabError, toErrorInfo } from '../domain/errors';
import { Engine } from '../engine/engine';
import { indexedDbPersistence } from '../engine/idb';
import { bundledModelUrl } from '../pwa/site';
import type { RunHost } from '../train/session';
import { loadCheckpoint } from '../weights/load';
import { HUB_CHECKPOINTS, dropOtherCaches, fetchAndOpen, readFileSource } from '../weights/sources';
import type { Command, EngineEvent } from '../engine/protocol';

const post = (e: EngineEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);

const browserHost: RunHost = {
  decoder: browserDecoder,
  async loadCheckpoint(spec, { onProgress, onNotice, signal }) {
    switch (spec.kind) {
      case 'hub': {
        const hub = HUB_CHECKPOINTS.find((h) => h.id === spec.id);
        if (!hub) throw new LabError('config/invalid', `Unknown hub checkpoint '${spec.id}'.`);
        // Parsed and mapped before it is cached: a file that is not this checkpoint is never stored.
        return fetchAndOpen(hub.url, (bytes) => loadCheckpoint(bytes, { name: hub.url, layout: hub.layout }), { onProgress, onNotice, signal });
      }
      case 'bundled': {
        const url = bundledModelUrl(spec.id);
        const cacheName = `vit-bundled-${__BUNDLED_MODEL_HASH__}`;
        await dropOtherCaches('vit-bundled-', cacheName);
        return fetchAndOpen(url, (bytes) => loadCheckpoint(bytes, { name: `${spec.id}.safetensors` }), { onProgress, onNotice, signal, cacheName });
      }
      case 'file':
        return loadCheckpoint(await readFileSource(spec.file, { onProgress }), { name: spec.name });
      default:
        throw new LabError('config/invalid', `Model source '${spec.kind}' is not available in the browser.`);
    }
  },
  async openSource(spec) {
    switch (spec.kind) {
      case 'files':
        return new FileListSource(spec.files.map((f) => ({ path: f.path, file: f.file as File })));
      case 'directory':
        return new DirectoryHandleSource(spec.handle as FileSystemDirectoryHandle);
      case 'zip':
        return ZipSource.open(spec.file, spec.name);
      case 'url':
        return new UrlSource(spec.base);
      default:
        throw new LabError('config/invalid', `Data source '${spec.kind}' is not available in the browser.`);
    }
  },
};

const engine = new Engine({
  run: browserHost,
  persistence: indexedDbPersistence(),
  initBackend: (override, wasmThreads) => initBrowserBackend(override, { threads: wasmThreads }),
  resetBackend: () => {
    try {
      tf.engine().reset();
    } catch {
      /* best effort: the next initialisation starts a new backend anyway */
    }
  },
  emit: post,
});

self.onmessage = (ev: MessageEvent<Command>) => engine.handle(ev.data);
self.addEventListener('unhandledrejection', (ev) => post({ type: 'error', error: toErrorInfo((ev as PromiseRejectionEvent).reason) }));

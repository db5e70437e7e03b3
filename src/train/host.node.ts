/** The Node side of a run: checkpoints and data from paths, URLs and the bundled model folder. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeDecoder } from '../data/decode.node.js';
import { openNodeSource } from '../data/source.node.js';
import { LabError } from '../domain/errors';
import { HUB_CHECKPOINTS, fetchAndOpen } from '../weights/sources';
import { loadCheckpoint } from '../weights/load';
import { loadCheckpointFromPath, readPathSource } from '../weights/node';
import type { RunHost } from './session';

/** The repository root (this file is src/train/host.node.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function bundledModelPath(id: string): string {
  return path.join(REPO_ROOT, 'public', 'models', `${id}.safetensors`);
}

export const nodeHost: RunHost = {
  decoder: nodeDecoder,
  async loadCheckpoint(spec, { onProgress, onNotice, signal }) {
    switch (spec.kind) {
      case 'path':
        return loadCheckpointFromPath(spec.path);
      case 'bundled': {
        const p = bundledModelPath(spec.id);
        return loadCheckpoint(await readPathSource(p, { onProgress }), { name: path.basename(p) });
      }
      case 'hub': {
        const hub = HUB_CHECKPOINTS.find((h) => h.id === spec.id);
        if (!hub) throw new LabError('config/invalid', `Unknown hub checkpoint '${spec.id}'.`, `Use one of: ${HUB_CHECKPOINTS.map((h) => h.id).join(', ')}.`);
        return fetchAndOpen(hub.url, (bytes) => loadCheckpoint(bytes, { name: hub.url, layout: hub.layout }), { onProgress, onNotice, signal });
      }
      case 'file':
        return loadCheckpoint(new Uint8Array(await spec.file.arrayBuffer()), { name: spec.name });
      case 'random':
        throw new Error('random models have no checkpoint');
    }
  },
  async openSource(spec) {
    if (spec.kind === 'path') return openNodeSource(spec.path);
    if (spec.kind === 'url') return openNodeSource(spec.base);
    throw new LabError('config/invalid', `Data source '${spec.kind}' is only available in the browser.`, 'Pass a folder, zip or URL with --data.');
  },
};

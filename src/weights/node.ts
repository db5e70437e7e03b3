/** Node-only checkpoint source (kept apart so browser bundles never import node:fs). */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { LabError } from '../errors';
import type { ProgressCallback } from '../progress';
import { loadCheckpoint, type LoadOptions } from './load';
import type { CanonicalCheckpoint } from './types';

/** Reads a checkpoint file from disk. */
export async function readPathSource(path: string, onProgress?: ProgressCallback): Promise<Uint8Array> {
  const what = basename(path);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new LabError('checkpoint/download-failed', `Cannot read checkpoint '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check the path.');
  }
  onProgress?.({ kind: 'initiate', what, unit: 'bytes', total: size });
  const buf = await readFile(path);
  onProgress?.({ kind: 'done', what, unit: 'bytes', total: buf.byteLength });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** readPathSource + loadCheckpoint, named after the file. */
export async function loadCheckpointFromPath(path: string, opts: Partial<LoadOptions> = {}): Promise<CanonicalCheckpoint> {
  return loadCheckpoint(await readPathSource(path), { name: basename(path), ...opts });
}

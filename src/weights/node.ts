/** Node-only checkpoint source (kept apart so browser bundles never import node:fs). */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { LabError, quoted } from '../domain/errors';
import type { ProgressCallback } from '../domain/progress';
import { loadCheckpoint, type LoadOptions } from './load';
import { FileProblem, readFileBounded } from '../data/source.node.js';
import { MAX_CHECKPOINT_BYTES, checkCheckpointSize } from './sources';
import type { CanonicalCheckpoint } from './types';

/**
 * Reads a checkpoint (or golden) file from disk: a named error for a folder, a pipe or a device
 * (/dev/zero would never end), a missing file, or one larger than a checkpoint can be.
 */
export async function readPathSource(path: string, { onProgress }: { onProgress?: ProgressCallback } = {}): Promise<Uint8Array> {
  const what = basename(path);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    size = 0; // readFileBounded names the problem
  }
  onProgress?.({ kind: 'initiate', what, unit: 'bytes', total: size });
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path, MAX_CHECKPOINT_BYTES);
  } catch (e) {
    if (!(e instanceof FileProblem)) throw e;
    if (e.kind === 'too-large') checkCheckpointSize(e.size, quoted(path));
    if (e.kind === 'not-file')
      throw new LabError(
        'checkpoint/unreadable',
        `${quoted(path)} is ${e.detail}, not a checkpoint file.`,
        e.detail === 'a folder' ? 'Give the .safetensors or .npz file inside it.' : 'Give the path of a .safetensors or .npz file.',
      );
    throw new LabError('checkpoint/unreadable', `Cannot read ${quoted(path)}: ${e.detail}.`, 'Check the path.');
  }
  onProgress?.({ kind: 'done', what, unit: 'bytes', total: bytes.byteLength });
  return bytes;
}

/** readPathSource + loadCheckpoint, named after the file. */
export async function loadCheckpointFromPath(path: string, opts: Partial<LoadOptions> = {}): Promise<CanonicalCheckpoint> {
  return loadCheckpoint(await readPathSource(path), { name: basename(path), ...opts });
}

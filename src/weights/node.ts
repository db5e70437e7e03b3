/** Node-only checkpoint source (kept apart so browser bundles never import node:fs). */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { LabError, quoted } from '../domain/errors';
import type { ProgressCallback } from '../domain/progress';
import { loadCheckpoint, type LoadOptions } from './load';
import { checkCheckpointSize } from './sources';
import type { CanonicalCheckpoint } from './types';

/** Reads a checkpoint (or golden) file from disk: a named error for a folder, a missing or huge file. */
export async function readPathSource(path: string, { onProgress }: { onProgress?: ProgressCallback } = {}): Promise<Uint8Array> {
  const what = basename(path);
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory())
      throw new LabError('checkpoint/unreadable', `${quoted(path)} is a folder, not a checkpoint file.`, 'Give the .safetensors or .npz file inside it.');
    size = s.size;
  } catch (e) {
    if (e instanceof LabError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new LabError(
      'checkpoint/unreadable',
      `Cannot read ${quoted(path)}: ${code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message)}.`,
      'Check the path.',
    );
  }
  checkCheckpointSize(size, quoted(path));
  onProgress?.({ kind: 'initiate', what, unit: 'bytes', total: size });
  const buf = await readFile(path);
  onProgress?.({ kind: 'done', what, unit: 'bytes', total: buf.byteLength });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** readPathSource + loadCheckpoint, named after the file. */
export async function loadCheckpointFromPath(path: string, opts: Partial<LoadOptions> = {}): Promise<CanonicalCheckpoint> {
  return loadCheckpoint(await readPathSource(path), { name: basename(path), ...opts });
}

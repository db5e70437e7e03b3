/**
 * Run storage in a folder, for the engine in Node (the CLIs' runs, runner.node.ts): one file per record, written whole under a
 * temporary name and renamed into place, so a crash never leaves half a record.
 *
 *   <dir>/runs/<runId>.json            the run's record (summary, grouping)
 *   <dir>/checkpoints/<runId>.bin      the resume state (epochs done, metrics, checkpoint bytes)
 *   <dir>/gradcam/<runId>.bin          the latest Grad-CAM samples
 *   <dir>/trained/<runId>.safetensors  the trained parameters, with <runId>.json beside them
 *
 * `.bin` files are Node's structured-clone serialisation (node:v8), which keeps typed arrays and
 * ArrayBuffers as they are.
 */
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { ResumeState, StoredRun, TrainedInfo } from '../domain/run';
import type { Persistence, StoredGradCam, StoredTrained } from './persistence';

const KINDS = ['runs', 'checkpoints', 'gradcam', 'trained'] as const;
type Kind = (typeof KINDS)[number];

/** Run ids become file names: anything but letters, digits, '.', '_' and '-' is escaped. */
const fileStem = (runId: string) => encodeURIComponent(runId).replace(/%/g, '_');

async function writeAtomic(file: string, bytes: Uint8Array | string, tag: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${tag}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

async function readOrUndefined(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function listJson(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.json'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Runs kept under `dir` (created on first write). */
export function filePersistence(dir: string): Persistence {
  const at = (kind: Kind, runId: string, ext: string) => path.join(dir, kind, `${fileStem(runId)}${ext}`);
  let writes = 0; // a temporary name per write, so two writes of one record never share one
  const write = (file: string, bytes: Uint8Array | string) => writeAtomic(file, bytes, ++writes);
  return {
    where: dir,
    putRun: (run) => write(at('runs', run.runId, '.json'), JSON.stringify(run)),
    putCheckpoint: (runId, state) => write(at('checkpoints', runId, '.bin'), serialize(state)),
    async getCheckpoint(runId) {
      const bytes = await readOrUndefined(at('checkpoints', runId, '.bin'));
      return bytes && (deserialize(bytes) as ResumeState);
    },
    deleteCheckpoint: (runId) => rm(at('checkpoints', runId, '.bin'), { force: true }),
    putGradCam: (g) => write(at('gradcam', g.runId, '.bin'), serialize(g)),
    async putTrained(t) {
      await write(at('trained', t.runId, '.safetensors'), new Uint8Array(await t.blob.arrayBuffer()));
      await write(at('trained', t.runId, '.json'), JSON.stringify({ runId: t.runId, fileName: t.fileName, trainable: t.trainable }));
    },
    async getTrained(runId) {
      const meta = await readOrUndefined(at('trained', runId, '.json'));
      const bytes = await readOrUndefined(at('trained', runId, '.safetensors'));
      if (!meta || !bytes) return undefined;
      return { ...(JSON.parse(meta.toString('utf8')) as Omit<StoredTrained, 'blob'>), blob: new Blob([new Uint8Array(bytes)]) };
    },
    async loadAll() {
      const runs: StoredRun[] = [];
      for (const f of await listJson(path.join(dir, 'runs'))) runs.push(JSON.parse(await readFile(path.join(dir, 'runs', f), 'utf8')) as StoredRun);
      runs.sort((a, b) => a.summary.startedAt - b.summary.startedAt);
      const checkpointIds = new Set<string>();
      const gradcams: StoredGradCam[] = [];
      const trained = new Map<string, TrainedInfo>();
      for (const r of runs) {
        if (await readOrUndefined(at('checkpoints', r.runId, '.bin'))) checkpointIds.add(r.runId);
        const g = await readOrUndefined(at('gradcam', r.runId, '.bin'));
        if (g) gradcams.push(deserialize(g) as StoredGradCam);
        // What is known about the trained parameters, without reading their bytes.
        const meta = await readOrUndefined(at('trained', r.runId, '.json'));
        if (meta) {
          const { fileName, trainable } = JSON.parse(meta.toString('utf8')) as Omit<StoredTrained, 'blob'>;
          trained.set(r.runId, { fileName, bytes: (await stat(at('trained', r.runId, '.safetensors'))).size, tensors: trainable.length });
        }
      }
      return { runs, checkpointIds, gradcams, trained };
    },
    async deleteRun(runId) {
      await rm(at('runs', runId, '.json'), { force: true });
      await rm(at('checkpoints', runId, '.bin'), { force: true });
      await rm(at('gradcam', runId, '.bin'), { force: true });
      await rm(at('trained', runId, '.safetensors'), { force: true });
      await rm(at('trained', runId, '.json'), { force: true });
    },
  };
}

/**
 * Removes the folder once it holds no run (its empty kind folders, then itself). Anything else in
 * it, a run not deleted or a file that is not the lab's, keeps the folder and everything in it.
 */
export async function removeIfEmpty(dir: string): Promise<void> {
  const absentOrInUse = (e: unknown) => ['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');
  for (const kind of KINDS)
    await rmdir(path.join(dir, kind)).catch((e: unknown) => {
      if (!absentOrInUse(e)) throw e;
    });
  await rmdir(dir).catch((e: unknown) => {
    if (!absentOrInUse(e)) throw e;
  });
}

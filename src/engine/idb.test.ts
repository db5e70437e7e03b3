/**
 * The page's run storage over IndexedDB (in memory here, through fake-indexeddb): it reads a
 * database as the earlier versions wrote it with IndexedDB's own calls, and writes, reads and
 * deletes every kind of row the engine keeps.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { ResumeState, StoredRun } from '../domain/run';
import { indexedDbPersistence } from './idb';

const run = (runId: string, startedAt: number): StoredRun => ({
  runId,
  groupId: 'g',
  groupLabel: 'group',
  methodLabel: 'VPT-deep',
  summary: {
    config: {
      runId,
      modelLabel: 'm',
      modelSource: 'random:fixture_tiny',
      taskId: 'synth_count',
      dataSource: 'procedural',
      method: 'vpt_deep',
      trainSize: 8,
      valSize: 4,
      testSize: 4,
      epochs: 2,
      batchSize: 4,
      seed: 0,
      imageSize: 0,
      gradcamSamples: 0,
    },
    backend: 'wasm',
    trainableParams: 10,
    totalParams: 100,
    epochs: [],
    status: 'done',
    startedAt,
    notices: [],
  },
});
const state: ResumeState = { epochsDone: 1, checkpoint: new Uint8Array([1, 2, 3]).buffer, epochs: [] };

/** Resolves a raw IndexedDB request. */
const done = <T>(req: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

describe('runs in IndexedDB', () => {
  it('reads a database as the earlier versions wrote it: same name, version, stores and rows', async () => {
    const open = indexedDB.open('vpt-lab', 2);
    open.onupgradeneeded = () => {
      for (const s of ['runs', 'checkpoints', 'gradcam', 'trained']) open.result.createObjectStore(s, { keyPath: 'runId' });
    };
    const db = await done(open);
    const tx = db.transaction(['runs', 'checkpoints', 'trained'], 'readwrite');
    tx.objectStore('runs').put(run('later', 20));
    tx.objectStore('runs').put(run('earlier', 10));
    tx.objectStore('checkpoints').put({ runId: 'later', state });
    const blob = new Blob([new Uint8Array(7)]);
    tx.objectStore('trained').put({ runId: 'earlier', blob, fileName: 'e.safetensors', trainable: ['head.weight', 'head.bias'] });
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();

    const p = indexedDbPersistence();
    const all = await p.loadAll();
    expect(all.runs.map((r) => r.runId)).toEqual(['earlier', 'later']);
    expect([...all.checkpointIds]).toEqual(['later']);
    expect(all.trained.get('earlier')).toEqual({ fileName: 'e.safetensors', bytes: 7, tensors: 2 });
    expect(new Uint8Array((await p.getCheckpoint('later'))!.checkpoint)).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('writes, reads and deletes a run with everything stored beside it', async () => {
    const p = indexedDbPersistence();
    await p.putRun(run('x', 30));
    await p.putCheckpoint('x', state);
    await p.putGradCam({ runId: 'x', epoch: 1, samples: [] });
    await p.putTrained({ runId: 'x', blob: new Blob([new Uint8Array(3)]), fileName: 'x.safetensors', trainable: ['prompts.0'] });
    let all = await p.loadAll();
    expect(all.checkpointIds.has('x')).toBe(true);
    expect(all.gradcams.map((g) => g.runId)).toContain('x');
    expect((await p.getTrained('x'))?.fileName).toBe('x.safetensors');
    await p.deleteCheckpoint('x');
    expect(await p.getCheckpoint('x')).toBeUndefined();
    await p.deleteRun('x');
    all = await p.loadAll();
    expect(all.runs.map((r) => r.runId)).not.toContain('x');
    expect(all.gradcams.map((g) => g.runId)).not.toContain('x');
    expect(await p.getTrained('x')).toBeUndefined();
  });
});

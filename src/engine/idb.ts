/**
 * Run storage in IndexedDB, from the page's engine worker (IndexedDB works the same there as on
 * the main thread). Same database, stores and rows as the versions that wrote it from the main
 * thread, so runs stored by them load unchanged.
 */
import type { ResumeState, StoredRun } from '../domain/run';
import { trainedInfo, type Persistence, type StoredGradCam, type StoredTrained } from './persistence';

const DB_NAME = 'vpt-lab';
const DB_VERSION = 2;
const RUNS = 'runs';
const CHECKPOINTS = 'checkpoints';
const GRADCAM = 'gradcam';
const TRAINED = 'trained';
const STORES = [RUNS, CHECKPOINTS, GRADCAM, TRAINED];

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Runs in this browser's IndexedDB (opened on first use). */
export function indexedDbPersistence(): Persistence {
  let opened: Promise<IDBDatabase> | null = null;
  const open = (): Promise<IDBDatabase> => {
    if (!opened) {
      opened = new Promise((resolve, reject) => {
        if (typeof indexedDB === 'undefined') return reject(new Error('IndexedDB is not available in this browser.'));
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          const db = req.result;
          for (const name of STORES) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: 'runId' });
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
      });
      opened.catch(() => (opened = null));
    }
    return opened;
  };
  const put = async (store: string, value: unknown) => {
    const tx = (await open()).transaction(store, 'readwrite');
    tx.objectStore(store).put(value);
    await done(tx);
  };
  const get = async <T>(store: string, runId: string) => (await request((await open()).transaction(store).objectStore(store).get(runId))) as T | undefined;
  const remove = async (stores: string[], runId: string) => {
    const tx = (await open()).transaction(stores, 'readwrite');
    for (const s of stores) tx.objectStore(s).delete(runId);
    await done(tx);
  };

  return {
    where: 'this browser (IndexedDB)',
    putRun: (run: StoredRun) => put(RUNS, run),
    putCheckpoint: (runId: string, state: ResumeState) => put(CHECKPOINTS, { runId, state }),
    getCheckpoint: async (runId) => (await get<{ state: ResumeState }>(CHECKPOINTS, runId))?.state,
    deleteCheckpoint: (runId) => remove([CHECKPOINTS], runId),
    putGradCam: (g: StoredGradCam) => put(GRADCAM, g),
    putTrained: (t: StoredTrained) => put(TRAINED, t),
    getTrained: (runId) => get<StoredTrained>(TRAINED, runId),
    // The trained Blobs are handles: reading them here does not read their bytes.
    async loadAll() {
      const tx = (await open()).transaction(STORES);
      const [runs, keys, gradcams, trained] = await Promise.all([
        request(tx.objectStore(RUNS).getAll()) as Promise<StoredRun[]>,
        request(tx.objectStore(CHECKPOINTS).getAllKeys()),
        request(tx.objectStore(GRADCAM).getAll()) as Promise<StoredGradCam[]>,
        request(tx.objectStore(TRAINED).getAll()) as Promise<StoredTrained[]>,
      ]);
      runs.sort((a, b) => a.summary.startedAt - b.summary.startedAt);
      return { runs, checkpointIds: new Set(keys.map(String)), gradcams, trained: new Map(trained.map((t) => [t.runId, trainedInfo(t)])) };
    },
    deleteRun: (runId) => remove(STORES, runId),
  };
}

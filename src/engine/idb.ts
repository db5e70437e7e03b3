/**
 * Run storage in IndexedDB, from the page's engine worker (IndexedDB works the same there as on
 * the main thread), through `idb`: promises over IndexedDB's requests, a write settled only when
 * its transaction has committed. Same database, stores and rows as the versions that wrote it
 * from the main thread, so runs stored by them load unchanged.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ResumeState, StoredRun } from '../domain/run';
import { trainedInfo, type Persistence, type StoredGradCam, type StoredTrained } from './persistence';

const DB_NAME = 'vpt-lab';
const DB_VERSION = 2;

/** Every store holds one row per run, keyed by its `runId`. */
interface LabDB extends DBSchema {
  runs: { key: string; value: StoredRun };
  checkpoints: { key: string; value: { runId: string; state: ResumeState } };
  gradcam: { key: string; value: StoredGradCam };
  trained: { key: string; value: StoredTrained };
}

const STORES = ['runs', 'checkpoints', 'gradcam', 'trained'] as const;

/** Runs in this browser's IndexedDB (opened on first use). */
export function indexedDbPersistence(): Persistence {
  let opened: Promise<IDBPDatabase<LabDB>> | null = null;
  const open = (): Promise<IDBPDatabase<LabDB>> => {
    if (typeof indexedDB === 'undefined') return Promise.reject(new Error('IndexedDB is not available in this browser.'));
    if (!opened) {
      opened = openDB<LabDB>(DB_NAME, DB_VERSION, {
        upgrade(db) {
          for (const name of STORES) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: 'runId' });
        },
      });
      // A failed open (storage refused, blocked by another tab) is tried again on the next use.
      opened.catch(() => (opened = null));
    }
    return opened;
  };

  return {
    where: 'this browser (IndexedDB)',
    putRun: async (run) => void (await (await open()).put('runs', run)),
    putCheckpoint: async (runId, state) => void (await (await open()).put('checkpoints', { runId, state })),
    getCheckpoint: async (runId) => (await (await open()).get('checkpoints', runId))?.state,
    deleteCheckpoint: async (runId) => (await open()).delete('checkpoints', runId),
    putGradCam: async (g) => void (await (await open()).put('gradcam', g)),
    putTrained: async (t) => void (await (await open()).put('trained', t)),
    getTrained: async (runId) => (await open()).get('trained', runId),
    // The trained Blobs are handles: reading them here does not read their bytes.
    async loadAll() {
      const tx = (await open()).transaction([...STORES]);
      const [runs, keys, gradcams, trained] = await Promise.all([
        tx.objectStore('runs').getAll(),
        tx.objectStore('checkpoints').getAllKeys(),
        tx.objectStore('gradcam').getAll(),
        tx.objectStore('trained').getAll(),
        tx.done,
      ]);
      runs.sort((a, b) => a.summary.startedAt - b.summary.startedAt);
      return { runs, checkpointIds: new Set(keys), gradcams, trained: new Map(trained.map((t) => [t.runId, trainedInfo(t)])) };
    },
    async deleteRun(runId) {
      const tx = (await open()).transaction([...STORES], 'readwrite');
      await Promise.all([...STORES.map((s) => tx.objectStore(s).delete(runId)), tx.done]);
    },
  };
}

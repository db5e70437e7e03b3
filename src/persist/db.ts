/**
 * Run storage in IndexedDB on the main thread: each run's summary (rewritten as every epoch
 * lands), the latest checkpoint of an unfinished run (to resume it), and its latest Grad-CAM
 * samples. Failures to store never stop a run: they become a notice.
 */
import type { GradCamSample, ResumeState, RunSummary } from '../worker/protocol';

const DB_NAME = 'vpt-lab';
const DB_VERSION = 1;
const RUNS = 'runs';
const CHECKPOINTS = 'checkpoints';
const GRADCAM = 'gradcam';

/** What survives a reload for one run: its summary and how the page grouped it. */
export interface StoredRun {
  runId: string;
  summary: RunSummary;
  groupId: string;
  groupLabel: string;
  methodLabel: string;
  classNames?: string[];
  numClasses?: number;
}

export interface StoredGradCam {
  runId: string;
  epoch: number;
  samples: GradCamSample[];
}

let dbPromise: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') return reject(new Error('IndexedDB is not available in this browser.'));
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        for (const name of [RUNS, CHECKPOINTS, GRADCAM]) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: 'runId' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
    });
    dbPromise.catch(() => (dbPromise = null));
  }
  return dbPromise;
}

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

async function put(store: string, value: unknown): Promise<void> {
  const db = await open();
  const tx = db.transaction(store, 'readwrite');
  tx.objectStore(store).put(value);
  await done(tx);
}

export const putRun = (run: StoredRun) => put(RUNS, run);

export async function putCheckpoint(runId: string, state: ResumeState): Promise<void> {
  await put(CHECKPOINTS, { runId, state });
}

export async function getCheckpoint(runId: string): Promise<ResumeState | undefined> {
  const db = await open();
  const row = await request(db.transaction(CHECKPOINTS).objectStore(CHECKPOINTS).get(runId)) as { state: ResumeState } | undefined;
  return row?.state;
}

export async function deleteCheckpoint(runId: string): Promise<void> {
  const db = await open();
  const tx = db.transaction(CHECKPOINTS, 'readwrite');
  tx.objectStore(CHECKPOINTS).delete(runId);
  await done(tx);
}

export const putGradCam = (g: StoredGradCam) => put(GRADCAM, g);

/** Every stored run (oldest first), the ids that have a checkpoint, and the stored Grad-CAMs. */
export async function loadAll(): Promise<{ runs: StoredRun[]; checkpointIds: Set<string>; gradcams: StoredGradCam[] }> {
  const db = await open();
  const tx = db.transaction([RUNS, CHECKPOINTS, GRADCAM]);
  const [runs, keys, gradcams] = await Promise.all([
    request(tx.objectStore(RUNS).getAll()) as Promise<StoredRun[]>,
    request(tx.objectStore(CHECKPOINTS).getAllKeys()),
    request(tx.objectStore(GRADCAM).getAll()) as Promise<StoredGradCam[]>,
  ]);
  runs.sort((a, b) => a.summary.startedAt - b.summary.startedAt);
  return { runs, checkpointIds: new Set(keys.map(String)), gradcams };
}

export async function deleteRun(runId: string): Promise<void> {
  const db = await open();
  const tx = db.transaction([RUNS, CHECKPOINTS, GRADCAM], 'readwrite');
  for (const s of [RUNS, CHECKPOINTS, GRADCAM]) tx.objectStore(s).delete(runId);
  await done(tx);
}

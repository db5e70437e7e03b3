/**
 * Run storage in IndexedDB on the main thread: each run's summary (rewritten as every epoch
 * lands), the latest checkpoint of an unfinished run (to resume it), its latest Grad-CAM
 * samples, and the trained parameters of a finished run (a safetensors file as a Blob: a
 * ViT-B/16 FT export is ~346 MB, so it is never held in the store, only read back to download).
 * Failures to store never stop a run: they become a notice.
 */
import type { GradCamSample, ResumeState, RunSummary } from '../domain/run';

const DB_NAME = 'vpt-lab';
const DB_VERSION = 2;
const RUNS = 'runs';
const CHECKPOINTS = 'checkpoints';
const GRADCAM = 'gradcam';
const TRAINED = 'trained';
const STORES = [RUNS, CHECKPOINTS, GRADCAM, TRAINED];

/** What survives a reload for one run: its summary and how the page grouped it. */
export interface StoredRun {
  runId: string;
  summary: RunSummary;
  groupId: string;
  groupLabel: string;
  methodLabel: string;
  classNames?: string[];
  numClasses?: number;
  /** File name of the trained parameters the run started from, when it imported some. */
  importedFrom?: string;
}

/** A finished run's trained parameters (safetensors), with what the store keeps about them. */
export interface StoredTrained {
  runId: string;
  blob: Blob;
  fileName: string;
  /** Names of the trained tensors (e.g. prompts.0…, head.weight, head.bias). */
  trainable: string[];
}

/** What the page keeps in memory about stored trained parameters (never the bytes). */
export interface TrainedInfo {
  fileName: string;
  bytes: number;
  tensors: number;
}

export function trainedInfo(t: StoredTrained): TrainedInfo {
  return { fileName: t.fileName, bytes: t.blob.size, tensors: t.trainable.length };
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
        for (const name of STORES) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: 'runId' });
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

export const putTrained = (t: StoredTrained) => put(TRAINED, t);

export async function getTrained(runId: string): Promise<StoredTrained | undefined> {
  const db = await open();
  return (await request(db.transaction(TRAINED).objectStore(TRAINED).get(runId))) as StoredTrained | undefined;
}

/**
 * Every stored run (oldest first), the ids that have a checkpoint, the stored Grad-CAMs, and
 * what is known about each run's stored trained parameters (the Blobs are handles: reading them
 * here does not read their bytes).
 */
export async function loadAll(): Promise<{ runs: StoredRun[]; checkpointIds: Set<string>; gradcams: StoredGradCam[]; trained: Map<string, TrainedInfo> }> {
  const db = await open();
  const tx = db.transaction(STORES);
  const [runs, keys, gradcams, trained] = await Promise.all([
    request(tx.objectStore(RUNS).getAll()) as Promise<StoredRun[]>,
    request(tx.objectStore(CHECKPOINTS).getAllKeys()),
    request(tx.objectStore(GRADCAM).getAll()) as Promise<StoredGradCam[]>,
    request(tx.objectStore(TRAINED).getAll()) as Promise<StoredTrained[]>,
  ]);
  runs.sort((a, b) => a.summary.startedAt - b.summary.startedAt);
  return { runs, checkpointIds: new Set(keys.map(String)), gradcams, trained: new Map(trained.map((t) => [t.runId, trainedInfo(t)])) };
}

/** Deletes a run and everything stored with it (checkpoint, Grad-CAMs, trained parameters). */
export async function deleteRun(runId: string): Promise<void> {
  const db = await open();
  const tx = db.transaction(STORES, 'readwrite');
  for (const s of STORES) tx.objectStore(s).delete(runId);
  await done(tx);
}

/**
 * What the engine keeps of its runs between sessions, behind one interface: each run's record
 * (rewritten as the run moves on), the checkpoint of an unfinished run's last epoch (to resume
 * it), its latest Grad-CAM samples, and a finished run's trained parameters (a safetensors file
 * as a Blob: a ViT-B/16 FT export is ~346 MB, so the page never holds it, it only downloads it).
 *
 * Implementations: IndexedDB in the page's worker (idb.ts), files in Node (files.node.ts), and
 * memory (below) for tests and for a browser that refuses storage.
 */
import type { GradCamSample, ResumeState, StoredRun, TrainedInfo } from '../domain/run';

/** A finished run's trained parameters (safetensors), with what the page is told about them. */
export interface StoredTrained {
  runId: string;
  blob: Blob;
  fileName: string;
  /** Names of the trained tensors (e.g. prompts.0…, head.weight, head.bias). */
  trainable: string[];
}

export function trainedInfo(t: StoredTrained): TrainedInfo {
  return { fileName: t.fileName, bytes: t.blob.size, tensors: t.trainable.length };
}

export interface StoredGradCam {
  runId: string;
  epoch: number;
  samples: GradCamSample[];
}

/** Everything stored, as `loadAll` reads it at start-up. */
export interface StoredState {
  /** Oldest first. */
  runs: StoredRun[];
  checkpointIds: Set<string>;
  gradcams: StoredGradCam[];
  trained: Map<string, TrainedInfo>;
}

export interface Persistence {
  /** Where the runs are kept, in words (for messages). */
  readonly where: string;
  putRun(run: StoredRun): Promise<void>;
  putCheckpoint(runId: string, state: ResumeState): Promise<void>;
  getCheckpoint(runId: string): Promise<ResumeState | undefined>;
  deleteCheckpoint(runId: string): Promise<void>;
  putGradCam(g: StoredGradCam): Promise<void>;
  putTrained(t: StoredTrained): Promise<void>;
  getTrained(runId: string): Promise<StoredTrained | undefined>;
  loadAll(): Promise<StoredState>;
  /** A run and everything stored with it (checkpoint, Grad-CAMs, trained parameters). */
  deleteRun(runId: string): Promise<void>;
}

/** Runs kept in memory only: they last as long as the engine does. */
export function memoryPersistence(where = 'memory (not kept after this session)'): Persistence {
  const runs = new Map<string, StoredRun>();
  const checkpoints = new Map<string, ResumeState>();
  const gradcams = new Map<string, StoredGradCam>();
  const trained = new Map<string, StoredTrained>();
  return {
    where,
    putRun: async (r) => void runs.set(r.runId, structuredClone(r)),
    putCheckpoint: async (id, s) => void checkpoints.set(id, s),
    getCheckpoint: async (id) => checkpoints.get(id),
    deleteCheckpoint: async (id) => void checkpoints.delete(id),
    putGradCam: async (g) => void gradcams.set(g.runId, g),
    putTrained: async (t) => void trained.set(t.runId, t),
    getTrained: async (id) => trained.get(id),
    loadAll: async () => ({
      runs: [...runs.values()].map((r) => structuredClone(r)).sort((a, b) => a.summary.startedAt - b.summary.startedAt),
      checkpointIds: new Set(checkpoints.keys()),
      gradcams: [...gradcams.values()],
      trained: new Map([...trained.values()].map((t) => [t.runId, trainedInfo(t)])),
    }),
    deleteRun: async (id) => {
      for (const m of [runs, checkpoints, gradcams, trained]) m.delete(id);
    },
  };
}

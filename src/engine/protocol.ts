/**
 * The engine's language: every command it takes and every event it reports, and nothing else.
 * In the page they travel between the main thread and the engine's worker, so they are plain,
 * structured-cloneable data only: numbers, strings, small typed arrays, Files, Blobs and
 * ArrayBuffers. The words the messages are made of live in domain/.
 *
 * The engine owns the runs: the page asks (`enqueue`, `pause`, `cancel`, ...), the engine keeps
 * the queue and every run's record, stores them, and tells the page what changed (`run`,
 * `queue`, `deleted`, and the transient `progress`, `step`, `gradcam`).
 */
import type { BackendChoice } from '../backend/select';
import type { BenchProfile, BenchRow } from '../bench/bench';
import type { ErrorInfo } from '../domain/errors';
import type { Progress } from '../domain/progress';
import type { BackendName, DataSpec, GradCamSample, ModelSpec, QueueState, RunConfig, RunInfo } from '../domain/run';
import type { KernelCheckRow } from '../kernels/webgpu/check';
import type { VerifyReport } from '../verify/golden';
import type { ProbeSpeed } from '../train/probe';

/** A benchmark case as the page asks for it (the preset's config is the engine's). */
export interface BenchCaseRequest {
  preset: string;
  mode: 'forward' | 'ft' | 'vpt_deep';
  batch: number;
  promptLength: number;
  imageSize?: number;
  /** Recompute each block's activations in the backward pass (see train/memory.ts). */
  recompute?: boolean;
}

// ---- commands: page -> worker ----
export type Command =
  /** Choose (or switch) the backend; the answer is `ready`. */
  | { type: 'init'; backend?: BackendName }
  /** Read the stored runs; the answer is `restored` (ones stopped while training come back interrupted, waiting ones queued). */
  | { type: 'restore' }
  /** Queue runs, one after another, as one group (a new one, or `groupId`'s: a rerun joins its first try). */
  | { type: 'enqueue'; groupLabel: string; runs: RunConfig[]; groupId?: string }
  | { type: 'pause'; runId: string }
  | { type: 'resume'; runId: string }
  | { type: 'cancel'; runId: string }
  /** Cancel the running run and everything still queued. */
  | { type: 'cancel-queue' }
  /** Run an interrupted, failed or cancelled run again, from its stored checkpoint when it has one. */
  | { type: 'restart'; runId: string; model: ModelSpec; data: DataSpec; importParams?: RunConfig['importParams'] }
  /** Forget a run and everything stored with it (not the running one). */
  | { type: 'delete'; runId: string }
  /** A finished run's trained parameters as a file; the answer is `trained-file`. */
  | { type: 'export-trained'; requestId: string; runId: string }
  | { type: 'verify'; requestId: string; weights: Blob; weightsName: string; golden: Blob; backend?: BackendName }
  /**
   * Benchmark cases; `threads`: WASM threads to run them on; `matmul`: add the plain 2-D matmul
   * at that count; `profile`: also each case's kernel-by-kernel times.
   */
  | {
      type: 'bench';
      requestId: string;
      backend?: BackendName;
      cases: BenchCaseRequest[];
      warmup: number;
      runs: number;
      kernels?: 'lab' | 'stock';
      threads?: number;
      matmul?: boolean;
      profile?: boolean;
    }
  /** The lab's WebGPU kernels against stock tfjs on random inputs (forward and every gradient). */
  | { type: 'kernel-check'; requestId: string; backend?: BackendName; full?: boolean; timing?: boolean; reps?: number; only?: string[] }
  /**
   * Check a picked checkpoint or data source now, not at Start: the answer is `inspect-result`,
   * or an error event with the request id. Runs beside a training run (it needs no backend).
   */
  | { type: 'inspect'; requestId: string; taskId: string; model?: ModelSpec; data?: DataSpec; skipBad?: boolean; importParams?: { file: Blob; name: string } }
  /**
   * Measure a run's configuration on this device: a few real training steps (the chosen model at
   * its sizes, method, batch, resolution and classes) on generated images, and one validation pass.
   * Queued like a check (never beside a run); answered by `probe-result` or an error event.
   */
  | { type: 'probe'; requestId: string; config: RunConfig }
  /** Stop a probe (Start stops one by itself); its answer is an error 'run/cancelled'. */
  | { type: 'cancel-probe'; requestId: string }
  | {
      type: 'frechet';
      requestId: string;
      model: ModelSpec;
      taskIds: string[];
      data: DataSpec;
      reference: DataSpec | { kind: 'pretraining' };
      count: number;
      imageSize: number;
      seed: number;
    };

// ---- events: worker -> page ----
export type EngineEvent =
  | { type: 'ready'; choice: BackendChoice }
  /** Every stored run, with the latest Grad-CAM samples of those that have some. */
  /** `stopped`: the runs a reload stopped (interrupted while training, or still queued), in queue order. */
  | { type: 'restored'; runs: RunInfo[]; gradcams: { runId: string; epoch: number; samples: GradCamSample[] }[]; stopped: string[] }
  /** A run's record changed (queued, started, an epoch, a checkpoint, its result, its end). */
  | { type: 'run'; run: RunInfo }
  | { type: 'deleted'; runId: string }
  | { type: 'queue'; waiting: string[]; active: string | null; state: QueueState }
  | { type: 'progress'; runId: string; progress: Progress }
  | { type: 'step'; runId: string; epoch: number; phase: number; step: number; stepsPerEpoch: number; loss: number; imagesPerSec: number }
  | { type: 'gradcam'; runId: string; epoch: number; samples: GradCamSample[] }
  | { type: 'notice'; runId?: string; message: string }
  | { type: 'error'; runId?: string; requestId?: string; error: ErrorInfo }
  | { type: 'trained-file'; requestId: string; runId: string; blob: Blob; fileName: string }
  | { type: 'verify-result'; requestId: string; report: VerifyReport; lines: string[] }
  | { type: 'bench-result'; requestId: string; rows: BenchRow[]; adapter: string; profiles?: BenchProfile[] }
  | { type: 'kernel-check-result'; requestId: string; rows: KernelCheckRow[]; lines: string[]; pass: boolean; adapter: string }
  /** A picked file checked: what it holds, in words, and anything worth a warning. */
  | { type: 'inspect-result'; requestId: string; text: string; warnings: string[] }
  /** A probe's speeds (train/probe.ts), on which backend (WASM: threads). */
  | ({ type: 'probe-result'; requestId: string; threads?: number } & ProbeSpeed)
  | { type: 'frechet-result'; requestId: string; distances: { taskId: string; distance: number }[]; reference: string };

/** Commands answered by one event that carries the same requestId. */
export type Request = Extract<Command, { requestId: string }>;

/**
 * Every message between the page and the engine worker, and nothing else. Plain, structured-
 * cloneable data only: numbers, strings, small typed arrays, Files and ArrayBuffers.
 */
import type { BackendChoice, BackendName } from '../backend/select';
import type { ErrorInfo } from '../errors';
import type { Progress } from '../progress';
import type { MethodId } from '../train/methods';
import type { VerifyReport } from '../verify/golden';
import type { BenchRow } from '../bench/bench';
import type { KernelCheckRow } from '../kernels/webgpu/check';

/** Where the model comes from. */
export type ModelSpec =
  /** A hub checkpoint by id (see weights/sources HUB_CHECKPOINTS); downloaded once, then cached. */
  | { kind: 'hub'; id: string }
  /** The small ViT the project pretrained and ships under public/models. */
  | { kind: 'bundled'; id: string }
  /** A checkpoint file the user picked (any supported layout). */
  | { kind: 'file'; file: Blob; name: string }
  /** Random weights of a preset (benchmarks, demos without weights). */
  | { kind: 'random'; preset: string }
  /** A checkpoint on disk (Node only: `npm run train`). */
  | { kind: 'path'; path: string };

/** Where the task's images come from. */
export type DataSpec =
  | { kind: 'procedural' }
  /** A vtab-1k folder picked or dropped: its files with their relative paths. */
  | { kind: 'files'; files: { path: string; file: Blob }[] }
  | { kind: 'directory'; handle: unknown }
  | { kind: 'zip'; file: Blob; name: string }
  | { kind: 'url'; base: string }
  /** A folder, zip or URL given on the command line (Node only). */
  | { kind: 'path'; path: string };

/** A run's full setup: everything needed to reproduce it. */
export interface RunConfig {
  runId: string;
  /** Human label of the model (for lists), e.g. "ViT-B/16 (hub)". */
  modelLabel: string;
  model: ModelSpec;
  taskId: string;
  data: DataSpec;
  method: MethodId;
  trainSize: number;
  valSize: number;
  /** Cap on test images (procedural tasks generate this many; 0 = the whole test list). */
  testSize: number;
  epochs: number;
  batchSize: number;
  /** Base learning rate (effective = base × batch / 256); undefined = the method's default. */
  lr?: number;
  weightDecay?: number;
  promptLength: number;
  seed: number;
  /** Input resolution; position embeddings are resized when it differs from the checkpoint's. */
  imageSize: number;
  /** Backend override; undefined = the lab's choice. */
  backend?: BackendName;
  /** How many fixed test images get Grad-CAM maps each epoch. */
  gradcamSamples: number;
  /** Load the rest of a data folder and report bad items instead of stopping. */
  skipBad?: boolean;
  /** Trained parameters exported by an earlier run (prompts + head, or a whole model) to start from. */
  importParams?: { file: Blob; name: string };
}

export interface EpochMetrics {
  epoch: number;
  /** 1 or 2 (ft_then_pt has two phases). */
  phase: number;
  trainLoss: number;
  trainAcc: number;
  valAcc: number;
  seconds: number;
  lr: number;
  /** tfjs memory after the epoch: live tensors and bytes. */
  numTensors: number;
  numBytes: number;
}

export interface TestResult {
  testAcc: number;
  perClassAcc: number[];
  /** confusion[true][predicted], counts. */
  confusion: number[][];
  numTest: number;
}

/** One Grad-CAM sample: the image (RGBA bytes, display-ready), its label, prediction and map. */
export interface GradCamSample {
  index: number;
  label: number;
  predicted: number;
  /** Display image, RGBA, side × side. */
  image: Uint8ClampedArray;
  side: number;
  /** Map on the patch grid, grid × grid, in [0, 1], row-major. */
  cam: Float32Array;
  grid: number;
}

export interface RunSummary {
  config: Omit<RunConfig, 'model' | 'data' | 'importParams'> & { modelSource: string; dataSource: string };
  backend: string;
  trainableParams: number;
  totalParams: number;
  epochs: EpochMetrics[];
  test?: TestResult;
  status: 'queued' | 'running' | 'paused' | 'done' | 'cancelled' | 'failed' | 'interrupted';
  startedAt: number;
  finishedAt?: number;
  error?: ErrorInfo;
  notices: string[];
}

// ---- commands: page -> worker ----
export type Command =
  | { type: 'init'; backend?: BackendName }
  | { type: 'start'; config: RunConfig; resumeFrom?: ResumeState }
  | { type: 'pause'; runId: string }
  | { type: 'resume'; runId: string }
  | { type: 'cancel'; runId: string }
  | { type: 'verify'; requestId: string; weights: Blob; weightsName: string; golden: Blob; backend?: BackendName }
  | { type: 'bench'; requestId: string; backend?: BackendName; cases: { preset: string; mode: 'forward' | 'ft' | 'vpt_deep'; batch: number; promptLength: number; imageSize?: number }[]; warmup: number; runs: number; kernels?: 'lab' | 'stock' }
  /** The lab's WebGPU kernels against stock tfjs on random inputs (forward and every gradient). */
  | { type: 'kernel-check'; requestId: string; backend?: BackendName; full?: boolean; timing?: boolean; reps?: number; only?: string[] }
  | { type: 'frechet'; requestId: string; model: ModelSpec; modelLabel: string; taskIds: string[]; data: DataSpec; reference: DataSpec | { kind: 'pretraining' }; count: number; imageSize: number; seed: number };

/** Trained parameters at the last finished epoch, to resume an interrupted run. */
export interface ResumeState {
  epochsDone: number;
  /** Canonical safetensors bytes of the trainable parameters and optimizer slots. */
  checkpoint: ArrayBuffer;
  epochs: EpochMetrics[];
}

// ---- events: worker -> page ----
export type EngineEvent =
  | { type: 'ready'; choice: BackendChoice }
  | { type: 'progress'; runId: string; progress: Progress }
  | { type: 'run-started'; runId: string; backend: string; trainableParams: number; totalParams: number; stepsPerEpoch: number; numClasses: number; classNames?: string[] }
  | { type: 'step'; runId: string; epoch: number; phase: number; step: number; stepsPerEpoch: number; loss: number; imagesPerSec: number }
  | { type: 'epoch'; runId: string; metrics: EpochMetrics }
  | { type: 'gradcam'; runId: string; epoch: number; samples: GradCamSample[] }
  | { type: 'checkpoint'; runId: string; state: ResumeState }
  | { type: 'test'; runId: string; result: TestResult }
  /** The trained parameters as a safetensors file (prompts + head for VPT, the whole model for FT). */
  | { type: 'trained'; runId: string; bytes: ArrayBuffer; fileName: string; trainable: string[] }
  | { type: 'state'; runId: string; status: RunSummary['status'] }
  | { type: 'notice'; runId: string; message: string }
  | { type: 'error'; runId?: string; requestId?: string; error: ErrorInfo }
  | { type: 'verify-result'; requestId: string; report: VerifyReport; lines: string[] }
  | { type: 'bench-result'; requestId: string; rows: BenchRow[]; adapter: string }
  | { type: 'kernel-check-result'; requestId: string; rows: KernelCheckRow[]; lines: string[]; pass: boolean; adapter: string }
  | { type: 'frechet-result'; requestId: string; distances: { taskId: string; distance: number }[]; reference: string };

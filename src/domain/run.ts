/**
 * The vocabulary of a run: what it is asked to do (RunConfig), what it reports (EpochMetrics,
 * TestResult, GradCamSample), what is kept of it (RunSummary) and what it resumes from
 * (ResumeState). Plain, structured-cloneable data only, so every layer can speak it: the engine
 * worker, the store, persistence, the CLIs and the exports.
 */
import type { ErrorInfo } from './errors';
import type { PaperResult, PaperSpec, PaperStage } from './paper';

/** The tfjs backends the lab knows, a closed list in order of preference. */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The paper's methods (train/methods.ts holds what each one trains and how). */
export type MethodId = 'linear' | 'ft' | 'vpt_shallow' | 'vpt_deep' | 'mixed' | 'ft_then_pt';

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
  /** A vtab-1k folder picked or dropped: its files with their relative paths (and the folder's name). */
  | { kind: 'files'; files: { path: string; file: Blob }[]; name?: string }
  | { kind: 'directory'; handle: unknown; name?: string }
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
  /**
   * Prompt tokens per prompted layer; absent = the catalog's rule for the task and the model's
   * patch count (data/catalog.ts promptLengthFor), resolved when the model is loaded.
   */
  promptLength?: number;
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
  /** Investigation controls for prompt methods; absent = the reference recipe. */
  promptControls?: PromptControls;
  /**
   * Activation recomputation (keep block inputs only, run each block again in the backward pass):
   * 'auto' (default) when the memory plan needs it to fit one image, 'on', or 'off'.
   */
  recompute?: 'auto' | 'on' | 'off';
  /**
   * The paper protocol (search on val, final runs on train + val per seed, test mean ± std);
   * absent = the quick protocol: one run on train / val / test at `lr` / `weightDecay`.
   */
  protocol?: PaperSpec;
  /** The page's estimate of the run's seconds when it was queued (store/estimate.ts), kept to compare with `RunSummary.seconds`. */
  predictedSeconds?: number;
}

/**
 * Controls for investigating prompt methods (`npm run train -- --prompt-init zero`, ...): how
 * fresh prompts start, prompts frozen at their initial values (the head alone trains: how much do
 * prompts disturb the frozen features?), the prompt dropout rate, and the prompts' learning rate
 * as a multiple of the base rate (the reference trains head and prompts at one rate).
 */
export interface PromptControls {
  init?: 'random' | 'zero';
  freeze?: boolean;
  dropout?: number;
  lrScale?: number;
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

/**
 * The first sign that a run's training loss is rising instead of falling (train/divergence.ts
 * holds the rule): an epoch mean above 1.1 × its phase's first, or a step above 3 × the running median.
 */
export interface LossRise {
  kind: 'epoch' | 'step';
  /** Epoch (1-based over the whole run, as EpochMetrics counts) where it showed. */
  epoch: number;
  /** ft_then_pt's phase (1 or 2); 1 for the other methods. */
  phase: number;
  /** Step within the epoch (kind 'step'). */
  step?: number;
  /** The loss that rose: the epoch mean, or the step's loss. */
  loss: number;
  /** What it was measured against: the phase's first epoch mean, or the running median. */
  reference: number;
  /** The base learning rate the run trained at, when known. */
  lr?: number;
}

export type RunStatus = 'queued' | 'running' | 'paused' | 'done' | 'cancelled' | 'failed' | 'interrupted';

/** What is kept of a run: its setup as plain text (no Blobs), its numbers and how it ended. */
export interface RunSummary {
  config: Omit<RunConfig, 'model' | 'data' | 'importParams'> & { modelSource: string; dataSource: string };
  backend: string;
  trainableParams: number;
  totalParams: number;
  epochs: EpochMetrics[];
  test?: TestResult;
  status: RunStatus;
  startedAt: number;
  finishedAt?: number;
  error?: ErrorInfo;
  notices: string[];
  /** Seconds from the run's start to its end (a run that finished), against `config.predictedSeconds`. */
  seconds?: number;
  /** The run's loss rose (train/divergence.ts): where first, against what. Absent while it falls. */
  lossRise?: LossRise;
  /** Paper protocol: where it is while it runs (its `epochs` are that protocol run's). */
  stage?: PaperStage;
  /** Paper protocol: every search run, the choice, every seed's test accuracy, mean ± std, why. */
  paper?: PaperResult;
}

/** Trained parameters at the last finished epoch, to resume an interrupted run. */
export interface ResumeState {
  epochsDone: number;
  /** Canonical safetensors bytes of the trainable parameters and optimizer slots. */
  checkpoint: ArrayBuffer;
  epochs: EpochMetrics[];
}

/** What the page is told about a finished run's trained parameters (never their bytes). */
export interface TrainedInfo {
  fileName: string;
  bytes: number;
  tensors: number;
}

/** One training step's loss, placed on the epoch axis: x = epochs done before it + step / steps per epoch. */
export interface StepPoint {
  x: number;
  loss: number;
}

/** The per-step loss curve keeps at most this many points (every other one goes when it is full). */
export const STEP_POINTS_MAX = 600;

/**
 * A step's loss added to a curve. Epochs are numbered across phases (FT-then-PT's second phase
 * continues the count), so x only grows within one life of a run; a run resumed from an earlier
 * checkpoint steps back, and the points after the new one are dropped. A full curve keeps every
 * other point, so a long run stays a bounded, evenly thinned line.
 */
export function withStepPoint(points: readonly StepPoint[], p: StepPoint): StepPoint[] {
  let end = points.length;
  while (end > 0 && points[end - 1]!.x >= p.x) end--;
  const next = [...points.slice(0, end), p];
  return next.length > STEP_POINTS_MAX ? next.filter((_, i) => i % 2 === 1 || i === next.length - 1) : next;
}

/** What is kept of a run across sessions: its summary and how the page grouped it. */
export interface StoredRun {
  runId: string;
  summary: RunSummary;
  /** Runs queued by one click of Start (or one sweep) share a group. */
  groupId: string;
  groupLabel: string;
  methodLabel: string;
  classNames?: string[];
  numClasses?: number;
  /** Optimizer steps per epoch, once the run's data is open. */
  stepsPerEpoch?: number;
  /** File name of the trained parameters the run started from, when it imported some. */
  importedFrom?: string;
  /** The per-step loss up to the last finished epoch (thinned, see withStepPoint), so a reload keeps the line. */
  stepCurve?: StepPoint[];
}

/** A run as the engine reports it: its stored record and what is stored beside it. */
export interface RunInfo extends StoredRun {
  /** A checkpoint of the last finished epoch is stored: resuming continues from it. */
  hasCheckpoint: boolean;
  /** The run's trained parameters are stored: what they are, never their bytes. */
  trained?: TrainedInfo;
}

/** The run queue as a whole. */
export type QueueState = 'idle' | 'running' | 'paused' | 'done' | 'cancelled';

const TERMINAL: readonly RunStatus[] = ['done', 'cancelled', 'failed'];

/** A run that ended (as opposed to one queued, running, paused or interrupted). */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.includes(status);
}

/**
 * Where a run's model and data came from, as one line that names the kind: `hub:<id>`,
 * `bundled:<id>`, `file:<name>`, `random:<preset>`, `path:<path>`; `procedural`, `url:<base>`,
 * `zip:<name>`, `folder:<name> (<n> files)`. Stored with every run, so a run can be resumed from
 * it (with the user's files picked again where it used local ones).
 */
export function modelSourceText(spec: ModelSpec): string {
  switch (spec.kind) {
    case 'file':
      return `file:${spec.name}`;
    case 'random':
      return `random:${spec.preset}`;
    case 'path':
      return `path:${spec.path}`;
    default:
      return `${spec.kind}:${spec.id}`;
  }
}

export function dataSourceText(spec: DataSpec): string {
  switch (spec.kind) {
    case 'procedural':
      return 'procedural';
    case 'url':
      return `url:${spec.base}`;
    case 'zip':
      return `zip:${spec.name}`;
    case 'files':
      return `folder:${spec.name ?? 'files'} (${spec.files.length} files)`;
    case 'directory':
      return `folder:${spec.name ?? 'directory'}`;
    case 'path':
      return `path:${spec.path}`;
  }
}

/** A source line split into its kind and the rest (`hub:a:b` -> hub, `a:b`). */
export function parseSourceText(text: string): { kind: string; arg: string } {
  const [kind, ...rest] = text.split(':');
  return { kind, arg: rest.join(':') };
}

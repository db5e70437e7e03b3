/**
 * The page's state: one plain object made of slices, changed only by `reduce` (reduce.ts). It
 * holds numbers, strings, arrays, the Grad-CAM samples' small typed arrays, and the handles of the
 * files the user picked (a File is a handle, not its bytes; the URL and the exports carry only
 * their names).
 */
import type { BackendChoice } from '../backend/select';
import type { Progress } from '../domain/progress';
import type { GradCamSample, QueueState, RunInfo, StepPoint } from '../domain/run';

export type { StepPoint } from '../domain/run';
import type { VerifyReport } from '../verify/golden';
import { DEFAULT_SETUP, type Setup } from './setup';

// ---- setup slice ----

/** Local data for a VTAB task: what was picked, its name, and how many files it holds. */
export type PickedData = { name: string; count: number } & (
  { kind: 'files'; files: { path: string; file: Blob }[] } | { kind: 'directory'; handle: unknown } | { kind: 'zip'; file: File }
);

/** Files the user picked; only their names travel in the URL and the exports. */
export interface Picked {
  /** A checkpoint file (setup.model === 'file'). */
  model: File | null;
  data: PickedData | null;
  /** A reference image set for the Fréchet distance (zip). */
  reference: { name: string; file: File } | null;
  /** Trained parameters (an exported safetensors file) the next runs start from. */
  importParams: { name: string; bytes: number; file: File } | null;
}

/** A picked file checked when it was picked (the engine's `inspect`). */
export interface FileCheck {
  requestId: string;
  state: 'checking' | 'ok' | 'bad';
  /** What the file holds (ok), or the error's message (bad). */
  text: string;
  /** The error's code when bad. */
  code?: string;
  warnings: string[];
}

export interface SetupSlice {
  setup: Setup;
  picked: Picked;
  /** The picked checkpoint's, data's and trained parameters' checks (null: nothing picked, or not checked). */
  checks: { model: FileCheck | null; data: FileCheck | null; importParams: FileCheck | null };
}

// ---- engine slice ----
export interface EngineSlice {
  engine: {
    state: 'off' | 'starting' | 'ready';
    choice: BackendChoice | null;
  };
}

// ---- runs slice ----
export interface StepInfo {
  epoch: number;
  phase: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  imagesPerSec: number;
}

/** A run as the page shows it: the engine's record and what is only shown while it runs. */
export interface RunRecord extends RunInfo {
  /** Latest progress per unit: bytes (download), items (decoding), steps (training). */
  progress: Partial<Record<'bytes' | 'items' | 'steps', Progress>>;
  step?: StepInfo;
  /**
   * The loss of every step this page saw, thinned to at most STEP_POINTS_MAX points (the per-step
   * curve; not stored: after a reload the per-epoch points remain).
   */
  stepLoss?: StepPoint[];
  gradcam?: { epoch: number; samples: GradCamSample[] };
  /** What this page saw the run's steps and validation passes take (the ETA's speed; not stored). */
  timing?: RunTiming;
}

/**
 * Seconds the run's steps and validation passes took, as this page saw them. The first step (a
 * warm-up: kernels compile, buffers grow) counts only until a second one arrives.
 */
export interface RunTiming {
  trainImages: number;
  trainSeconds: number;
  /** The first step, held apart. */
  first: { images: number; seconds: number } | null;
  /** Step seconds of the epoch in flight (an epoch's seconds minus these = its validation). */
  epochStepSeconds: number;
  evalImages: number;
  evalSeconds: number;
}

export interface RunsSlice {
  runs: Record<string, RunRecord>;
  /** Run ids, oldest first. */
  order: string[];
  /** Run ids waiting for the engine, in order. */
  queue: string[];
  activeRunId: string | null;
  queueState: QueueState;
  /** Group shown in the live results (null = the latest). */
  viewGroupId: string | null;
  /** The engine has read the stored runs. */
  restored: boolean;
  /**
   * Runs the last reload stopped (interrupted while training, or still queued), in queue order:
   * the banner offers to resume them. Empty once they are resumed or the offer is dismissed.
   */
  stopped: string[];
  /**
   * The runs of the queue now going or last gone (a Start, a resumed run, a resumed queue), in the
   * order they were queued: what the status line counts, not the whole group (resuming one run of
   * a group of two finishes one run). `queueOpen`: more runs queued join it; once the queue ends, the
   * next queued run starts a new one.
   */
  queueRuns: string[];
  queueOpen: boolean;
}

// ---- alerts slice ----
export interface Alert {
  id: number;
  code: string;
  message: string;
  runId?: string;
}

export interface AlertsSlice {
  errors: Alert[];
  notices: Alert[];
  /** Id of the next alert. */
  nextAlertId: number;
}

// ---- ui, paper and engine-check slices ----
export interface UiSlice {
  presentation: boolean;
  /** The setup form is open; Start folds it into one line so the run's curves are in view. */
  setupOpen: boolean;
  /**
   * Pause or Resume was pressed and the engine has not answered yet (it pauses between steps):
   * the page shows it at once, so a click never looks ignored.
   */
  pending: 'pause' | 'resume' | null;
  /** Saved runs picked to compare side by side, whatever their task, size or method (run ids, in picking order). */
  compare: string[];
}

export type ReferenceChoice = 'pretraining' | 'url' | 'zip';

export interface PaperSlice {
  paper: {
    reference: ReferenceChoice;
    referenceUrl: string;
    /** Fréchet distance per task id, with the reference set it was measured against. */
    frechet: Record<string, { distance: number; reference: string }>;
    frechetPending: string[];
  };
}

/** The engine check against golden files (the page's `npm run verify`). */
export interface CheckSlice {
  check: {
    requestId: string | null;
    lines: string[];
    report: VerifyReport | null;
    error: string | null;
  };
}

// ---- probe slice ----

/** One real training step (and a validation pass) of a configuration, measured on this device by the engine. */
export interface ProbeResult {
  trainImagesPerSec: number;
  evalImagesPerSec: number;
  /** Seconds a run spends once (loading the model), per image prepared once, per epoch's end (train/probe.ts); absent in a measurement kept from before they were timed. */
  runSeconds?: number;
  imageSeconds?: number;
  epochEndSeconds?: number;
  /** The backend it ran on, and WASM's thread count. */
  backend: string;
  threads?: number;
}

export interface ProbeSlice {
  probe: {
    /** The probe in flight: its request and its configuration key (store/estimate.ts probeKey). */
    pending: { requestId: string; key: string } | null;
    /** Measured speeds by configuration key (for this page's life). */
    results: Record<string, ProbeResult>;
    /** Why the last probe of a configuration did not measure (does not fit, say). */
    failed: Record<string, string>;
  };
}

export type LabState = SetupSlice & EngineSlice & RunsSlice & AlertsSlice & UiSlice & PaperSlice & CheckSlice & ProbeSlice;

export const initialState = (setup: Setup = DEFAULT_SETUP): LabState => ({
  setup,
  picked: { model: null, data: null, reference: null, importParams: null },
  checks: { model: null, data: null, importParams: null },
  engine: { state: 'off', choice: null },
  runs: {},
  order: [],
  queue: [],
  activeRunId: null,
  queueState: 'idle',
  viewGroupId: null,
  restored: false,
  stopped: [],
  queueRuns: [],
  queueOpen: false,
  errors: [],
  notices: [],
  nextAlertId: 1,
  presentation: false,
  setupOpen: false,
  pending: null,
  compare: [],
  paper: { reference: 'pretraining', referenceUrl: '', frechet: {}, frechetPending: [] },
  check: { requestId: null, lines: [], report: null, error: null },
  probe: { pending: null, results: {}, failed: {} },
});

/**
 * One bound zustand store made of slices. State is plain data (numbers, strings, arrays, small
 * typed arrays for Grad-CAM images); actions live outside components in ./actions.ts so the
 * worker client calls them without hooks.
 */
import { create } from 'zustand';
import type { BackendChoice } from '../backend/select';
import type { Progress } from '../domain/progress';
import type { TrainedInfo } from '../persist/db';
import type { GradCamSample, RunSummary } from '../domain/run';
import { DEFAULT_SETUP, type Setup } from './setup';

// ---- setup slice ----
export interface PickedNames {
  /** Local data for VTAB tasks: what was picked and how many files. */
  data: { kind: 'files' | 'directory' | 'zip'; name: string; count: number } | null;
  reference: { name: string } | null;
  /** Trained parameters the next runs start from (the File lives in blobs.ts). */
  importParams: { name: string; bytes: number } | null;
}

export interface SetupSlice {
  setup: Setup;
  picked: PickedNames;
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

export interface RunRecord {
  summary: RunSummary;
  /** Runs queued by one click of Start (or one sweep) share a group. */
  groupId: string;
  groupLabel: string;
  methodLabel: string;
  stepsPerEpoch?: number;
  numClasses?: number;
  classNames?: string[];
  /** Latest progress per unit: bytes (download), items (decoding), steps (training). */
  progress: Partial<Record<'bytes' | 'items' | 'steps', Progress>>;
  step?: StepInfo;
  gradcam?: { epoch: number; samples: GradCamSample[] };
  /** A checkpoint of the last finished epoch is stored: Resume continues from it. */
  hasCheckpoint: boolean;
  /** The run's trained parameters are stored (IndexedDB): what they are, never their bytes. */
  trained?: TrainedInfo;
  /** File name of the trained parameters the run started from, when it imported some. */
  importedFrom?: string;
}

export type QueueState = 'idle' | 'running' | 'paused' | 'done' | 'cancelled';

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
  /** Runs from IndexedDB have been read. */
  restored: boolean;
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
}

// ---- ui and paper slices ----
export interface UiSlice {
  presentation: boolean;
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

export type LabState = SetupSlice & EngineSlice & RunsSlice & AlertsSlice & UiSlice & PaperSlice;

export const initialState = (setup: Setup = DEFAULT_SETUP): LabState => ({
  setup,
  picked: { data: null, reference: null, importParams: null },
  engine: { state: 'off', choice: null },
  runs: {},
  order: [],
  queue: [],
  activeRunId: null,
  queueState: 'idle',
  viewGroupId: null,
  restored: false,
  errors: [],
  notices: [],
  presentation: false,
  paper: { reference: 'pretraining', referenceUrl: '', frechet: {}, frechetPending: [] },
});

export const useLab = create<LabState>()(() => initialState());

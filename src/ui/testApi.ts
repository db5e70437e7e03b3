/**
 * A typed test API on `window.__lab` for deterministic end-to-end tests: plain state, and the
 * same actions the page's buttons call.
 */
import type { QueueState } from '../domain/run';
import { exportRuns, type ExportFile } from '../store/export';
import type { Setup } from '../store/setup';
import type { LabState } from '../store/state';
import { useLab } from '../store/store';
import * as actions from './actions';

/** The store as JSON-safe data: Grad-CAM pixels are replaced by their sizes, picked files by {}. */
export type PlainLabState = Omit<LabState, 'runs'> & {
  runs: Record<string, Omit<LabState['runs'][string], 'gradcam'> & { gradcam?: { epoch: number; count: number } }>;
};

export interface LabTestApi {
  getState(): PlainLabState;
  updateSetup(patch: Partial<Setup>): void;
  startQueue(): string[];
  queueState(): QueueState;
  exportRuns(): ExportFile;
}

export function plainState(): PlainLabState {
  const s = useLab.getState();
  const runs: PlainLabState['runs'] = {};
  for (const [id, r] of Object.entries(s.runs)) {
    const { gradcam, ...rest } = r;
    runs[id] = { ...rest, gradcam: gradcam ? { epoch: gradcam.epoch, count: gradcam.samples.length } : undefined };
  }
  return JSON.parse(JSON.stringify({ ...s, runs })) as PlainLabState;
}

export function installTestApi(): void {
  const api: LabTestApi = {
    getState: plainState,
    updateSetup: actions.updateSetup,
    startQueue: actions.startQueue,
    queueState: () => useLab.getState().queueState,
    exportRuns: () => exportRuns(useLab.getState()),
  };
  (window as unknown as { __lab: LabTestApi }).__lab = api;
}

declare global {
  interface Window {
    __lab?: LabTestApi;
  }
}

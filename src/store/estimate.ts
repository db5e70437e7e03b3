/**
 * How long a Start will take, said before it starts: the work of the setup (runs, image-epochs
 * of training, images evaluated; train/paper.ts protocolWork for the paper protocol) divided by a
 * speed: the one measured by this model's finished runs in this browser, or else a rough prior
 * per model and backend (stated as such).
 */
import { getTask } from '../data/catalog';
import type { MethodId } from '../domain/run';
import { METHODS } from '../train/methods';
import { protocolWork, resolveGrid } from '../train/paper';
import { BUNDLED_MODEL, valSizeOf, type Setup } from './setup';
import type { LabState } from './state';

export interface Work {
  runs: number;
  trainImageEpochs: number;
  evalImages: number;
}

/** The work of one Start with this setup: every selected method, quick or paper protocol. */
export function setupWork(setup: Setup): Work {
  const task = getTask(setup.taskId);
  const valSize = valSizeOf(setup.trainSize);
  // Procedural tasks generate testSize images; a folder's whole test list is not known here (0 = all): VTAB's are 1k–20k.
  const testSize = setup.testSize || (task.source === 'procedural' ? 0 : 2000);
  const total: Work = { runs: 0, trainImageEpochs: 0, evalImages: 0 };
  for (const m of setup.methods) {
    const epochs = setup.epochs * METHODS[m].phases.length;
    const w =
      setup.protocol === 'paper'
        ? protocolWork(
            {
              grid: resolveGrid(setup.grid, m as MethodId),
              seeds: Array.from({ length: setup.seeds }, (_, i) => i),
              searchTrainSize: setup.trainSize,
              valSize,
            },
            epochs,
            testSize,
          )
        : { runs: 1, trainImageEpochs: setup.trainSize * epochs, evalImages: valSize * epochs + testSize };
    total.runs += w.runs;
    total.trainImageEpochs += w.trainImageEpochs;
    total.evalImages += w.evalImages;
  }
  return total;
}

/**
 * Rough training speeds (images / s) before anything was measured: WASM on a laptop CPU, WebGPU on
 * a laptop GPU; null for a checkpoint file, whose size is unknown until it loads.
 */
function priorSpeed(model: string, backend: string | undefined): number | null {
  const gpu = backend === 'webgpu' || backend === 'webgl';
  if (model === BUNDLED_MODEL) return gpu ? 300 : 60;
  if (model.includes('vit_tiny') || model.endsWith('ti16')) return gpu ? 60 : 6;
  if (model.includes('vit_small') || model.endsWith('s16')) return gpu ? 25 : 2.5;
  if (model === 'file') return null;
  return gpu ? 8 : 0.7;
}

/**
 * Training speed in images / s (validation included) measured by the finished runs of the same
 * model in this browser, or null when none has run.
 */
export function measuredSpeed(s: Pick<LabState, 'runs' | 'order'>, modelSource: string): number | null {
  let images = 0,
    seconds = 0;
  for (const id of s.order) {
    const r = s.runs[id];
    if (!r || r.summary.config.modelSource !== modelSource || r.summary.paper) continue;
    for (const e of r.summary.epochs) {
      if (!(e.seconds > 0)) continue;
      images += r.summary.config.trainSize;
      seconds += e.seconds;
    }
  }
  return seconds > 0 ? images / seconds : null;
}

/** Seconds for the work at `speed` images / s of training; evaluation runs about 3× faster (no backward pass). */
export function secondsFor(work: Work, speed: number): number {
  return work.trainImageEpochs / speed + work.evalImages / (3 * speed);
}

export interface Estimate {
  work: Work;
  /** NaN when no speed is known yet (a checkpoint file before its first run here). */
  seconds: number;
  /** Where the speed comes from, in words. */
  basis: string;
}

export function estimateStart(s: Pick<LabState, 'runs' | 'order' | 'setup' | 'engine'>, modelSource: string): Estimate {
  const work = setupWork(s.setup);
  const measured = measuredSpeed(s, modelSource);
  const backend = s.setup.backend ?? s.engine.choice?.backend;
  if (measured) return { work, seconds: secondsFor(work, measured), basis: `at the ${measured.toFixed(0)} images/s this model trained at here` };
  const prior = priorSpeed(s.setup.model, backend);
  if (prior === null) return { work, seconds: NaN, basis: 'the time is known after a first run of this checkpoint here' };
  return { work, seconds: secondsFor(work, prior), basis: `a rough guess before any run of this model (${prior} images/s on ${backend ?? 'this device'})` };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/**
 * How long the runs take, before Start and while they run. Pure: the work of a run (images
 * trained with a backward pass, images only evaluated) from its config, what is left of it from
 * where it stands, and seconds from that work at a speed. The speed comes, best first, from the
 * run itself (its steps and its epochs' validation), a one-step probe of the same configuration
 * on this device (the engine's `probe`), this model's finished runs here, or a rough prior per
 * model and backend, and the page says which.
 */
import { getTask } from '../data/catalog';
import type { PaperStage } from '../domain/paper';
import { isTerminal, type RunConfig } from '../domain/run';
import { METHODS } from '../train/methods';
import { protocolWork } from '../train/paper';
import { paperSpecOf, valSizeOf, type Setup } from './setup';
import type { LabState, RunRecord } from './state';

/**
 * Work in images: `train` with a backward pass (training steps, Grad-CAM), `eval` forward only
 * (validation, test); `prepared`: images drawn or decoded for the first time (then cached);
 * `epochEnds`: epochs ended (each takes a snapshot and a checkpoint of what trains).
 */
export interface Work {
  runs: number;
  trainImages: number;
  evalImages: number;
  prepared?: number;
  epochEnds?: number;
}

/**
 * Images per second: training (forward + backward + update) and evaluation (forward only); where
 * measured (a probe), seconds per run (loading the model), per image prepared and per epoch's end.
 */
export interface Rates {
  train: number;
  eval: number;
  perRun?: number;
  perImage?: number;
  perEpochEnd?: number;
}

/** What a run's size depends on: its config without the model and data. */
export type RunSize = Pick<RunConfig, 'taskId' | 'method' | 'trainSize' | 'valSize' | 'testSize' | 'epochs' | 'batchSize' | 'gradcamSamples' | 'protocol'>;

/**
 * Evaluation runs about this many times faster than training per image when it was not measured
 * yet: a forward pass without the backward pass and the update (about a third of an FT step).
 */
export const EVAL_SPEEDUP = 3;

/**
 * Test images of a run: the cap, or for a folder's whole test list (0), a typical VTAB test list
 * (1k–20k images; the list is read only when the run starts).
 */
export function testImagesOf(c: Pick<RunSize, 'taskId' | 'testSize'>): number {
  if (c.testSize > 0) return c.testSize;
  return getTask(c.taskId).source === 'procedural' ? 1 : 2000;
}

/** One quick run's sizes: images trained per epoch (whole batches: the trainer drops the rest), epochs over all phases. */
function quickShape(c: RunSize): { epochs: number; trainPerEpoch: number; batch: number } {
  const batch = Math.max(1, Math.min(c.batchSize, c.trainSize));
  const steps = Math.max(1, Math.floor(c.trainSize / batch));
  return { epochs: c.epochs * METHODS[c.method].phases.length, trainPerEpoch: steps * batch + c.gradcamSamples, batch };
}

/** The whole work of one run: every epoch's steps, validation and Grad-CAM, then the test (paper protocol: search runs + final runs × seeds). */
export function runWork(c: RunSize): Work {
  const prepared = c.trainSize + c.valSize + testImagesOf(c);
  if (c.protocol?.kind === 'paper') {
    const epochs = c.epochs * METHODS[c.method].phases.length;
    const w = protocolWork({ grid: c.protocol.grid, seeds: c.protocol.seeds, searchTrainSize: c.trainSize, valSize: c.valSize }, epochs, testImagesOf(c));
    return { runs: w.runs, trainImages: w.trainImageEpochs, evalImages: w.evalImages, prepared, epochEnds: w.runs * epochs };
  }
  const q = quickShape(c);
  return { runs: 1, trainImages: q.epochs * q.trainPerEpoch, evalImages: q.epochs * c.valSize + testImagesOf(c), prepared, epochEnds: q.epochs };
}

/** Where a run stands: epochs finished (of its current sub-run for the paper protocol), steps of the epoch in flight, and its protocol stage. */
export interface RunPosition {
  epochsDone: number;
  stepsDone: number;
  stage?: PaperStage;
}

/** The work left of a run from where it stands (nothing once it ended). */
export function remainingWork(c: RunSize, at: RunPosition): Work {
  if (c.protocol?.kind === 'paper') return remainingPaperWork(c, at);
  const total = runWork(c);
  const q = quickShape(c);
  const trainDone = Math.min(total.trainImages, at.epochsDone * q.trainPerEpoch + at.stepsDone * q.batch);
  const evalDone = Math.min(q.epochs, at.epochsDone) * c.valSize;
  const started = at.epochsDone > 0 || at.stepsDone > 0;
  return {
    runs: 1,
    trainImages: total.trainImages - trainDone,
    evalImages: Math.max(0, total.evalImages - evalDone),
    prepared: started ? 0 : total.prepared,
    epochEnds: Math.max(0, q.epochs - at.epochsDone),
  };
}

/**
 * A paper-protocol run: the sub-run in flight (search: train on train, validate each epoch; final:
 * train on train + val, test at its end) from its epochs, plus every sub-run after it.
 */
function remainingPaperWork(c: RunSize, at: RunPosition): Work {
  const spec = c.protocol!;
  if (!at.stage) return runWork(c);
  const epochs = c.epochs * METHODS[c.method].phases.length;
  const points = spec.grid.lrs.length * spec.grid.wds.length;
  const finals = spec.seeds.length;
  const search = { train: c.trainSize * epochs, eval: c.valSize * epochs };
  const final = { train: (c.trainSize + c.valSize) * epochs, eval: testImagesOf(c) };
  const current = at.stage.stage === 'search' ? search : final;
  const after = at.stage.stage === 'search' ? { searches: points - at.stage.index - 1, finals } : { searches: 0, finals: finals - at.stage.index - 1 };
  const done = Math.min(1, at.epochsDone / Math.max(1, epochs));
  return {
    runs: 1 + after.searches + after.finals,
    trainImages: current.train * (1 - done) + after.searches * search.train + after.finals * final.train,
    evalImages: (at.stage.stage === 'search' ? current.eval * (1 - done) : current.eval) + after.searches * search.eval + after.finals * final.eval,
    prepared: at.stage.stage === 'search' && at.stage.index === 0 && at.epochsDone === 0 ? c.trainSize + c.valSize + testImagesOf(c) : 0,
    epochEnds: epochs * (1 - done + after.searches + after.finals),
  };
}

/** Images the training steps of a quick run still take (its validation, Grad-CAM and test left out); NaN for the paper protocol. */
export function remainingStepImages(c: RunSize, at: RunPosition): number {
  if (c.protocol?.kind === 'paper') return NaN;
  const q = quickShape(c);
  const steps = q.trainPerEpoch - c.gradcamSamples;
  return Math.max(0, q.epochs * steps - at.epochsDone * steps - at.stepsDone * q.batch);
}

export function secondsOf(w: Work, r: Rates): number {
  return (
    w.trainImages / r.train +
    w.evalImages / r.eval +
    w.runs * (r.perRun ?? 0) +
    (w.prepared ?? 0) * (r.perImage ?? 0) +
    (w.epochEnds ?? 0) * (r.perEpochEnd ?? 0)
  );
}

// ---- speeds ----

/**
 * Rough training speeds (images / s) before anything was measured: WASM on a laptop CPU, WebGPU on
 * a laptop GPU; null for a checkpoint file, whose size is unknown until it loads.
 */
function priorSpeed(model: string, backend: string | undefined): number | null {
  const gpu = backend === 'webgpu' || backend === 'webgl';
  if (model.startsWith('bundled:')) return gpu ? 300 : 60; // either bundled miniature, within a factor of 3
  if (model.includes('vit_tiny') || model.endsWith('ti16')) return gpu ? 60 : 6;
  if (model.includes('vit_small') || model.endsWith('s16')) return gpu ? 25 : 2.5;
  if (model.startsWith('file')) return null;
  return gpu ? 8 : 0.7;
}

/**
 * Training speed in images / s measured by the finished quick runs of the same model in this
 * browser (an epoch's seconds include its validation), or null when none has run.
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

/** What a probe's speed depends on, as one string: model, resolution, method, batch, task (classes), prompt length, backend. */
export function probeKey(c: {
  modelSource: string;
  imageSize: number;
  method: string;
  batchSize: number;
  trainSize: number;
  taskId: string;
  promptLength?: number | null;
  backend?: string | null;
}): string {
  return [c.modelSource, c.imageSize, c.method, Math.min(c.batchSize, c.trainSize), c.taskId, c.promptLength ?? 'rule', c.backend ?? 'auto'].join('|');
}

/** Where a speed comes from: the run's own steps, a probe on this device, earlier runs here, or a guess. */
export type SpeedBasis = 'run' | 'probe' | 'runs' | 'guess';

export interface Speed {
  rates: Rates;
  basis: SpeedBasis;
}

/** The speed of a run not started yet: its configuration's probe, this model's earlier runs, or the prior (null: a file never run here). */
export function speedBefore(s: Pick<LabState, 'runs' | 'order' | 'engine' | 'probe'>, c: Parameters<typeof probeKey>[0]): Speed | null {
  const probed = s.probe.results[probeKey(c)];
  // A measurement on another backend than the one now running (kept from an earlier visit) does not count.
  const backend = s.engine.choice?.backend;
  if (probed && (!backend || probed.backend === backend))
    return {
      rates: {
        train: probed.trainImagesPerSec,
        eval: probed.evalImagesPerSec,
        perRun: probed.runSeconds,
        perImage: probed.imageSeconds,
        perEpochEnd: probed.epochEndSeconds,
      },
      basis: 'probe',
    };
  const measured = measuredSpeed(s, c.modelSource);
  if (measured) return { rates: { train: measured, eval: measured * EVAL_SPEEDUP }, basis: 'runs' };
  const prior = priorSpeed(c.modelSource, c.backend ?? s.engine.choice?.backend);
  return prior === null ? null : { rates: { train: prior, eval: prior * EVAL_SPEEDUP }, basis: 'guess' };
}

/** The speed a running run has shown: its steps (the first one, a warm-up, left out once others came) and its epochs' validation passes. */
export function runSpeed(r: Pick<RunRecord, 'timing'>): Rates | null {
  const t = r.timing;
  if (!t || t.trainSeconds <= 0) return null;
  const train = t.trainImages / t.trainSeconds;
  return { train, eval: t.evalSeconds > 0 ? t.evalImages / t.evalSeconds : train * EVAL_SPEEDUP };
}

// ---- before Start ----

/** The model of a setup as runs record it ('file:<name>' for a picked file). */
export function setupModelSource(setup: Pick<Setup, 'model' | 'modelFileName'>): string {
  return setup.model === 'file' ? `file:${setup.modelFileName}` : setup.model;
}

/** The run a setup queues for a method, as far as its size and speed go. */
export function setupRun(setup: Setup, method: Setup['methods'][number]): RunSize & Parameters<typeof probeKey>[0] {
  const task = getTask(setup.taskId);
  return {
    modelSource: setupModelSource(setup),
    imageSize: setup.imageSize,
    taskId: setup.taskId,
    method,
    trainSize: setup.trainSize,
    valSize: valSizeOf(setup.trainSize),
    testSize: task.source === 'procedural' ? Math.max(1, setup.testSize) : setup.testSize,
    epochs: setup.epochs,
    batchSize: setup.batchSize,
    gradcamSamples: setup.gradcamSamples,
    promptLength: setup.promptLength,
    backend: setup.backend,
    protocol: paperSpecOf(setup, method),
  };
}

/** The work of one Start with this setup: every selected method, quick or paper protocol. */
export function setupWork(setup: Setup): Work {
  return sumWork(setup.methods.map((m) => runWork(setupRun(setup, m))));
}

function sumWork(ws: Work[]): Work {
  return ws.reduce(
    (a, w) => ({
      runs: a.runs + w.runs,
      trainImages: a.trainImages + w.trainImages,
      evalImages: a.evalImages + w.evalImages,
      prepared: (a.prepared ?? 0) + (w.prepared ?? 0),
      epochEnds: (a.epochEnds ?? 0) + (w.epochEnds ?? 0),
    }),
    { runs: 0, trainImages: 0, evalImages: 0, prepared: 0, epochEnds: 0 },
  );
}

export interface Estimate {
  work: Work;
  /** NaN when no speed is known yet (a checkpoint file never probed or run here). */
  seconds: number;
  /** The weakest source of the speeds used (a guess for one method makes the whole a guess). */
  basis: SpeedBasis | 'none';
  /** Methods whose configuration has no probe on this device yet. */
  unprobed: Setup['methods'];
  /** Each selected method's probe key, in the setup's order. */
  keys: string[];
}

const BASIS_RANK: Record<SpeedBasis | 'none', number> = { run: 0, probe: 1, runs: 2, guess: 3, none: 4 };

function weaker(a: SpeedBasis | 'none', b: SpeedBasis | 'none'): SpeedBasis | 'none' {
  return BASIS_RANK[b] > BASIS_RANK[a] ? b : a;
}

/** How long a Start with the current setup takes: each method's work at its own speed. */
export function estimateStart(s: Pick<LabState, 'runs' | 'order' | 'setup' | 'engine' | 'probe'>): Estimate {
  let seconds = 0;
  let basis: SpeedBasis | 'none' = 'run';
  const unprobed: Setup['methods'] = [];
  const works: Work[] = [];
  const keys: string[] = [];
  for (const m of s.setup.methods) {
    const run = setupRun(s.setup, m);
    keys.push(probeKey(run));
    const w = runWork(run);
    works.push(w);
    const speed = speedBefore(s, run);
    if (speed?.basis !== 'probe') unprobed.push(m);
    basis = weaker(basis, speed?.basis ?? 'none');
    seconds += speed ? secondsOf(w, speed.rates) : NaN;
  }
  return { work: sumWork(works), seconds, basis, unprobed, keys };
}

// ---- while runs go ----

/** Where a run stands, from its record. */
export function positionOf(r: Pick<RunRecord, 'summary' | 'step'>): RunPosition {
  const epochsDone = r.summary.epochs.length;
  const step = r.step;
  return { epochsDone, stepsDone: step && step.epoch > epochsDone ? step.step : 0, stage: r.summary.stage };
}

export interface QueueEta {
  /** Seconds until the whole queue has finished (NaN: no speed known). */
  seconds: number;
  /** Seconds of the active run's training steps alone (NaN before its first step). */
  activeTrainSeconds: number;
  /** Runs still to finish, the active one included. */
  runs: number;
  basis: SpeedBasis | 'none';
}

/**
 * The time left of the whole queue: the active run's remaining steps, validation passes, Grad-CAM
 * and test at the speed it shows (before its first step: the speed known before it started), then
 * every queued run's whole work at its own speed before Start, or at the active run's speed when
 * it has none of its own (same model, a similar step).
 */
export function queueEta(s: Pick<LabState, 'runs' | 'order' | 'engine' | 'probe' | 'queue' | 'activeRunId'>): QueueEta {
  const active = s.activeRunId ? s.runs[s.activeRunId] : undefined;
  let seconds = 0;
  let runs = 0;
  let basis: SpeedBasis | 'none' = 'run';
  let activeTrainSeconds = NaN;
  let fallback: Rates | null = null;
  if (active && !isTerminal(active.summary.status)) {
    const c = active.summary.config;
    const own = runSpeed(active);
    const speed: Speed | null = own ? { rates: own, basis: 'run' } : speedBefore(s, c);
    const at = positionOf(active);
    const w = remainingWork(c, at);
    runs += 1;
    basis = weaker(basis, speed?.basis ?? 'none');
    seconds += speed ? secondsOf(w, speed.rates) : NaN;
    if (own) {
      activeTrainSeconds = remainingStepImages(c, at) / own.train;
      fallback = own;
    }
  }
  for (const id of s.queue) {
    const r = s.runs[id];
    if (!r || id === s.activeRunId) continue;
    const c = r.summary.config;
    const before = speedBefore(s, c);
    const speed: Speed | null = before?.basis === 'probe' || !fallback ? before : { rates: fallback, basis: 'run' };
    runs += 1;
    basis = weaker(basis, speed?.basis ?? 'none');
    seconds += speed ? secondsOf(runWork(c), speed.rates) : NaN;
  }
  return { seconds, activeTrainSeconds, runs, basis };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

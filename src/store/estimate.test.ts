/** The time estimators: a run's work, what is left of it, and the whole queue's time from measured speeds. */
import { describe, expect, it } from 'vitest';
import type { RunInfo, RunSummary } from '../domain/run';
import { positionOf, queueEta, remainingWork, runSpeed, runWork, secondsOf, type RunSize } from './estimate';
import { reduce, type LabEvent } from './reduce';
import { initialState, type LabState } from './state';
import { epoch, info, summary } from './testutil';

/** The shared small FT run (8 train in batches of 4, 2 epochs, 2 validation, 4 test, 1 Grad-CAM image), prompt length by the rule. */
const config: RunSummary['config'] = { ...summary().config, promptLength: undefined };
const run = (runId: string, o: Partial<RunSummary> = {}): RunInfo => info({ runId }, { config: { ...config, runId }, ...o });
const epochMetrics = (n: number, seconds: number) => ({ ...epoch(n), seconds });
const step = (runId: string, epoch: number, s: number, imagesPerSec: number): LabEvent => ({
  type: 'step',
  runId,
  epoch,
  phase: 1,
  step: s,
  stepsPerEpoch: 2,
  loss: 1,
  imagesPerSec,
});

function play(events: LabEvent[], from: LabState = initialState()): LabState {
  return events.reduce(reduce, from);
}

describe('a run’s work', () => {
  it('counts every epoch’s steps (whole batches), validation and Grad-CAM, then the test', () => {
    // 2 epochs × (2 steps of 4 + 1 Grad-CAM image) trained; 2 × 2 validated + 4 tested.
    // 8 + 2 + 4 images drawn once; 2 epoch ends.
    expect(runWork(config)).toEqual({ runs: 1, trainImages: 18, evalImages: 8, prepared: 14, epochEnds: 2 });
    // FT-then-PT trains its epochs in each of its two phases.
    expect(runWork({ ...config, method: 'ft_then_pt' } as RunSize).trainImages).toBe(36);
  });

  it('leaves the test (and nothing of the training) once every epoch is done: the ETA is not 0 while the test runs', () => {
    const left = remainingWork(config, { epochsDone: 2, stepsDone: 0 });
    expect(left).toEqual({ runs: 1, trainImages: 0, evalImages: 4, prepared: 0, epochEnds: 0 });
    expect(secondsOf(left, { train: 10, eval: 2 })).toBe(2);
    // In epoch 2, after one of its two steps: one step, one Grad-CAM image, a validation and the test are left.
    expect(remainingWork(config, { epochsDone: 1, stepsDone: 1 })).toEqual({ runs: 1, trainImages: 5, evalImages: 6, prepared: 0, epochEnds: 1 });
  });

  it('counts a paper-protocol run’s remaining search runs and final runs × seeds', () => {
    const paper: RunSize = { ...config, protocol: { kind: 'paper', grid: { lrs: [0.1, 0.01], wds: [0] }, seeds: [1, 2, 3] } };
    const whole = runWork(paper);
    // 2 search runs on 8 (validated on 2), 3 final runs on 8 + 2 (tested on 4), 2 epochs each.
    expect(whole).toEqual({ runs: 5, trainImages: 2 * 8 * 2 + 3 * 10 * 2, evalImages: 2 * 2 * 2 + 3 * 4, prepared: 14, epochEnds: 5 * 2 });
    const stage = { stage: 'search' as const, index: 0, of: 2, lr: 0.1, wd: 0, seed: 1 };
    expect(remainingWork(paper, { epochsDone: 0, stepsDone: 0, stage })).toEqual(whole);
    const lastFinal = { ...stage, stage: 'final' as const, index: 2, of: 3 };
    expect(remainingWork(paper, { epochsDone: 1, stepsDone: 0, stage: lastFinal })).toEqual({
      runs: 1,
      trainImages: 10,
      evalImages: 4,
      prepared: 0,
      epochEnds: 1,
    });
  });
});

describe('the queue’s time left', () => {
  it('measures the steps without the warm-up step, and validation from an epoch’s seconds', () => {
    const s = play([
      { type: 'run', run: run('a', { status: 'running' }) },
      step('a', 1, 1, 1), // warm-up: 4 s
      step('a', 1, 2, 4), // 1 s
    ]);
    expect(runSpeed(s.runs.a!)).toEqual({ train: 4, eval: 12 });
    // The epoch took 6 s, its steps 4 + 1 s: its validation (2 images) 1 s.
    const t = play([{ type: 'run', run: run('a', { status: 'running', epochs: [epochMetrics(1, 6)] }) }], s);
    expect(runSpeed(t.runs.a!)).toEqual({ train: 4, eval: 2 });
  });

  it('counts the active run’s steps, validation, Grad-CAM and test, and every queued run', () => {
    const s = play([
      { type: 'run', run: run('a', { status: 'running' }) },
      { type: 'run', run: run('b') },
      { type: 'queue', waiting: ['b'], active: 'a', state: 'running' },
      step('a', 1, 1, 4),
      step('a', 1, 2, 4), // 4 images / s
    ]);
    const a = s.runs.a!;
    expect(positionOf(a)).toEqual({ epochsDone: 0, stepsDone: 2, stage: undefined });
    const eta = queueEta(s);
    expect(eta.runs).toBe(2);
    expect(eta.basis).toBe('run');
    // Run a: epoch 2's 8 images + 2 Grad-CAM images trained (10 / 4 = 2.5 s), 2 + 2 validated + 4 tested at 12 / s (8 / 12 s);
    // run b, at a's speed: 18 trained (4.5 s), 8 evaluated (8 / 12 s).
    expect(eta.seconds).toBeCloseTo(2.5 + 8 / 12 + 4.5 + 8 / 12, 6);
    // a's training steps alone: the 8 images of epoch 2 (2 s).
    expect(eta.activeTrainSeconds).toBeCloseTo(2, 6);
    expect(eta.seconds).toBeGreaterThan(eta.activeTrainSeconds);
  });

  it('is not 0 before the first step: the speed known before Start (a guess for the bundled model, said so)', () => {
    const s = play([
      { type: 'run', run: run('a', { status: 'running' }) },
      { type: 'queue', waiting: [], active: 'a', state: 'running' },
    ]);
    const eta = queueEta(s);
    expect(eta.seconds).toBeGreaterThan(0);
    expect(eta.basis).toBe('guess');
    expect(eta.activeTrainSeconds).toBeNaN();
  });

  it('uses a probe of the queued run’s configuration on this device', () => {
    const s = play([
      { type: 'run', run: run('b') },
      { type: 'queue', waiting: ['b'], active: null, state: 'running' },
      { type: 'probe-requested', requestId: 'p', key: 'bundled:tiny_pretrained|0|ft|4|synth_count|rule|auto' },
      {
        type: 'probe-result',
        requestId: 'p',
        trainImagesPerSec: 9,
        evalImagesPerSec: 8,
        runSeconds: 0.5,
        imageSeconds: 0.01,
        epochEndSeconds: 0.25,
        backend: 'wasm',
        threads: 2,
      },
    ]);
    const eta = queueEta(s);
    expect(eta.basis).toBe('probe');
    // Its steps and passes, and what the probe timed besides: loading the model once, drawing
    // 8 + 2 + 4 images once, 2 epoch ends (snapshot and checkpoint).
    expect(eta.seconds).toBeCloseTo(18 / 9 + 8 / 8 + 0.5 + 14 * 0.01 + 2 * 0.25, 6);
  });
});

describe('the probe in the store', () => {
  it('keeps a failure beside the estimate, not in the alerts; a cancelled probe (Start cancels it) shows nothing, even when its answer comes late', () => {
    const failed = play([
      { type: 'probe-requested', requestId: 'p', key: 'k' },
      { type: 'error', requestId: 'p', error: { code: 'run/does-not-fit', message: 'too big' } },
    ]);
    expect(failed.probe).toEqual({ pending: null, results: {}, failed: { k: 'run/does-not-fit: too big' } });
    expect(failed.errors).toEqual([]);
    const late = play([
      { type: 'probe-requested', requestId: 'p', key: 'k' },
      { type: 'probe-cancelled' },
      { type: 'error', requestId: 'p', error: { code: 'run/cancelled', message: 'The run was cancelled.' } },
    ]);
    expect(late.errors).toEqual([]);
    expect(late.probe.pending).toBeNull();
  });
});

describe('probe results kept from an earlier visit', () => {
  it('join this visit’s, and count only on the backend they were measured on', () => {
    const key = 'bundled:tiny_pretrained|0|ft|4|synth_count|rule|auto';
    const s = play([
      { type: 'probes-restored', results: { [key]: { trainImagesPerSec: 9, evalImagesPerSec: 8, backend: 'webgpu' } } },
      { type: 'run', run: run('b') },
      { type: 'queue', waiting: ['b'], active: null, state: 'running' },
    ]);
    expect(queueEta(s).basis).toBe('probe');
    const onWasm = play([{ type: 'ready', choice: { backend: 'wasm', adapter: 'WebAssembly', reason: 'test', noWebGPU: true } }], s);
    expect(queueEta(onWasm).basis).toBe('guess');
  });
});

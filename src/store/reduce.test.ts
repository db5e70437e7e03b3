/** The page's reducer, event by event: what each engine event and each page event does to the state. */
import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from '../domain/errors';
import type { RunSummary } from '../domain/run';
import type { EngineEvent } from '../engine/protocol';
import { STEP_POINTS_MAX } from '../domain/run';
import { reduce, type LabEvent } from './reduce';
import { headlineAcc } from './selectors';
import { DEFAULT_SETUP } from './setup';
import { initialState, type LabState } from './state';
import { epoch, info, summary } from './testutil';

/** Applies events one after the other, keeping every intermediate state. */
function play(events: LabEvent[], from: LabState = initialState()): LabState[] {
  const states = [from];
  for (const e of events) states.push(reduce(states.at(-1)!, e));
  return states;
}

describe('engine events', () => {
  it("a run's life: restored, queued, running, progress, steps, epochs, Grad-CAM, done", () => {
    const cam = { index: 0, label: 1, predicted: 1, image: new Uint8ClampedArray(4), side: 1, cam: new Float32Array(1), grid: 1 };
    const events: EngineEvent[] = [
      {
        type: 'restored',
        runs: [info({ runId: 'old', groupId: 'g0' }, { status: 'interrupted', startedAt: 1 })],
        gradcams: [{ runId: 'old', epoch: 1, samples: [cam] }],
        stopped: [],
      },
      { type: 'run', run: info() },
      { type: 'queue', waiting: [], active: 'a', state: 'running' },
      { type: 'run', run: info({ stepsPerEpoch: 2 }, { status: 'running', backend: 'wasm' }) },
      { type: 'progress', runId: 'a', progress: { kind: 'progress', what: 'model', unit: 'bytes', done: 5, total: 10 } },
      { type: 'step', runId: 'a', epoch: 1, phase: 1, step: 1, stepsPerEpoch: 2, loss: 2.5, imagesPerSec: 9 },
      { type: 'run', run: info({ stepsPerEpoch: 2 }, { status: 'running', epochs: [epoch(1)] }) },
      { type: 'gradcam', runId: 'a', epoch: 1, samples: [cam] },
      { type: 'run', run: info({ stepsPerEpoch: 2, hasCheckpoint: true }, { status: 'running', epochs: [epoch(1)] }) },
      {
        type: 'run',
        run: info({ trained: { fileName: 'a.safetensors', bytes: 10, tensors: 2 } }, { status: 'done', epochs: [epoch(1), epoch(2)], finishedAt: 2000 }),
      },
      { type: 'queue', waiting: [], active: null, state: 'done' },
    ];
    const s = play(events);
    expect(s[1]!.restored).toBe(true);
    expect(s[1]!.order).toEqual(['old']);
    expect(s[1]!.runs.old!.summary.status).toBe('interrupted');
    expect(s[1]!.runs.old!.gradcam?.epoch).toBe(1);
    expect(s[2]!.order).toEqual(['old', 'a']);
    expect(s[2]!.runs.a!.progress).toEqual({});
    expect([s[3]!.activeRunId, s[3]!.queueState]).toEqual(['a', 'running']);
    expect(s[4]!.runs.a!.summary.backend).toBe('wasm');
    expect(s[5]!.runs.a!.progress.bytes).toMatchObject({ done: 5, total: 10 });
    expect(s[6]!.runs.a!.step).toMatchObject({ step: 1, loss: 2.5 });
    // A record update keeps what only the page shows while the run runs.
    expect(s[7]!.runs.a!.step).toMatchObject({ step: 1 });
    expect(s[7]!.runs.a!.progress.bytes).toBeDefined();
    expect(s[8]!.runs.a!.gradcam?.samples).toHaveLength(1);
    expect(s[9]!.runs.a!.hasCheckpoint).toBe(true);
    // An ended run shows no step in flight, and its stored parameters.
    expect(s[10]!.runs.a!.step).toBeUndefined();
    expect(s[10]!.runs.a!.trained?.fileName).toBe('a.safetensors');
    expect(s[10]!.runs.a!.summary.epochs).toHaveLength(2);
    expect([s[11]!.activeRunId, s[11]!.queueState]).toEqual([null, 'done']);
    // Nothing was mutated along the way.
    expect(s[0]!.runs).toEqual({});
    expect(s[2]!.runs.a!.summary.status).toBe('queued');
  });

  it('a stored run is not replaced by the restored copy of itself; restoring twice adds nothing', () => {
    const [, , s2, s3] = play([
      { type: 'run', run: info({}, { status: 'running' }) },
      { type: 'restored', runs: [info({}, { status: 'interrupted' })], gradcams: [], stopped: [] },
      { type: 'restored', runs: [info({}, { status: 'interrupted' })], gradcams: [], stopped: [] },
    ]);
    expect(s2!.runs.a!.summary.status).toBe('running');
    expect(s3!.order).toEqual(['a']);
  });

  it('a picked file is checked: checking, then what it holds or its error beside it (not in the alerts); a stale answer is dropped', () => {
    const [, s1, s2, s3, s4, s5] = play([
      { type: 'inspect-requested', what: 'model', requestId: 'm1' },
      { type: 'inspect-result', requestId: 'm1', text: 'timm layout', warnings: [] },
      { type: 'inspect-requested', what: 'data', requestId: 'd1' },
      { type: 'error', requestId: 'd1', error: { code: 'data/not-a-zip', message: 'x.zip is not a zip' } },
      { type: 'inspect-result', requestId: 'old', text: 'late', warnings: [] },
    ]);
    expect(s1!.checks.model).toMatchObject({ state: 'checking' });
    expect(s2!.checks.model).toMatchObject({ state: 'ok', text: 'timm layout' });
    expect(s3!.checks.data).toMatchObject({ state: 'checking' });
    expect(s4!.checks.data).toMatchObject({ state: 'bad', code: 'data/not-a-zip', text: 'x.zip is not a zip' });
    expect(s4!.errors).toEqual([]);
    expect(s5).toBe(s4);
  });

  it('runs a reload stopped are offered until resumed or dismissed, and the results show their group', () => {
    const [, , s1, s2] = play([
      { type: 'run', run: info({ runId: 'new', groupId: 'g1' }) },
      {
        type: 'restored',
        runs: [info({ runId: 'x', groupId: 'g0' }, { status: 'interrupted' }), info({ runId: 'y', groupId: 'g0' }, { status: 'queued' })],
        gradcams: [],
        stopped: ['x', 'y', 'gone'],
      },
      { type: 'resume-offer-closed' },
    ]);
    expect(s1!.stopped).toEqual(['x', 'y']);
    expect(s1!.viewGroupId).toBe('g0');
    expect(s2!.stopped).toEqual([]);
  });

  it('deleted removes the run everywhere; the queue event is the queue', () => {
    const [, , s2, s3] = play([
      { type: 'run', run: info() },
      { type: 'queue', waiting: ['a'], active: null, state: 'running' },
      { type: 'deleted', runId: 'a' },
    ]);
    expect(s2!.queue).toEqual(['a']);
    expect([s3!.runs, s3!.order, s3!.queue]).toEqual([{}, [], []]);
  });

  it('errors: one alert per distinct failure, a request error ends its pending request, a failed start turns the engine off', () => {
    const err: ErrorInfo = { code: 'data/bad-image', message: 'bad' };
    const s = play([
      { type: 'engine-starting' },
      { type: 'frechet-requested', requestIds: ['f1', 'f2'] },
      { type: 'error', runId: 'a', error: err },
      { type: 'error', runId: 'b', error: err },
      { type: 'error', requestId: 'f1', error: { code: 'config/invalid', message: 'no' } },
      { type: 'error', error: { code: 'internal', message: 'no backend' } },
    ]);
    expect(s[4]!.errors).toHaveLength(1);
    expect(s[5]!.paper.frechetPending).toEqual(['f2']);
    expect(s[5]!.engine.state).toBe('starting');
    expect(s[6]!.engine.state).toBe('off');
    expect(s[6]!.errors.map((a) => a.id)).toEqual([1, 2, 3]);
    const dismissed = reduce(s[6]!, { type: 'alert-dismissed', id: 2 });
    expect(dismissed.errors.map((a) => a.code)).toEqual(['data/bad-image', 'internal']);
  });

  it('notices keep the latest 20', () => {
    const events: EngineEvent[] = Array.from({ length: 25 }, (_, i) => ({ type: 'notice', message: `n${i}` }));
    const s = play(events).at(-1)!;
    expect(s.notices.map((n) => n.message)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i + 5}`));
  });

  it('the engine check: a verify result or error answers only its own request', () => {
    const report = { rows: [], tolerance: 1e-4, backend: 'wasm', worst: 0, pass: true };
    const s = play([
      { type: 'check-requested', requestId: 'v1' },
      { type: 'verify-result', requestId: 'other', report, lines: ['x'] },
      { type: 'verify-result', requestId: 'v1', report, lines: ['verify: PASS'] },
      { type: 'check-requested', requestId: 'v2' },
      { type: 'error', requestId: 'v2', error: { code: 'golden/invalid', message: 'no logits' } },
    ]);
    expect(s[1]!.check.requestId).toBe('v1');
    expect(s[2]!.check.lines).toEqual([]);
    expect(s[3]!.check).toMatchObject({ requestId: null, lines: ['verify: PASS'], error: null });
    expect(s[4]!.check).toMatchObject({ requestId: 'v2', lines: [], report: null });
    expect(s[5]!.check).toMatchObject({ requestId: null, error: 'golden/invalid: no logits' });
    expect(s[5]!.errors).toHaveLength(1);
  });

  it('steps draw the per-step loss curve on the epoch axis; a resumed run steps back; a full curve is thinned', () => {
    const step = (epoch: number, n: number, loss: number): EngineEvent => ({
      type: 'step',
      runId: 'a',
      epoch,
      phase: 1,
      step: n,
      stepsPerEpoch: 4,
      loss,
      imagesPerSec: 1,
    });
    const s = play([{ type: 'run', run: info() }, step(1, 1, 3), step(1, 2, 2.5), step(2, 4, 1), step(2, 2, 1.5)]);
    expect(s[2]!.runs.a!.stepLoss).toEqual([{ x: 0.25, loss: 3 }]);
    expect(s[4]!.runs.a!.stepLoss!.map((p) => p.x)).toEqual([0.25, 0.5, 2]);
    // Resumed from the checkpoint of epoch 1: epoch 2 starts again, its later points go.
    expect(s[5]!.runs.a!.stepLoss).toEqual([
      { x: 0.25, loss: 3 },
      { x: 0.5, loss: 2.5 },
      { x: 1.5, loss: 1.5 },
    ]);
    // FT-then-PT numbers its second phase's epochs after the first's.
    const ph2 = reduce(s[4]!, { type: 'step', runId: 'a', epoch: 3, phase: 2, step: 1, stepsPerEpoch: 4, loss: 0.5, imagesPerSec: 1 });
    expect(ph2.runs.a!.stepLoss!.at(-1)).toEqual({ x: 2.25, loss: 0.5 });
    // A long run: never more than STEP_POINTS_MAX points, the latest always kept, x increasing.
    let t = s[1]!;
    for (let i = 1; i <= 2000; i++)
      t = reduce(t, {
        type: 'step',
        runId: 'a',
        epoch: Math.ceil(i / 100),
        phase: 1,
        step: ((i - 1) % 100) + 1,
        stepsPerEpoch: 100,
        loss: 1 / i,
        imagesPerSec: 1,
      });
    const pts = t.runs.a!.stepLoss!;
    expect(pts.length).toBeLessThanOrEqual(STEP_POINTS_MAX);
    expect(pts.length).toBeGreaterThan(STEP_POINTS_MAX / 2);
    expect(pts.at(-1)).toEqual({ x: 20, loss: 1 / 2000 });
    expect(pts.every((p, i) => i === 0 || p.x > pts[i - 1]!.x)).toBe(true);
  });

  it('Fréchet results land per task with their reference', () => {
    const s = play([
      { type: 'frechet-requested', requestIds: ['f1'] },
      { type: 'frechet-result', requestId: 'f1', distances: [{ taskId: 'synth_count', distance: 3.5 }], reference: 'pretraining data' },
    ]).at(-1)!;
    expect(s.paper.frechet.synth_count).toEqual({ distance: 3.5, reference: 'pretraining data' });
    expect(s.paper.frechetPending).toEqual([]);
  });
});

describe('page events', () => {
  it('a new model brings its resolution, a new task its paper prompt length, values are clamped', () => {
    const s = play([
      { type: 'setup-changed', patch: { model: 'hub:google/vit-base-patch16-224-in21k' } },
      { type: 'setup-changed', patch: { taskId: 'dtd' } },
      { type: 'setup-changed', patch: { batchSize: 5000, epochs: 0 } },
    ]);
    expect(s[1]!.setup.imageSize).toBe(224);
    expect(s[2]!.setup.promptLength).toBe(null);
    expect(s[3]!.setup.batchSize).toBe(1024);
    expect(s[3]!.setup.epochs).toBe(1);
  });

  it('methods keep the table order and at least one stays selected', () => {
    const s = play([
      { type: 'method-toggled', method: 'linear', on: true },
      { type: 'method-toggled', method: 'ft', on: false },
      { type: 'method-toggled', method: 'vpt_deep', on: false },
      { type: 'method-toggled', method: 'linear', on: false },
    ]);
    expect(s[1]!.setup.methods).toEqual(['linear', 'ft', 'vpt_deep']);
    expect(s[3]!.setup.methods).toEqual(['linear']);
    expect(s[4]).toBe(s[3]);
  });

  it('0 epochs is allowed only while imported parameters are picked', () => {
    const file = new File([new Uint8Array(8)], 'params.safetensors');
    const s = play([
      { type: 'import-params-picked', file },
      { type: 'setup-changed', patch: { epochs: 0 } },
      { type: 'import-params-picked', file: null },
    ]);
    expect(s[1]!.picked.importParams).toMatchObject({ name: 'params.safetensors', bytes: 8 });
    expect(s[2]!.setup.epochs).toBe(0);
    expect(s[3]!.setup.epochs).toBe(1);
  });

  it('picked files: a checkpoint selects the file model, data selects its source, a reference zip its choice', () => {
    const model = new File([], 'vit.safetensors');
    const zip = new File([], 'dtd.zip');
    const s = play([
      { type: 'model-file-picked', file: model },
      { type: 'data-picked', data: { kind: 'zip', name: 'dtd.zip', count: 1, file: zip }, choice: 'zip' },
      { type: 'reference-picked', file: zip },
      { type: 'model-file-picked', file: null },
    ]);
    expect([s[1]!.setup.model, s[1]!.setup.modelFileName, s[1]!.picked.model]).toEqual(['file', 'vit.safetensors', model]);
    expect([s[2]!.setup.data, s[2]!.picked.data?.name]).toEqual(['zip', 'dtd.zip']);
    expect([s[3]!.paper.reference, s[3]!.picked.reference?.name]).toEqual(['zip', 'dtd.zip']);
    expect([s[4]!.picked.model, s[4]!.setup.modelFileName]).toEqual([null, '']);
  });

  it('the URL setup replaces the setup; presentation and the viewed group toggle', () => {
    const s = play([
      { type: 'setup-loaded', setup: { ...DEFAULT_SETUP, seed: 7 } },
      { type: 'presentation-toggled' },
      { type: 'presentation-toggled', on: true },
      { type: 'group-viewed', groupId: 'g1' },
      { type: 'problem', error: { code: 'config/invalid', message: 'No zip is picked.' } },
      { type: 'errors-cleared' },
    ]);
    expect(s[1]!.setup.seed).toBe(7);
    expect([s[2]!.presentation, s[3]!.presentation]).toEqual([true, true]);
    expect(s[4]!.viewGroupId).toBe('g1');
    expect(s[5]!.errors).toHaveLength(1);
    expect(s[6]!.errors).toEqual([]);
  });
});

describe('the headline accuracy of a run', () => {
  it('a quick run: its test accuracy, the chance level, and † when within noise of chance', () => {
    // synth_count: 8 classes, chance 12.5 %; on 500 images 2 standard errors of a guesser are 3.0 points.
    const test = (testAcc: number) => ({ testAcc, perClassAcc: [], confusion: [], numTest: 500 });
    expect(headlineAcc(summary({ test: test(15) }))).toEqual({ mean: 15, std: NaN, seeds: 1, chance: 12.5, nearChance: true });
    expect(headlineAcc(summary({ test: test(16) }))!.nearChance).toBe(false);
    expect(headlineAcc(summary())).toBeNull();
  });
});

describe('the queue the status line counts', () => {
  it('holds the runs of one Start, and a run restarted later alone (not its whole group)', () => {
    const b = (o: Partial<RunSummary> = {}) => info({ runId: 'b' }, { config: { ...summary().config, runId: 'b' }, ...o });
    const [, , , started, , ended, restarted] = play([
      { type: 'run', run: info({}, { status: 'queued' }) },
      { type: 'run', run: b({ status: 'queued' }) },
      { type: 'queue', waiting: ['a', 'b'], active: null, state: 'running' },
      { type: 'run', run: info({}, { status: 'cancelled' }) },
      { type: 'queue', waiting: [], active: null, state: 'cancelled' },
      { type: 'run', run: info({}, { status: 'queued' }) },
    ]);
    expect(started!.queueRuns).toEqual(['a', 'b']);
    expect(ended!.queueOpen).toBe(false);
    expect(ended!.queueRuns).toEqual(['a', 'b']);
    expect(restarted!.queueRuns).toEqual(['a']);
    expect(restarted!.queueOpen).toBe(true);
  });
});

describe('the setup', () => {
  it('a task switch that clears a typed prompt length says so in a notice; one with nothing typed says nothing', () => {
    const [, typed, switched] = play([
      { type: 'setup-changed', patch: { promptLength: 10 } },
      { type: 'setup-changed', patch: { taskId: 'dsprites_location' } },
    ]);
    expect(typed!.setup.promptLength).toBe(10);
    expect(switched!.setup.promptLength).toBeNull();
    expect(switched!.notices.map((n) => n.message)).toEqual([
      expect.stringMatching(/^Prompt length 10 \(typed\) was cleared for .*Type it again to keep 10\.$/),
    ]);
    const [, quiet] = play([{ type: 'setup-changed', patch: { taskId: 'dsprites_location' } }]);
    expect(quiet!.notices).toEqual([]);
  });
});

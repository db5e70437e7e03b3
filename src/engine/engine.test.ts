/**
 * The engine owns the runs: its queue in Node, with real (tiny) training runs and storage in
 * memory or in a folder. Start, two queued runs, pause, resume, cancel, a reload that interrupts a
 * run and a restart that continues it from its checkpoint, delete, and the trained parameters.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import type { BackendChoice } from '../backend/select';
import type { RunConfig, RunInfo, RunStatus } from '../domain/run';
import { nodeHost } from '../train/host.node';
import { parseSafetensors } from '../weights/formats/safetensors';
import type { EngineEvent } from './protocol';
import { Engine } from './engine';
import { filePersistence } from './files.node';
import { memoryPersistence, type Persistence } from './persistence';

const CHOICE: BackendChoice = { backend: 'wasm', adapter: 'WebAssembly (SIMD)', reason: 'tests', noWebGPU: true };

let serial = 0;
/** A tiny run: the fixtures' ViT shape with random weights on a procedural task. */
function config(o: Partial<RunConfig> = {}): RunConfig {
  return {
    runId: `run-${++serial}`,
    modelLabel: 'random tiny',
    model: { kind: 'random', preset: 'fixture_tiny' },
    taskId: 'synth_count',
    data: { kind: 'procedural' },
    method: 'vpt_deep',
    trainSize: 8,
    valSize: 4,
    testSize: 4,
    epochs: 1,
    batchSize: 4,
    promptLength: 2,
    seed: 1,
    imageSize: 0,
    gradcamSamples: 1,
    ...o,
  };
}

/** An engine on the WASM backend whose events are recorded, with helpers to wait for them. */
function engineWith(persistence: Persistence = memoryPersistence()) {
  const events: EngineEvent[] = [];
  const waiters = new Set<() => void>();
  const engine = new Engine({
    run: nodeHost,
    persistence,
    initBackend: async () => (await initNodeBackend('wasm'), CHOICE),
    resetBackend: () => {},
    emit: (e) => {
      events.push(e);
      for (const w of waiters) w();
    },
  });
  /** Resolves with the first event (from `from` on) that matches; fails after `ms`. */
  const next = <T extends EngineEvent>(match: (e: EngineEvent) => e is T, from = 0, ms = 60_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = events.slice(from).find(match);
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(
        () => (
          waiters.delete(check),
          reject(
            new Error(
              `no matching event in ${ms} ms; last: ${JSON.stringify(events.slice(-4).map((e) => (e.type === 'run' ? `run ${e.run.summary.status}` : e.type)))}`,
            ),
          )
        ),
        ms,
      );
      waiters.add(check);
      check();
    });
  const runEvent =
    (runId: string, status: RunStatus) =>
    (e: EngineEvent): e is Extract<EngineEvent, { type: 'run' }> =>
      e.type === 'run' && e.run.runId === runId && e.run.summary.status === status;
  const statuses = (runId: string) =>
    events.filter((e): e is Extract<EngineEvent, { type: 'run' }> => e.type === 'run' && e.run.runId === runId).map((e) => e.run.summary.status);
  const lastRun = (runId: string): RunInfo | undefined =>
    events.filter((e): e is Extract<EngineEvent, { type: 'run' }> => e.type === 'run' && e.run.runId === runId).at(-1)?.run;
  return { engine, events, next, runEvent, statuses, lastRun, persistence };
}

const isQueue =
  (state: string) =>
  (e: EngineEvent): e is Extract<EngineEvent, { type: 'queue' }> =>
    e.type === 'queue' && e.state === state;

let tmp: string;
beforeAll(async () => {
  await initNodeBackend('wasm');
  tmp = await mkdtemp(path.join(os.tmpdir(), 'engine-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the engine queue', () => {
  it('runs two queued runs one after the other, stores them, and ends the queue done', async () => {
    const t = engineWith();
    const a = config({ method: 'vpt_deep' }),
      b = config({ method: 'linear' });
    t.engine.handle({ type: 'enqueue', groupLabel: 'two', runs: [a, b] });
    await t.next(isQueue('done'));
    expect(t.statuses(a.runId)).toEqual(expect.arrayContaining(['queued', 'running', 'done']));
    expect(t.statuses(b.runId).at(-1)).toBe('done');
    // b started only after a had finished.
    const aDone = t.events.findIndex(t.runEvent(a.runId, 'done')),
      bRunning = t.events.findIndex(t.runEvent(b.runId, 'running'));
    expect(bRunning).toBeGreaterThan(aDone);
    const info = t.lastRun(a.runId)!;
    expect(info.summary.epochs).toHaveLength(1);
    expect(info.summary.test?.numTest).toBe(4);
    expect(info.groupLabel).toBe('two');
    expect(info.methodLabel).toBe('VPT-deep');
    expect(info.trained?.tensors).toBeGreaterThan(0);
    expect(info.hasCheckpoint).toBe(false); // a finished run keeps no checkpoint
    expect(t.events.some((e) => e.type === 'gradcam' && e.runId === a.runId)).toBe(true);
    await t.engine.settled();
    const stored = await t.persistence.loadAll();
    expect(stored.runs.map((r) => [r.runId, r.summary.status])).toEqual([
      [a.runId, 'done'],
      [b.runId, 'done'],
    ]);
    expect(stored.checkpointIds.size).toBe(0);
    expect([...stored.trained.keys()].sort()).toEqual([a.runId, b.runId].sort());
    expect(stored.gradcams.map((g) => g.runId).sort()).toEqual([a.runId, b.runId].sort());
  });

  it('pauses between steps, resumes, and a paused run makes no progress', async () => {
    const t = engineWith();
    const a = config({ trainSize: 32, epochs: 2 });
    t.engine.handle({ type: 'enqueue', groupLabel: 'pause', runs: [a] });
    await t.next((e): e is EngineEvent => e.type === 'step');
    t.engine.handle({ type: 'pause', runId: a.runId });
    await t.next(isQueue('paused'));
    expect(t.lastRun(a.runId)!.summary.status).toBe('paused');
    await new Promise((r) => setTimeout(r, 50)); // the step in flight ends
    const steps = t.events.filter((e) => e.type === 'step').length;
    await new Promise((r) => setTimeout(r, 400));
    expect(t.events.filter((e) => e.type === 'step').length).toBe(steps);
    t.engine.handle({ type: 'resume', runId: a.runId });
    await t.next(isQueue('done'));
    expect(t.lastRun(a.runId)!.summary.status).toBe('done');
    expect(t.lastRun(a.runId)!.summary.epochs).toHaveLength(2);
  });

  it('cancelling the running run starts the next; cancelling the queue cancels the rest', async () => {
    const t = engineWith();
    const [a, b, c, d] = [config({ trainSize: 64, epochs: 3 }), config(), config({ trainSize: 64, epochs: 3 }), config()];
    t.engine.handle({ type: 'enqueue', groupLabel: 'cancel', runs: [a, b] });
    await t.next((e): e is EngineEvent => e.type === 'step' && e.runId === a.runId);
    t.engine.handle({ type: 'cancel', runId: a.runId });
    await t.next(t.runEvent(a.runId, 'cancelled'));
    await t.next(isQueue('done'));
    expect(t.lastRun(b.runId)!.summary.status).toBe('done');

    const from = t.events.length;
    t.engine.handle({ type: 'enqueue', groupLabel: 'cancel all', runs: [c, d] });
    await t.next((e): e is EngineEvent => e.type === 'step' && e.runId === c.runId, from);
    t.engine.handle({ type: 'cancel-queue' });
    await t.next(isQueue('cancelled'), from);
    expect([t.lastRun(c.runId)!.summary.status, t.lastRun(d.runId)!.summary.status]).toEqual(['cancelled', 'cancelled']);
    expect(t.statuses(d.runId)).not.toContain('running');
  });

  it('a reload: the training run comes back interrupted and continues from its checkpoint, the waiting one stays queued', async () => {
    const dir = path.join(tmp, 'reload');
    const first = engineWith(filePersistence(dir));
    const a = config({ trainSize: 32, epochs: 3, method: 'ft' });
    const b = config({ method: 'linear' });
    first.engine.handle({ type: 'enqueue', groupLabel: 'reload', runs: [a, b] });
    // Pause in the second epoch, once the first one's checkpoint is stored, and take the folder as
    // a reload would find it.
    await first.next((e): e is EngineEvent => e.type === 'step' && e.epoch === 2);
    first.engine.handle({ type: 'pause', runId: a.runId });
    await first.next(isQueue('paused'));
    await first.next((e): e is EngineEvent => e.type === 'run' && e.run.runId === a.runId && e.run.hasCheckpoint);
    await first.engine.settled();
    const copy = path.join(tmp, 'reload-copy');
    await cp(dir, copy, { recursive: true });
    first.engine.handle({ type: 'cancel-queue' });
    await first.next(isQueue('cancelled'));
    await first.engine.settled();

    const second = engineWith(filePersistence(copy));
    second.engine.handle({ type: 'restore' });
    const restored = await second.next((e): e is Extract<EngineEvent, { type: 'restored' }> => e.type === 'restored');
    expect(restored.runs).toHaveLength(2);
    const info = restored.runs.find((r) => r.runId === a.runId)!;
    expect(info.summary.status).toBe('interrupted');
    expect(info.hasCheckpoint).toBe(true);
    // The run that never started is still queued, with nothing trained; both are offered, in order.
    const waiting = restored.runs.find((r) => r.runId === b.runId)!;
    expect(waiting.summary.status).toBe('queued');
    expect(waiting.summary.epochs).toEqual([]);
    expect(restored.stopped).toEqual([a.runId, b.runId]);
    // Nothing runs by itself after a reload.
    expect(second.events.some((e) => e.type === 'step')).toBe(false);
    const done = info.summary.epochs.length;
    expect(done).toBeGreaterThanOrEqual(1);
    second.engine.handle({ type: 'restart', runId: a.runId, model: a.model, data: a.data });
    second.engine.handle({ type: 'restart', runId: b.runId, model: b.model, data: b.data });
    await second.next(isQueue('done'));
    const end = second.lastRun(a.runId)!;
    expect(end.summary.status).toBe('done');
    expect(end.summary.epochs.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(second.lastRun(b.runId)!.summary.status).toBe('done');
    expect(second.lastRun(b.runId)!.summary.epochs).toHaveLength(b.epochs);
    // It continued: only the epochs after the checkpoint were trained again.
    expect(second.events.filter((e) => e.type === 'step' && e.runId === a.runId).map((e) => (e.type === 'step' ? e.epoch : 0))).not.toContain(1);
    await second.engine.settled();
    const stored = await second.persistence.loadAll();
    expect(stored.runs.map((r) => r.summary.status)).toEqual(['done', 'done']);
    expect(stored.checkpointIds.size).toBe(0);
  });

  it('exports and deletes a finished run and everything stored with it', async () => {
    const t = engineWith(filePersistence(path.join(tmp, 'delete')));
    const a = config();
    t.engine.handle({ type: 'enqueue', groupLabel: 'delete', runs: [a] });
    await t.next(isQueue('done'));
    t.engine.handle({ type: 'export-trained', requestId: 'x1', runId: a.runId });
    const file = await t.next((e): e is Extract<EngineEvent, { type: 'trained-file' }> => e.type === 'trained-file');
    expect(file.fileName).toBe(`synth_count-vpt_deep-seed1.safetensors`);
    const archive = parseSafetensors(new Uint8Array(await file.blob.arrayBuffer()), file.fileName);
    expect(archive.keys()).toEqual(expect.arrayContaining(['head.weight', 'head.bias', 'prompts.0']));

    t.engine.handle({ type: 'delete', runId: a.runId });
    await t.next((e): e is EngineEvent => e.type === 'deleted');
    await t.engine.settled();
    const stored = await t.persistence.loadAll();
    expect(stored.runs).toHaveLength(0);
    expect(stored.trained.size).toBe(0);
    t.engine.handle({ type: 'export-trained', requestId: 'x2', runId: a.runId });
    const err = await t.next((e): e is Extract<EngineEvent, { type: 'error' }> => e.type === 'error' && e.requestId === 'x2');
    expect(err.error.code).toBe('storage/missing');
  });

  it('refuses, with named errors before training, a resolution the patches do not divide and VPT prompts imported for an FT run', async () => {
    const t = engineWith();
    const vpt = config({ method: 'vpt_deep' });
    t.engine.handle({ type: 'enqueue', groupLabel: 'vpt', runs: [vpt] });
    await t.next(isQueue('done'));
    t.engine.handle({ type: 'export-trained', requestId: 'x3', runId: vpt.runId });
    const file = await t.next((e): e is Extract<EngineEvent, { type: 'trained-file' }> => e.type === 'trained-file' && e.requestId === 'x3');
    const ft = config({ method: 'ft', importParams: { file: file.blob, name: file.fileName } });
    // The fixture preset is 64 px in patches of 16: 40 px does not cut into whole patches.
    const res = config({ imageSize: 40 });
    const from = t.events.length;
    t.engine.handle({ type: 'enqueue', groupLabel: 'bad', runs: [ft, res] });
    await t.next(isQueue('done'), from);
    const ftError = t.lastRun(ft.runId)!.summary.error!;
    expect(ftError.code).toBe('config/invalid');
    expect(ftError.message).toMatch(/holds \d+ layer\(s\) of prompts trained by VPT-deep; Full fine-tuning uses no prompts/);
    expect(ftError.message).toMatch(/clear "Start from trained parameters"/);
    expect(t.lastRun(ft.runId)!.summary.epochs).toHaveLength(0);
    const resError = t.lastRun(res.runId)!.summary.error!;
    expect(resError.code).toBe('config/invalid');
    expect(resError.message).toMatch(/Input resolution 40 px is not a multiple of the patch size of random:fixture_tiny \(16 px\)/);
    expect(resError.message).toMatch(/Use 32 or 48 px/);
  });

  it('writes the learning rate a run trains at into its record, marks a run whose loss rises, and keeps the step curve', async () => {
    const t = engineWith();
    // Linear probe at the top of the prompt grid, many small steps: the loss runs away and rises.
    const wild = config({ method: 'linear', lr: 50, trainSize: 32, batchSize: 4, epochs: 3, gradcamSamples: 0 });
    const calm = config({ method: 'linear', trainSize: 32, batchSize: 4, epochs: 2, lr: 0.05, gradcamSamples: 0 });
    // No lr typed: the record names the method's recipe (a random model has no measured default).
    const blank = config({ method: 'linear', epochs: 1, gradcamSamples: 0 });
    t.engine.handle({ type: 'enqueue', groupLabel: 'rise', runs: [wild, calm, blank] });
    await t.next(isQueue('done'));
    const risen = t.lastRun(wild.runId)!.summary;
    expect(risen.status).toBe('done');
    expect(risen.lossRise).toMatchObject({ lr: 50 });
    expect(risen.lossRise!.loss).toBeGreaterThan(risen.lossRise!.reference);
    expect(t.lastRun(calm.runId)!.summary.lossRise).toBeUndefined();
    expect(t.lastRun(blank.runId)!.summary.config).toMatchObject({ lr: 0.5, weightDecay: 1e-4 });
    // The per-step loss up to the last epoch is in the stored record (a reload keeps the line).
    await t.engine.settled();
    const stored = (await t.persistence.loadAll()).runs.find((r) => r.runId === calm.runId)!;
    expect(stored.stepCurve).toHaveLength(16);
    expect(stored.stepCurve!.at(-1)!.x).toBe(2);
  });

  it('a run that fails is reported with its error and the queue goes on', async () => {
    const t = engineWith();
    const bad = config({ model: { kind: 'random', preset: 'no_such_preset' } }),
      good = config();
    t.engine.handle({ type: 'enqueue', groupLabel: 'fail', runs: [bad, good] });
    await t.next(isQueue('done'));
    expect(t.lastRun(bad.runId)!.summary.status).toBe('failed');
    expect(t.lastRun(bad.runId)!.summary.error?.code).toBe('config/invalid');
    expect(t.events.some((e) => e.type === 'error' && e.runId === bad.runId)).toBe(true);
    expect(t.lastRun(good.runId)!.summary.status).toBe('done');
  });

  it('a paper-protocol run reports its stage while it runs and ends with the search, the choice and every seed', async () => {
    const t = engineWith();
    const run = config({ trainSize: 8, valSize: 4, testSize: 8, protocol: { kind: 'paper', grid: { lrs: [0.5, 0.05], wds: [0] }, seeds: [1, 2] } });
    t.engine.handle({ type: 'enqueue', groupLabel: 'paper', runs: [run] });
    await t.next(t.runEvent(run.runId, 'done'));
    const stages = t.events.flatMap((e) =>
      e.type === 'run' && e.run.runId === run.runId && e.run.summary.stage ? [`${e.run.summary.stage.stage} ${e.run.summary.stage.index}`] : [],
    );
    expect([...new Set(stages)]).toEqual(['search 0', 'search 1', 'final 0', 'final 1']);
    const s = t.lastRun(run.runId)!.summary;
    expect(s.stage).toBeUndefined();
    expect(s.paper!.search.map((r) => r.lr)).toEqual([0.5, 0.05]);
    expect(s.paper!.final.map((f) => f.seed)).toEqual([1, 2]);
    expect(s.paper!.finalTrainSize).toBe(12);
    expect([0.5, 0.05]).toContain(s.config.lr);
    expect(s.config.lr).toBe(s.paper!.chosen.lr);
    expect(s.paper!.mean).toBeCloseTo((s.paper!.final[0].testAcc + s.paper!.final[1].testAcc) / 2, 10);
    expect(s.paper!.why?.cka).toHaveLength(4);
    // Its epochs are the first seed's final run's, as that run measured them: nothing made up.
    expect(s.epochs.map((e) => [e.epoch, e.trainLoss])).toEqual(s.paper!.final[0].curve.map((c) => [c.epoch, c.trainLoss]));
    for (const e of s.epochs) expect(e.lr).toBeGreaterThan(0);
    expect(s.test?.numTest).toBe(8);
    expect(t.events.some((e) => e.type === 'gradcam' && e.runId === run.runId)).toBe(true);
  });
});

describe('the speed probe', () => {
  const isProbe =
    (requestId: string) =>
    (e: EngineEvent): e is Extract<EngineEvent, { type: 'probe-result' | 'error' }> =>
      (e.type === 'probe-result' || e.type === 'error') && e.requestId === requestId;

  it('measures a configuration’s training and validation speed without a run, a checkpoint or a leftover tensor', async () => {
    const t = engineWith();
    const tensorsBefore = (await import('@tensorflow/tfjs')).memory().numTensors;
    t.engine.handle({ type: 'probe', requestId: 'p1', config: config({ method: 'ft_then_pt', batchSize: 4 }) });
    const r = await t.next(isProbe('p1'));
    if (r.type !== 'probe-result') throw new Error(`probe failed: ${JSON.stringify(r)}`);
    expect(r.trainImagesPerSec).toBeGreaterThan(0);
    expect(r.evalImagesPerSec).toBeGreaterThan(0);
    // What a run costs besides its steps and passes, timed too: loading the model, drawing the
    // procedural task's images, an epoch's end (snapshot and checkpoint, built and dropped).
    expect(r.runSeconds).toBeGreaterThan(0);
    expect(r.imageSeconds).toBeGreaterThan(0);
    expect(r.epochEndSeconds).toBeGreaterThan(0);
    expect(r.backend).toBe('wasm');
    // Nothing of a run: no record, no checkpoint, no queue change; every tensor freed.
    expect(t.events.some((e) => e.type === 'run' || e.type === 'queue')).toBe(false);
    expect((await import('@tensorflow/tfjs')).memory().numTensors).toBe(tensorsBefore);
  });

  it('gives way to runs: a Start cancels a waiting probe before its first step', async () => {
    const t = engineWith();
    const run = config();
    t.engine.handle({ type: 'probe', requestId: 'p2', config: config() });
    t.engine.handle({ type: 'enqueue', groupLabel: 'run', runs: [run] });
    const r = await t.next(isProbe('p2'));
    expect(r.type === 'error' && r.error.code).toBe('run/cancelled');
    await t.next(t.runEvent(run.runId, 'done'));
  });
});

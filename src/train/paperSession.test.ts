/**
 * The paper protocol end to end on the real trainer: what each stage reads, in what order.
 * A VTAB-1k-shaped folder (800 / 200 / test) is written to a temp dir and every file read is
 * logged beside the trainer's step events, so the test sees exactly when a test image is first read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { initNodeBackend } from '../backend/node';
import { makeTempDir, writeVtabFixture } from '../data/fixtures.node';
import { openProceduralTask } from '../data/procedural';
import type { RunConfig } from '../domain/run';
import { RunControl } from './control';
import { nodeHost } from './host.node';
import { chooseHyper, protocolSplits } from './paper';
import { runPaperSession, type PaperEvent } from './paperSession';
import type { RunHost } from './session';

let root = '';
beforeAll(async () => {
  await initNodeBackend('wasm');
  root = makeTempDir('paper-protocol-');
  writeVtabFixture(root, { folder: 'eurosat', classes: 10, train: 800, val: 200, test: 40 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type LogEntry = { kind: 'read'; path: string } | { kind: 'step'; seed: number } | { kind: 'paper'; e: PaperEvent };

/** nodeHost, with every file read of the data source logged. */
function recordingHost(log: LogEntry[]): RunHost {
  return {
    ...nodeHost,
    async openSource(spec) {
      const src = await nodeHost.openSource(spec);
      return Object.assign(Object.create(Object.getPrototypeOf(src)), src, {
        read: async (path: string, limit?: Parameters<typeof src.read>[1]) => {
          log.push({ kind: 'read', path });
          return src.read(path, limit);
        },
        list: src.list.bind(src),
        exists: src.exists.bind(src),
        describe: src.describe.bind(src),
      });
    },
  };
}

const baseConfig = (o: Partial<RunConfig> = {}): RunConfig => ({
  runId: 'paper-test',
  modelLabel: 'random fixture_tiny',
  model: { kind: 'random', preset: 'fixture_tiny' },
  taskId: 'eurosat',
  data: { kind: 'path', path: root },
  method: 'vpt_deep',
  trainSize: 800,
  valSize: 200,
  testSize: 0,
  epochs: 1,
  batchSize: 100,
  promptLength: 2,
  seed: 0,
  imageSize: 0,
  gradcamSamples: 0,
  ...o,
});

describe('the paper protocol on a VTAB-1k folder', () => {
  it('searches on train800 / val200 without a test image, then trains each seed on all 1000 and reads test only after its last step', async () => {
    const log: LogEntry[] = [];
    let seed = -1;
    const out = await runPaperSession(
      baseConfig(),
      { grid: { lrs: [0.5, 0.05], wds: [0] }, seeds: [3, 4], analysisImages: 8 },
      recordingHost(log),
      new RunControl(),
      {
        onPaperEvent: (e) => {
          if (e.type === 'run-start') seed = e.seed;
          log.push({ kind: 'paper', e });
        },
        onEvent: (e) => e.type === 'step' && log.push({ kind: 'step', seed }),
      },
    );
    const starts = log.flatMap((l) => (l.kind === 'paper' && l.e.type === 'run-start' ? [l.e] : []));
    expect(starts.map((s) => [s.stage, s.trainSize, s.valSize, s.testSize])).toEqual([
      ['search', 800, 200, 0],
      ['search', 800, 200, 0],
      ['final', 1000, 0, 40],
      ['final', 1000, 0, 40],
    ]);
    expect(out.paper.finalTrainSize).toBe(1000);

    const isTest = (p: string) => p.includes('images/test/');
    const at = (pred: (l: LogEntry) => boolean) => log.findIndex(pred);
    const firstFinal = at((l) => l.kind === 'paper' && l.e.type === 'run-start' && l.e.stage === 'final');
    const firstTestRead = at((l) => l.kind === 'read' && isTest(l.path));
    // Nothing in the search stage reads a test image.
    expect(firstTestRead).toBeGreaterThan(firstFinal);
    // Test images are first read after the last training step of the first final run ...
    const lastStepOfFirstFinal = log.reduce((last, l, i) => (l.kind === 'step' && l.seed === 3 && i > firstFinal ? i : last), -1);
    expect(firstTestRead).toBeGreaterThan(lastStepOfFirstFinal);
    // ... and in every run, no training step follows a test read before the run ends.
    for (let i = 0; i < log.length; i++) {
      const l = log[i];
      if (l.kind !== 'read' || !isTest(l.path)) continue;
      const end = log.findIndex((x, j) => j > i && x.kind === 'paper' && x.e.type === 'run-end');
      expect(
        log.slice(i, end < 0 ? undefined : end).some((x) => x.kind === 'step'),
        `a step after reading ${l.path}`,
      ).toBe(false);
    }
    // The final training read the train800val200 images, exactly.
    const finalTrainReads = new Set(log.slice(firstFinal, firstTestRead).flatMap((l) => (l.kind === 'read' && !l.path.endsWith('.txt') ? [l.path] : [])));
    expect(finalTrainReads.size).toBe(1000);
    expect([...finalTrainReads].every((p) => p.includes('images/train/'))).toBe(true);

    // Selection used the val200 scores; the chosen values are a search point's.
    expect(out.paper.search).toHaveLength(2);
    const best = chooseHyper(out.paper.search);
    expect(out.paper.chosen).toEqual({ lr: best.lr, wd: best.wd, valAcc: best.valAcc });
    expect(out.config.lr).toBe(best.lr);
    expect(out.paper.final.map((f) => f.seed)).toEqual([3, 4]);
    expect(Number.isFinite(out.paper.mean) && Number.isFinite(out.paper.std)).toBe(true);
    // The why analyses ran on the first seed's final model.
    expect(out.why?.cka).toHaveLength(4);
    expect(out.why?.promptAttention?.fromCls).toHaveLength(3);
  });
});

describe('the paper protocol on a procedural task', () => {
  it('draws the same split sizes from the generator: search 800 / 200, final 1000', () => {
    const { search, final } = protocolSplits(openProceduralTask('clevr_like_count', { trainSize: 800, valSize: 200, testSize: 50, seed: 1 }));
    expect([search.train.length, search.val.length, search.test.length]).toEqual([800, 200, 0]);
    expect([final.train.length, final.val.length, final.test.length]).toEqual([1000, 0, 50]);
  });

  it('the same seeds give the same runs; other seeds give other runs; the images stay the same', async () => {
    const config = baseConfig({ taskId: 'dsprites_location', data: { kind: 'procedural' }, trainSize: 32, valSize: 8, testSize: 16, batchSize: 8 });
    const go = (seeds: number[]) => runPaperSession(config, { grid: { lrs: [0.5], wds: [0] }, seeds, analysisImages: 0 }, nodeHost, new RunControl());
    const a = await go([1, 2]),
      b = await go([1, 2]),
      c = await go([5, 6]);
    expect(a.paper.final.map((f) => f.curve)).toEqual(b.paper.final.map((f) => f.curve));
    expect(a.paper.final.map((f) => f.testAcc)).toEqual(b.paper.final.map((f) => f.testAcc));
    expect(a.paper.final[0].curve).not.toEqual(a.paper.final[1].curve);
    expect(a.paper.final[0].curve).not.toEqual(c.paper.final[0].curve);
    expect(a.paper.numTest).toBe(16);
  });

  it('a search point whose loss stops being finite counts as diverged and is never chosen', async () => {
    const config = baseConfig({
      method: 'linear',
      taskId: 'dsprites_location',
      data: { kind: 'procedural' },
      trainSize: 32,
      valSize: 8,
      testSize: 16,
      batchSize: 8,
    });
    const out = await runPaperSession(config, { grid: { lrs: [1e35, 0.5], wds: [0] }, seeds: [1], analysisImages: 0 }, nodeHost, new RunControl());
    const hot = out.paper.search.find((s) => s.lr === 1e35)!;
    expect(hot.diverged).toBe(true);
    expect(out.paper.chosen.lr).toBe(0.5);
    expect(out.paper.final).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { LabError } from '../domain/errors';
import type { DataItem, SelectedSplits } from '../data/types';
import { getTask } from '../data/catalog';
import { isMethodId } from './methods';
import {
  REDUCED_GRIDS,
  REFERENCE_GRIDS,
  chanceAccuracy,
  chooseHyper,
  gridFor,
  gridPoints,
  hasDiverged,
  meanStd,
  nearChance,
  parseGrid,
  parseSeeds,
  protocolSplits,
  protocolWork,
  resolveGrid,
  runPaperProtocol,
  type ProtocolRunRequest,
  type SearchRun,
} from './paper';

const items = (prefix: string, n: number): DataItem[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}/${i}`, label: i % 10 }));

function vtabLikeSplits(train = 800, val = 200, test = 300): SelectedSplits {
  return {
    task: getTask('svhn'),
    train: items('train', train),
    val: items('val', val),
    test: items('test', test),
    images: { describe: () => 'fake', load: async () => ({ width: 1, height: 1, data: new Uint8Array(4) }) },
    skipped: [],
    seed: 0,
  };
}

const run = (lr: number, wd: number, valAcc: number, diverged = false): SearchRun => ({ lr, wd, valAcc, diverged, epochs: 1, curve: [], seconds: 0 });

describe('paper protocol: grids', () => {
  it('are the reference code grids (KMnP/vpt tune_vtab.py get_lrwd_range)', () => {
    expect([...REFERENCE_GRIDS.prompt.lrs].sort((a, b) => b - a)).toEqual([50, 25, 10, 5, 2.5, 1, 0.5, 0.25, 0.1, 0.05]);
    expect(REFERENCE_GRIDS.linear.lrs).toEqual(REFERENCE_GRIDS.prompt.lrs);
    expect([...REFERENCE_GRIDS.finetune.lrs].sort()).toEqual([0.0001, 0.0005, 0.001, 0.005]);
    for (const g of Object.values(REFERENCE_GRIDS)) expect(g.wds).toEqual([0.01, 0.001, 0.0001, 0]);
    expect(gridPoints(REFERENCE_GRIDS.prompt)).toHaveLength(40);
    expect(gridPoints(REFERENCE_GRIDS.finetune)).toHaveLength(16);
  });

  it('the reduced default is a sub-grid of the reference for every method', () => {
    for (const family of ['prompt', 'linear', 'finetune'] as const) {
      for (const lr of REDUCED_GRIDS[family].lrs) expect(REFERENCE_GRIDS[family].lrs).toContain(lr);
      for (const wd of REDUCED_GRIDS[family].wds) expect(REFERENCE_GRIDS[family].wds).toContain(wd);
    }
    expect(gridFor('vpt_deep', 'reduced')).toBe(REDUCED_GRIDS.prompt);
    expect(gridFor('ft', 'reference')).toBe(REFERENCE_GRIDS.finetune);
    expect(gridFor('linear', 'reference')).toBe(REFERENCE_GRIDS.linear);
  });

  it('parses explicit grids and names bad ones', () => {
    expect(parseGrid('lr=0.5,0.05;wd=0.0001,0', REDUCED_GRIDS.prompt)).toEqual({ lrs: [0.5, 0.05], wds: [0.0001, 0] });
    expect(parseGrid('lr=1', REDUCED_GRIDS.prompt)).toEqual({ lrs: [1], wds: [0.0001] });
    expect(resolveGrid('reference', 'vpt_deep')).toBe(REFERENCE_GRIDS.prompt);
    expect(resolveGrid(undefined, 'ft')).toBe(REDUCED_GRIDS.finetune);
    for (const bad of ['', 'lr=', 'lr=abc', 'lr=0', 'wd=-1', 'momentum=0.9']) {
      expect(() => parseGrid(bad, REDUCED_GRIDS.prompt)).toThrow(LabError);
    }
  });

  it('reads seeds as a count from the base seed or as a list', () => {
    expect(parseSeeds('3', 0)).toEqual([0, 1, 2]);
    expect(parseSeeds('2', 7)).toEqual([7, 8]);
    expect(parseSeeds('0,5,9', 7)).toEqual([0, 5, 9]);
    for (const bad of ['', '0', '1.5', 'a', '1,,2', '1,1', '-1']) expect(() => parseSeeds(bad, 0)).toThrow(LabError);
  });

  it('counts the work of a plan before anything runs', () => {
    const w = protocolWork({ grid: { lrs: [1, 0.1], wds: [0] }, seeds: [0, 1, 2], searchTrainSize: 800, valSize: 200 }, 10, 500);
    expect(w).toEqual({ runs: 5, trainImageEpochs: 2 * 800 * 10 + 3 * 1000 * 10, evalImages: 2 * 200 * 10 + 3 * 500 });
  });
});

describe('paper protocol: splits', () => {
  it('the final run trains on train800val200: 1000 images for a VTAB-1k split, no validation', () => {
    const s = vtabLikeSplits();
    const { search, final } = protocolSplits(s);
    expect(final.train).toHaveLength(1000);
    expect(new Set(final.train.map((i) => i.id))).toEqual(new Set([...s.train, ...s.val].map((i) => i.id)));
    expect(final.val).toHaveLength(0);
    expect(final.test).toBe(s.test);
    expect(search.train).toBe(s.train);
    expect(search.val).toBe(s.val);
  });

  it('the search stage holds no test image at all', () => {
    const { search } = protocolSplits(vtabLikeSplits());
    expect(search.test).toHaveLength(0);
  });

  it('refuses splits without validation images or with a test image in training', () => {
    expect(() => protocolSplits(vtabLikeSplits(800, 0))).toThrow(/validation/);
    const s = vtabLikeSplits();
    s.train[3] = s.test[7];
    expect(() => protocolSplits(s)).toThrow(/test\/7/);
  });
});

describe('paper protocol: selection and statistics', () => {
  it('chooses by validation accuracy; a tie goes to the smaller lr, then the larger decay', () => {
    expect(chooseHyper([run(5, 0, 40), run(0.5, 0, 55), run(0.05, 0, 50)]).lr).toBe(0.5);
    expect(chooseHyper([run(5, 0, 55), run(0.5, 0, 55)]).lr).toBe(0.5);
    expect(chooseHyper([run(0.5, 0, 55), run(0.5, 0.001, 55)]).wd).toBe(0.001);
  });

  it('leaves diverged runs out unless every run diverged', () => {
    expect(chooseHyper([run(5, 0, 60, true), run(0.5, 0, 30)]).lr).toBe(0.5);
    expect(chooseHyper([run(5, 0, 60, true), run(0.5, 0, 30, true)]).lr).toBe(5);
  });

  it('flags a non-finite loss or one far above chance-level cross-entropy as diverged', () => {
    expect(hasDiverged(NaN, 10)).toBe(true);
    expect(hasDiverged(Infinity, 10)).toBe(true);
    expect(hasDiverged(2.3, 10)).toBe(false);
    expect(hasDiverged(20 * Math.log(10) + 0.01, 10)).toBe(true);
    expect(hasDiverged(25, 8)).toBe(false); // loud but still ranking classes (linear probe, lr 5)
  });

  it('mean and sample standard deviation', () => {
    const { mean, std } = meanStd([30, 32, 34]);
    expect(mean).toBeCloseTo(32, 12);
    expect(std).toBeCloseTo(2, 12);
    expect(Number.isNaN(meanStd([5]).std)).toBe(true);
  });

  it('marks accuracies within noise of chance', () => {
    expect(chanceAccuracy(8)).toBe(12.5);
    // 500 test images, 8 classes: SE = 100·sqrt(0.125·0.875/500) ≈ 1.48, threshold ≈ 15.5 %.
    expect(nearChance(15, 8, 500)).toBe(true);
    expect(nearChance(16, 8, 500)).toBe(false);
  });
});

describe('paper protocol: the order of runs', () => {
  /** A fake trainer: val accuracy peaks at lr 0.5; test accuracy is anti-correlated with val. */
  function fakeRunner(log: ProtocolRunRequest[], opts: { divergeAbove?: number } = {}) {
    return async (req: ProtocolRunRequest) => {
      log.push(req);
      const val = 60 - 10 * Math.abs(Math.log10(req.lr / 0.5)) - 100 * req.wd;
      const curve = [];
      for (let e = 1; e <= 4; e++) {
        const loss = opts.divergeAbove !== undefined && req.lr > opts.divergeAbove ? 100 * e * e : 2 / e;
        curve.push({ epoch: e, trainLoss: loss, trainAcc: 50, heldOutAcc: req.stage === 'search' ? val : NaN });
        if (req.stopAfterEpoch?.(loss)) return { curve, valAcc: val, stoppedEarly: true, seconds: 1 };
      }
      return req.stage === 'search'
        ? { curve, valAcc: val, stoppedEarly: false, seconds: 1 }
        : { curve, testAcc: 100 - val + req.seed, numTest: 300, stoppedEarly: false, seconds: 1 };
    };
  }

  it('searches the whole grid first, then trains every seed with the values chosen on validation', async () => {
    const log: ProtocolRunRequest[] = [];
    const out = await runPaperProtocol(
      { grid: { lrs: [5, 0.5, 0.05], wds: [0.001, 0] }, seeds: [0, 1, 2], numClasses: 10, searchTrainSize: 800, valSize: 200 },
      fakeRunner(log),
    );
    expect(log.map((r) => r.stage)).toEqual([...Array(6).fill('search'), 'final', 'final', 'final']);
    expect(log.filter((r) => r.stage === 'search').every((r) => r.seed === 0)).toBe(true);
    // Chosen on val (lr 0.5, wd 0) although the anti-correlated test accuracy would pick another.
    expect(out.chosen).toEqual({ lr: 0.5, wd: 0, valAcc: 60 });
    expect(log.filter((r) => r.stage === 'final').map((r) => [r.lr, r.wd, r.seed])).toEqual([
      [0.5, 0, 0],
      [0.5, 0, 1],
      [0.5, 0, 2],
    ]);
    expect(out.search).toHaveLength(6);
    expect(out.finalTrainSize).toBe(1000);
    expect(out.final.map((f) => f.testAcc)).toEqual([40, 41, 42]);
    expect(out.mean).toBeCloseTo(41, 12);
    expect(out.std).toBeCloseTo(1, 12);
    expect(out.numTest).toBe(300);
  });

  it('stops a diverging search run after its first bad epoch and never chooses it', async () => {
    const log: ProtocolRunRequest[] = [];
    const out = await runPaperProtocol(
      { grid: { lrs: [50, 0.5], wds: [0] }, seeds: [7], numClasses: 10, searchTrainSize: 80, valSize: 20 },
      fakeRunner(log, { divergeAbove: 1 }),
    );
    const hot = out.search.find((s) => s.lr === 50)!;
    expect(hot.diverged).toBe(true);
    expect(hot.epochs).toBe(1);
    expect(out.search.find((s) => s.lr === 0.5)!.epochs).toBe(4);
    expect(out.chosen.lr).toBe(0.5);
  });

  it('refuses an empty or repeating seed list before running anything', async () => {
    const log: ProtocolRunRequest[] = [];
    await expect(runPaperProtocol({ grid: REDUCED_GRIDS.prompt, seeds: [], numClasses: 10, searchTrainSize: 8, valSize: 2 }, fakeRunner(log))).rejects.toThrow(
      /seed/,
    );
    await expect(
      runPaperProtocol({ grid: REDUCED_GRIDS.prompt, seeds: [1, 1], numClasses: 10, searchTrainSize: 8, valSize: 2 }, fakeRunner(log)),
    ).rejects.toThrow(/repeat/);
    expect(log).toHaveLength(0);
  });
});

describe('names from the command line', () => {
  it('takes only the methods table’s own keys as methods, and escapes what it echoes', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(isMethodId(name)).toBe(false);
    expect(isMethodId('vpt_deep')).toBe(true);
    expect(() => parseSeeds('1,\u001b[2J1', 0)).toThrow(/\\x1b/);
  });
});

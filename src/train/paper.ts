/**
 * The VTAB-1k protocol of both papers, as the reference VPT code runs it (github.com/KMnP/vpt,
 * `tune_vtab.py`):
 *
 *   1. search: for every (lr, wd) of a grid, train on train800 and score on val200 (the last
 *      epoch's top-1); no test image is loaded;
 *   2. choose the best (lr, wd) on val200 (a tie goes to the smaller lr, "for stability");
 *   3. final: train on train800val200 (all 1000 images) with the chosen values, once per seed
 *      (the reference: 5 seeds, 42 44 82 100 800), and evaluate on test;
 *   4. report the mean (and here the standard deviation) of the seeds' test accuracies.
 *
 * This module is the protocol only: the grids, the splits of each stage, selection, divergence,
 * statistics and the order of runs. Training itself is a callback (`ProtocolRunner`), so the same
 * protocol drives the engine, `npm run train -- --protocol paper` and `npm run study`, and the
 * unit tests can watch exactly which images each stage reads.
 */
import { LabError, quoted } from '../domain/errors';
import type { DataItem, SelectedSplits } from '../data/types';
import type { MethodId } from '../domain/run';
import { METHODS } from './methods';
import type { CurvePoint, FinalRun, HyperGrid, PaperOutcome, SearchRun } from '../domain/paper';

export type { CurvePoint, FinalRun, HyperGrid, PaperOutcome, SearchRun } from '../domain/paper';

/**
 * The reference grids, `get_lrwd_range` in KMnP/vpt `tune_vtab.py`: `prompt` and `linear` share
 * the learning rates {50, 25, 10, 5, 2.5, 1, 0.5, 0.25, 0.1, 0.05}; `finetune` has its own. All
 * three search weight decay {0.01, 0.001, 0.0001, 0}.
 */
export const REFERENCE_GRIDS = {
  prompt: { lrs: [50, 25, 10, 5, 2.5, 1, 0.5, 0.25, 0.1, 0.05], wds: [0.01, 0.001, 0.0001, 0] },
  linear: { lrs: [50, 25, 10, 5, 2.5, 1, 0.5, 0.25, 0.1, 0.05], wds: [0.01, 0.001, 0.0001, 0] },
  finetune: { lrs: [0.005, 0.001, 0.0005, 0.0001], wds: [0.01, 0.001, 0.0001, 0] },
} as const satisfies Record<string, HyperGrid>;

/**
 * The default: a sub-grid of the reference, one point per decade of learning rate at the
 * reference configs' own weight decay (`base-prompt.yaml` / `base-linear.yaml`: 1e-4; the
 * reference AdamW applies 0.01 whenever decay is on). 3 search runs instead of 40 (16 for FT):
 * the learning rate moves results by tens of points on the bundled model, weight decay by less
 * than the seed-to-seed spread over the few epochs a browser run has.
 */
export const REDUCED_GRIDS = {
  prompt: { lrs: [5, 0.5, 0.05], wds: [0.0001] },
  linear: { lrs: [5, 0.5, 0.05], wds: [0.0001] },
  finetune: { lrs: [0.005, 0.001, 0.0001], wds: [0.01] },
} as const satisfies Record<string, HyperGrid>;

export type GridFamily = keyof typeof REFERENCE_GRIDS;
export type GridChoice = 'reduced' | 'reference';

/**
 * Which reference grid a method searches: every method that trains backbone weights (AdamW)
 * searches the fine-tuning grid; prompt methods the prompt grid; the linear probe its own.
 * FT-then-PT searches its prompt phase (its fine-tuning phase keeps the FT recipe).
 */
export function gridFamily(method: MethodId): GridFamily {
  return METHODS[method].grid;
}

export function gridFor(method: MethodId, choice: GridChoice): HyperGrid {
  return (choice === 'reference' ? REFERENCE_GRIDS : REDUCED_GRIDS)[gridFamily(method)];
}

/** Every (lr, wd) point of a grid, learning rates from high to low as the reference visits them. */
export function gridPoints(grid: HyperGrid): { lr: number; wd: number }[] {
  const lrs = [...grid.lrs].sort((a, b) => b - a),
    wds = [...grid.wds].sort((a, b) => b - a);
  return lrs.flatMap((lr) => wds.map((wd) => ({ lr, wd })));
}

/**
 * A grid from text: `reduced`, `reference`, or `lr=0.5,0.05;wd=0.0001,0` (either part may be left
 * out and then comes from `fallback`). Bad text is a named error.
 */
export function parseGrid(text: string, fallback: HyperGrid, where = '--grid'): HyperGrid {
  const t = text.trim();
  const parts = t
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!parts.length) throw new LabError('config/invalid', `${where} is empty.`, 'Give `reduced`, `reference`, or e.g. `lr=0.5,0.05;wd=0.0001`.');
  let lrs: number[] | null = null,
    wds: number[] | null = null;
  for (const p of parts) {
    const m = /^(lr|wd)\s*=\s*(.+)$/.exec(p);
    if (!m)
      throw new LabError(
        'config/invalid',
        `${where}: cannot read ${quoted(p, 60)}.`,
        'Write `lr=<values>` and/or `wd=<values>`, comma-separated, joined by `;`, e.g. `lr=0.5,0.05;wd=0.0001`.',
      );
    const values = m[2].split(',').map((v) => v.trim());
    const nums = values.map(Number);
    const bad = values.find((v, i) => v === '' || !Number.isFinite(nums[i]) || nums[i] < 0 || (m[1] === 'lr' && nums[i] === 0));
    if (bad !== undefined)
      throw new LabError(
        'config/invalid',
        `${where}: ${quoted(bad, 40)} is not a valid ${m[1] === 'lr' ? 'learning rate (a number > 0)' : 'weight decay (a number ≥ 0)'}.`,
        `Fix the value in ${quoted(p, 60)}.`,
      );
    if (m[1] === 'lr') lrs = [...new Set(nums)];
    else wds = [...new Set(nums)];
  }
  return { lrs: lrs ?? [...fallback.lrs], wds: wds ?? [...fallback.wds] };
}

/** The grid a user asked for, by name or as explicit values, for one method. */
export function resolveGrid(spec: string | undefined, method: MethodId): HyperGrid {
  const s = (spec ?? 'reduced').trim();
  if (s === 'reduced' || s === 'reference') return gridFor(method, s);
  return parseGrid(s, gridFor(method, 'reduced'));
}

/**
 * Seeds from text: a count ("3": base, base + 1, base + 2) or a list ("0,5,9"). The reference
 * ran 5 seeds; the lab's paper mode defaults to 3.
 */
export function parseSeeds(text: string, base: number, where = '--seeds'): number[] {
  const t = text.trim();
  const items = t.split(',').map((x) => x.trim());
  const nums = items.map(Number);
  if (!t || items.some((x, i) => x === '' || !Number.isInteger(nums[i]) || nums[i] < 0)) {
    throw new LabError(
      'config/invalid',
      `${where} must be a count (e.g. 3) or a list of whole numbers (e.g. 0,1,2), got ${quoted(t, 60)}.`,
      'Give e.g. --seeds 3.',
    );
  }
  if (items.length === 1) {
    if (nums[0] < 1 || nums[0] > 100) throw new LabError('config/invalid', `${where} ${nums[0]}: the count must be from 1 to 100.`, 'Give e.g. --seeds 3.');
    return Array.from({ length: nums[0] }, (_, i) => base + i);
  }
  if (new Set(nums).size !== nums.length) throw new LabError('config/invalid', `${where} repeats a seed: ${quoted(t, 60)}.`, 'Give distinct seeds.');
  return nums;
}

/** The two stages' data: search = train / val, no test; final = train ∪ val / no val / test. */
export interface ProtocolSplits {
  search: SelectedSplits;
  final: SelectedSplits;
}

/**
 * Split a task's selected splits for the protocol. For a VTAB-1k folder, train800 ∪ val200 is the
 * train800val200 list (1000 images); procedural tasks draw the same sizes from the generator and
 * are split the same way. The search stage has no test items at all, so nothing in it can read one.
 */
export function protocolSplits(s: SelectedSplits): ProtocolSplits {
  if (!s.val.length)
    throw new LabError(
      'config/invalid',
      'The paper protocol needs validation images to choose hyperparameters, and this setup has none.',
      'Use a validation size above 0 (VTAB-1k: 200).',
    );
  const ids = new Set(s.test.map((t) => t.id));
  const leak = [...s.train, ...s.val].find((it) => ids.has(it.id));
  if (leak)
    throw new LabError(
      'data/not-vtab-layout',
      `Test item ${leak.id} is also in the training or validation split.`,
      'Train, validation and test lists must not share images.',
    );
  const trainval: DataItem[] = [...s.train, ...s.val];
  return {
    search: { ...s, test: [] },
    final: { ...s, train: trainval, val: [] },
  };
}

/**
 * A search run has diverged when its training loss is not finite (the reference's only test) or
 * an epoch's mean exceeds DIVERGENCE_FACTOR × ln(K), K classes: chance-level cross-entropy is
 * ln(K), so a mean loss that many times larger means the logits are blowing up, not learning.
 * The factor is generous on purpose: a high learning rate can run at several times ln(K) with
 * overconfident logits and still rank classes well (the bundled model's linear probe at lr 5:
 * loss 12–25 on 8 classes, 29.6 % test accuracy, as good as at lr 0.5).
 */
export const DIVERGENCE_FACTOR = 20;

export function hasDiverged(trainLoss: number, numClasses: number): boolean {
  return !Number.isFinite(trainLoss) || trainLoss > DIVERGENCE_FACTOR * Math.log(Math.max(2, numClasses));
}

/**
 * The reference's choice (`find_best_lrwd`): the highest val accuracy; a tie goes to the smaller
 * learning rate, then (the reference visits weight decays from high to low) to the larger decay.
 * Diverged runs only count when every run diverged.
 */
export function chooseHyper(runs: readonly SearchRun[]): SearchRun {
  if (!runs.length) throw new Error('chooseHyper: no search runs.');
  const pool = runs.some((r) => !r.diverged) ? runs.filter((r) => !r.diverged) : runs;
  const score = (r: SearchRun) => (Number.isFinite(r.valAcc) ? r.valAcc : -Infinity);
  return [...pool].sort((a, b) => score(b) - score(a) || a.lr - b.lr || b.wd - a.wd)[0];
}

/** Mean and sample standard deviation (n − 1); the deviation of one value is NaN. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (!xs.length) return { mean: NaN, std: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, std: NaN };
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}

/** Chance-level accuracy (%) of a K-class task with balanced classes. */
export function chanceAccuracy(numClasses: number): number {
  return 100 / numClasses;
}

/**
 * Whether an accuracy is within noise of chance: below chance + 2 binomial standard errors of a
 * random guesser on `numTest` images (a guesser exceeds it about 2 % of the time).
 */
export function nearChance(acc: number, numClasses: number, numTest: number): boolean {
  const p = 1 / numClasses;
  const se = 100 * Math.sqrt((p * (1 - p)) / Math.max(1, numTest));
  return acc < chanceAccuracy(numClasses) + 2 * se;
}

/** What one protocol run is asked to do; the runner maps the stage to its splits. */
export interface ProtocolRunRequest {
  stage: 'search' | 'final';
  lr: number;
  wd: number;
  seed: number;
  /** Position in its stage (0-based) and the stage's run count, for progress. */
  index: number;
  of: number;
  /**
   * Search only: the runner calls this after every epoch with its mean training loss and stops the
   * run (reporting `stoppedEarly`) when it returns true.
   */
  stopAfterEpoch?: (trainLoss: number) => boolean;
}

export interface ProtocolRunResult {
  curve: CurvePoint[];
  /** Search: val accuracy at the last epoch trained. */
  valAcc?: number;
  /** Final: test accuracy after the last epoch. */
  testAcc?: number;
  numTest?: number;
  stoppedEarly: boolean;
  seconds: number;
}

export type ProtocolRunner = (req: ProtocolRunRequest) => Promise<ProtocolRunResult>;

export interface PaperPlan {
  grid: HyperGrid;
  seeds: readonly number[];
  numClasses: number;
  searchTrainSize: number;
  valSize: number;
  /** Stop diverged search runs early (default true). */
  earlyStop?: boolean;
}

export function checkPlan(plan: PaperPlan): void {
  if (!plan.seeds.length) throw new LabError('config/invalid', 'The paper protocol needs at least one seed.', 'Use --seeds 3 (the default) or more.');
  if (new Set(plan.seeds).size !== plan.seeds.length) throw new LabError('config/invalid', `Seeds repeat: ${plan.seeds.join(', ')}.`, 'Give distinct seeds.');
  if (!plan.grid.lrs.length || !plan.grid.wds.length)
    throw new LabError('config/invalid', 'The hyperparameter grid is empty.', 'Give at least one learning rate and one weight decay.');
}

/**
 * Run the protocol: every search point on the search splits (seed = the first seed), the choice,
 * then one final run per seed on the final splits. Runs are sequential; `onRun` reports each.
 */
export async function runPaperProtocol(
  plan: PaperPlan,
  run: ProtocolRunner,
  onRun?: (stage: 'search' | 'final', done: number, total: number) => void,
): Promise<PaperOutcome> {
  checkPlan(plan);
  const points = gridPoints(plan.grid);
  const notices: string[] = [];
  const earlyStop = plan.earlyStop ?? true;
  const search: SearchRun[] = [];
  for (let i = 0; i < points.length; i++) {
    const { lr, wd } = points[i];
    let diverged = false;
    const r = await run({
      stage: 'search',
      lr,
      wd,
      seed: plan.seeds[0],
      index: i,
      of: points.length,
      stopAfterEpoch: (loss) => (diverged = diverged || hasDiverged(loss, plan.numClasses)) && earlyStop,
    });
    diverged = diverged || r.curve.some((c) => hasDiverged(c.trainLoss, plan.numClasses));
    search.push({ lr, wd, valAcc: r.valAcc ?? NaN, diverged, epochs: r.curve.length, curve: r.curve, seconds: r.seconds });
    onRun?.('search', i + 1, points.length);
  }
  if (search.every((s) => s.diverged))
    notices.push('Every search run diverged; the choice falls back to the best validation accuracy among them. Try smaller learning rates.');
  const best = chooseHyper(search);
  const final: FinalRun[] = [];
  let numTest = 0;
  for (let i = 0; i < plan.seeds.length; i++) {
    const r = await run({ stage: 'final', lr: best.lr, wd: best.wd, seed: plan.seeds[i], index: i, of: plan.seeds.length });
    if (r.testAcc === undefined) throw new Error('A final run returned no test accuracy.');
    numTest = r.numTest ?? numTest;
    final.push({ seed: plan.seeds[i], testAcc: r.testAcc, curve: r.curve, seconds: r.seconds });
    onRun?.('final', i + 1, plan.seeds.length);
  }
  const { mean, std } = meanStd(final.map((f) => f.testAcc));
  return {
    protocol: 'paper',
    grid: { lrs: [...plan.grid.lrs], wds: [...plan.grid.wds] },
    search,
    chosen: { lr: best.lr, wd: best.wd, valAcc: best.valAcc },
    searchTrainSize: plan.searchTrainSize,
    valSize: plan.valSize,
    finalTrainSize: plan.searchTrainSize + plan.valSize,
    numTest,
    final,
    mean,
    std,
    chance: chanceAccuracy(plan.numClasses),
    nearChance: nearChance(mean, plan.numClasses, numTest),
    notices,
  };
}

/**
 * The work a protocol plan costs, in image-epochs of training (forward + backward) and images
 * evaluated (forward only), so a caller can turn a measured throughput into a time estimate
 * before anything starts. Early-stopped runs only make it cheaper.
 */
export function protocolWork(
  plan: Pick<PaperPlan, 'grid' | 'seeds' | 'searchTrainSize' | 'valSize'>,
  epochs: number,
  numTest: number,
): { trainImageEpochs: number; evalImages: number; runs: number } {
  const points = plan.grid.lrs.length * plan.grid.wds.length;
  const finalSize = plan.searchTrainSize + plan.valSize;
  return {
    runs: points + plan.seeds.length,
    trainImageEpochs: points * plan.searchTrainSize * epochs + plan.seeds.length * finalSize * epochs,
    evalImages: points * plan.valSize * epochs + plan.seeds.length * numTest,
  };
}

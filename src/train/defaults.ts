/**
 * Each bundled model's default learning rates, measured rather than guessed: `npm run defaults`
 * (src/cli/defaults.ts) searches the reference grid's learning rates for every method on the
 * default quick run, three seeds each, keeps the learning rates at which no seed's loss rose (or
 * ran far above chance level),
 * picks the best validation accuracy among them, and checks the choice on every offline task. It
 * writes everything it ran into defaults.json: the command, the runs' per-epoch losses and
 * validation accuracies. This module reads that file, and holds the choice rule, so the test
 * (defaults.test.ts) can check both the record and that the rule picks what was recorded.
 *
 * A run without a typed learning rate trains at the recorded default for its model and method;
 * models without a record (hub checkpoints, files) keep the method's reference recipe
 * (train/methods.ts).
 */
import type { MethodId, ModelSpec } from '../domain/run';
import recorded from './defaults.json' with { type: 'json' };
import { getTask } from '../data/catalog';
import { epochRise } from './divergence';

/**
 * The page's one-click run (store/setup.ts DEFAULT_SETUP takes its numbers from here), which is
 * also what the defaults are measured on: quick protocol, train / val / test of these sizes.
 */
export const DEFAULT_QUICK_RUN = {
  taskId: 'synth_count',
  trainSize: 400,
  /** The page's validation size for 400 training images (store/setup.ts valSizeOf: a quarter). */
  valSize: 100,
  testSize: 500,
  epochs: 5,
  batchSize: 32,
  seed: 1,
} as const;

/** One run the defaults command made: its seed, its epochs' mean training loss per phase, its last validation accuracy. */
export interface RecordedRun {
  taskId: string;
  seed: number;
  lr: number;
  /** Mean training loss of each epoch, one array per phase (FT-then-PT has two). */
  trainLoss: number[][];
  /** Validation accuracy (%) after the last epoch trained; NaN (null in JSON) when it stopped on a non-finite loss. */
  valAcc: number | null;
  /** Stopped before its last epoch because its loss rose (no more of it needed to rule the lr out). */
  stoppedEarly: boolean;
  seconds: number;
}

/** One learning rate of the search: its runs (a rising seed ends the point: the others are not run). */
export interface SearchPoint {
  lr: number;
  runs: RecordedRun[];
}

/** What the defaults command chose for one method, and everything it ran to choose. */
export interface MethodDefault {
  /** Base learning rate (effective = lr × batch / 256). */
  lr: number;
  /** The prompts' base learning rate, for methods with prompts (the reference trains prompts and head at one rate). */
  promptLr: number | null;
  weightDecay: number;
  search: SearchPoint[];
  /** The chosen learning rate on the other offline tasks, every seed. */
  check: RecordedRun[];
  /** Learning rates chosen first and then dropped because a check run's loss rose. */
  rejected: { lr: number; because: string }[];
}

export interface ModelDefaults {
  /** The command that wrote this entry; rerun it to measure again. */
  command: string;
  measuredAt: string;
  backend: string;
  /** The run every search point trains (DEFAULT_QUICK_RUN at the time). */
  setup: { taskId: string; trainSize: number; valSize: number; testSize: number; epochs: number; batchSize: number };
  seeds: number[];
  /** Which grid was searched, in words (e.g. the reference learning rates at one weight decay). */
  grid: string;
  rule: string;
  /** How the entry came about, where it is not one plain run of `command` (and which methods wait to be measured). */
  note?: string;
  methods: Partial<Record<MethodId, MethodDefault>>;
}

export interface DefaultsFile {
  about: string;
  models: Record<string, ModelDefaults>;
}

export const DEFAULTS = recorded as unknown as DefaultsFile;

/** The recorded entry of a model spec (bundled models only), or null. */
export function modelDefaults(model: ModelSpec, file: DefaultsFile = DEFAULTS): ModelDefaults | null {
  return model.kind === 'bundled' ? (file.models[model.id] ?? null) : null;
}

/** A method's measured default for a model: base lr, prompt lr, weight decay; null when none was measured. */
export function recordedDefault(
  model: ModelSpec,
  method: MethodId,
  file: DefaultsFile = DEFAULTS,
): { lr: number; promptLr: number | null; weightDecay: number; command: string } | null {
  const entry = modelDefaults(model, file);
  const m = entry?.methods[method];
  return entry && m ? { lr: m.lr, promptLr: m.promptLr, weightDecay: m.weightDecay, command: entry.command } : null;
}

/** The same from the page's model choice ('bundled:<id>', ...). */
export function recordedDefaultOfChoice(choice: string, method: MethodId): ReturnType<typeof recordedDefault> {
  const [kind, ...rest] = choice.split(':');
  return kind === 'bundled' ? recordedDefault({ kind: 'bundled', id: rest.join(':') }, method) : null;
}

/** A recorded run whose loss rose (an epoch mean above 1.1 × its phase's first), or stopped on a non-finite loss. */
export function runRose(run: Pick<RecordedRun, 'trainLoss' | 'valAcc'>): boolean {
  if (run.valAcc === null) return true;
  const epochs = run.trainLoss.flatMap((losses, p) => losses.map((trainLoss, i) => ({ epoch: i + 1, phase: p + 1, trainLoss })));
  return epochRise(epochs) !== null;
}

/**
 * An epoch mean above this many times chance-level cross-entropy (ln K for K classes) rules a
 * learning rate out even while it falls: at the top of the prompt grid the loss starts in the
 * hundreds and falls for a while, and no student should see that as the default.
 */
export const CHANCE_LOSS_FACTOR = 2;

/** A run that rose (runRose), or whose loss ran above CHANCE_LOSS_FACTOR × ln K at any epoch. */
export function runUnstable(run: Pick<RecordedRun, 'trainLoss' | 'valAcc' | 'taskId'>): boolean {
  const limit = CHANCE_LOSS_FACTOR * Math.log(getTask(run.taskId).classes);
  return runRose(run) || run.trainLoss.some((phase) => phase.some((l) => !(l <= limit)));
}

/** A search point every seed of which ran to its end, stable (runUnstable). */
export function pointStable(point: SearchPoint, seeds: number): boolean {
  return point.runs.length >= seeds && point.runs.every((r) => !runUnstable(r));
}

export function meanValAcc(point: SearchPoint): number {
  return point.runs.reduce((a, r) => a + (r.valAcc ?? NaN), 0) / Math.max(1, point.runs.length);
}

/**
 * The choice: among the learning rates whose every seed was stable, the best mean validation
 * accuracy; a tie goes to the smaller learning rate (as the reference's `find_best_lrwd`, "for
 * stability"). `below` restricts it to learning rates under a rejected one. Null when none is stable.
 */
export function chooseDefaultLr(points: readonly SearchPoint[], seeds: number, below = Infinity): number | null {
  const ok = points.filter((p) => p.lr < below && pointStable(p, seeds));
  if (!ok.length) return null;
  return [...ok].sort((a, b) => meanValAcc(b) - meanValAcc(a) || a.lr - b.lr)[0]!.lr;
}

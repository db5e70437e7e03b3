/**
 * When a run's training loss is rising instead of falling: the one rule the page (a mark on the
 * loss chart, the status line, "Rerun at lr ÷ 10"), the CLI (a warning line, `lossRise` in the
 * results JSON) and the recorded defaults (train/defaults.json, whose test asserts no default run
 * trips it) share.
 *
 * Two signs, either one enough:
 * - an epoch's mean training loss above EPOCH_RISE × the first epoch's mean of its phase (a phase
 *   starts with a fresh head, so FT-then-PT's prompt phase is judged against its own start);
 * - one step's loss above STEP_SPIKE × the running median of the steps before it (the median of
 *   every step so far, not of a window: late, small losses of a well-fitted run do not drag it
 *   down far enough for an ordinary hard batch to look like a spike).
 * A loss that is not a number at all stays the named error `run/diverged` (guards.ts): this is the
 * warning for a run that still produces numbers, just the wrong ones.
 */

import type { LossRise } from '../domain/run';

export type { LossRise } from '../domain/run';

/** An epoch mean this many times its phase's first epoch mean counts as rising. */
export const EPOCH_RISE = 1.1;
/** A step loss this many times the running median counts as a spike. */
export const STEP_SPIKE = 3;
/** Steps seen before a spike can be judged: a median of a handful of steps says little. */
export const SPIKE_MIN_STEPS = 10;

interface EpochLoss {
  epoch: number;
  phase: number;
  trainLoss: number;
}

/** The first epoch whose mean loss exceeds EPOCH_RISE × its phase's first epoch mean, or null. */
export function epochRise(epochs: readonly EpochLoss[]): LossRise | null {
  const first = new Map<number, number>();
  for (const e of epochs) {
    if (!Number.isFinite(e.trainLoss)) continue;
    const start = first.get(e.phase);
    if (start === undefined) first.set(e.phase, e.trainLoss);
    else if (e.trainLoss > EPOCH_RISE * start) return { kind: 'epoch', epoch: e.epoch, phase: e.phase, loss: e.trainLoss, reference: start };
  }
  return null;
}

/**
 * Watches step losses as they arrive and reports the first spike. Keeps the losses sorted
 * (insertion into a sorted array: a run has at most a few thousand steps).
 */
export class StepSpikeWatch {
  private sorted: number[] = [];
  private spike: LossRise | null = null;

  /** Feed one step's loss; returns the spike once found (and keeps returning it). */
  push(loss: number, at: { epoch: number; phase: number; step: number }): LossRise | null {
    if (this.spike || !Number.isFinite(loss)) return this.spike;
    const n = this.sorted.length;
    if (n >= SPIKE_MIN_STEPS) {
      const median = n % 2 ? this.sorted[(n - 1) / 2]! : (this.sorted[n / 2 - 1]! + this.sorted[n / 2]!) / 2;
      if (loss > STEP_SPIKE * median) {
        this.spike = { kind: 'step', epoch: at.epoch, phase: at.phase, step: at.step, loss, reference: median };
        return this.spike;
      }
    }
    let lo = 0,
      hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < loss) lo = mid + 1;
      else hi = mid;
    }
    this.sorted.splice(lo, 0, loss);
    return null;
  }

  get found(): LossRise | null {
    return this.spike;
  }
}

/**
 * Follows one run through its trainer events and reports the first rise of either kind. The
 * engine and the CLI feed it the same events, so both say the same.
 */
export class LossRiseWatch {
  private readonly steps = new StepSpikeWatch();
  private readonly epochs: EpochLoss[] = [];
  private rise: LossRise | null = null;

  constructor(private readonly lr?: number) {}

  step(loss: number, at: { epoch: number; phase: number; step: number }): LossRise | null {
    if (!this.rise) {
      const spike = this.steps.push(loss, at);
      if (spike) this.rise = this.withLr(spike);
    }
    return this.rise;
  }

  epoch(e: EpochLoss): LossRise | null {
    this.epochs.push(e);
    if (!this.rise) {
      const r = epochRise(this.epochs);
      if (r) this.rise = this.withLr(r);
    }
    return this.rise;
  }

  get found(): LossRise | null {
    return this.rise;
  }

  private withLr(r: LossRise): LossRise {
    return this.lr === undefined ? r : { ...r, lr: this.lr };
  }
}

/** The rise in one sentence, for a status line, a warning line or a chart label. */
export function lossRiseText(r: LossRise): string {
  const where = `epoch ${r.epoch}${r.phase > 1 ? ` (phase ${r.phase})` : ''}`;
  const what =
    r.kind === 'epoch'
      ? `the mean training loss of ${where} is ${r.loss.toFixed(3)}, above ${EPOCH_RISE} × the first epoch's ${r.reference.toFixed(3)}`
      : `the loss of step ${r.step} in ${where} is ${r.loss.toFixed(3)}, above ${STEP_SPIKE} × the running median ${r.reference.toFixed(3)}`;
  return `The loss is rising, not falling: ${what}${r.lr !== undefined ? ` (base lr ${r.lr})` : ''}. The learning rate is probably too high for this setup.`;
}

/** The learning rate a rerun after a rise should try: a tenth. */
export function rerunLr(lr: number): number {
  return Number((lr / 10).toPrecision(6));
}

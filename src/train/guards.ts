/**
 * Checks a run makes as it goes, so a diverged run stops with a named error instead of reporting
 * accuracies computed from NaN weights.
 */
import { LabError } from '../domain/errors';

export interface StepPlace {
  /** Absent where a run has no epochs (pretraining's endless stream). */
  epoch?: number;
  /** Step within the epoch, from 1. */
  step: number;
  /** ft_then_pt's phase (1 or 2); absent or 1 for the other methods. */
  phase?: number;
}

/** Throws 'run/diverged' when a step's loss is NaN or infinite. */
export function checkFiniteLoss(
  loss: number,
  at: StepPlace,
  hint = 'Lower the learning rate (e.g. to a tenth: --lr, or the setup panel), or check the checkpoint and its config (an invalid LayerNorm eps or non-finite weights are refused when loading).',
): void {
  if (Number.isFinite(loss)) return;
  throw new LabError(
    'run/diverged',
    `Training diverged: the loss is ${Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'infinite' : '-infinite'} at ${at.epoch !== undefined ? `epoch ${at.epoch}${at.phase && at.phase > 1 ? ` (phase ${at.phase})` : ''}, ` : ''}step ${at.step}; the run is stopped, as its weights are no longer numbers.`,
    hint,
  );
}

/**
 * Data-size control for file sources. Without trainSize: the canonical VTAB-1k split
 * (train800 / val200 / test). With trainSize (TRAIN_SIZE_MIN..TRAIN_SIZE_MAX): train and val are
 * drawn without overlap, reproducibly from the seed, out of every non-test item the source
 * lists (train800val200, or train + val, ...); test is always the source's test list.
 */
import { LabError } from '../domain/errors';
import { rngFrom, shuffleInPlace } from './rng';
import type { DataItem, SelectedSplits } from './types';
import { LIST_NAMES, type VtabSplits } from './vtab';

export const TRAIN_SIZE_MIN = 400;
export const TRAIN_SIZE_MAX = 20000;
export const VTAB_TRAIN_SIZE = 800;
export const VTAB_VAL_SIZE = 200;

export interface SelectOptions {
  /** Omit for the canonical train800/val200 split. */
  trainSize?: number;
  /** Default floor(trainSize / 4). */
  valSize?: number;
  seed: number;
}

/** All distinct non-test items, in list order. */
export function trainingPool(splits: VtabSplits): DataItem[] {
  const testIds = new Set(splits.lists.test.map((it) => it.id));
  const seen = new Set<string>();
  const pool: DataItem[] = [];
  for (const name of LIST_NAMES) {
    if (name === 'test') continue;
    for (const it of splits.lists[name] ?? []) {
      if (seen.has(it.id) || testIds.has(it.id)) continue;
      seen.add(it.id);
      pool.push(it);
    }
  }
  return pool;
}

function draw(pool: DataItem[], trainSize: number, valSize: number, seed: number, sourceText: string): { train: DataItem[]; val: DataItem[] } {
  if (trainSize + valSize > pool.length) {
    throw new LabError(
      'data/too-few-items',
      `${sourceText} holds ${pool.length} training/validation images; asked for train ${trainSize} + val ${valSize} = ${trainSize + valSize}.`,
      `Ask for at most ${pool.length} in total (e.g. train ${Math.floor((pool.length * 4) / 5)}, val ${pool.length - Math.floor((pool.length * 4) / 5)}), use a larger source, or a procedural task.`,
    );
  }
  const order = shuffleInPlace([...pool], rngFrom(seed, 'select-splits'));
  return { train: order.slice(0, trainSize), val: order.slice(trainSize, trainSize + valSize) };
}

export function selectSplits(splits: VtabSplits, options: SelectOptions): SelectedSplits {
  const sourceText = `${splits.source.describe()} (${splits.task.name})`;
  const base = { task: splits.task, test: splits.lists.test, images: splits.images, skipped: splits.skipped, warnings: splits.warnings, seed: options.seed };
  if (options.trainSize === undefined) {
    const { train800, val200 } = splits.lists;
    if (train800 && val200) return { ...base, train: train800, val: val200 };
    // No train800/val200 lists (only train800val200 or train/val): draw 800/200 from them.
    return { ...base, ...draw(trainingPool(splits), VTAB_TRAIN_SIZE, VTAB_VAL_SIZE, options.seed, sourceText) };
  }
  const trainSize = options.trainSize;
  if (!Number.isInteger(trainSize) || trainSize < TRAIN_SIZE_MIN || trainSize > TRAIN_SIZE_MAX) {
    throw new LabError(
      'config/invalid',
      `trainSize must be an integer in [${TRAIN_SIZE_MIN}, ${TRAIN_SIZE_MAX}], got ${trainSize}.`,
      'Omit it for the canonical VTAB-1k 800/200 split.',
    );
  }
  const valSize = options.valSize ?? Math.floor(trainSize / 4);
  if (!Number.isInteger(valSize) || valSize < 0) throw new LabError('config/invalid', `valSize must be a non-negative integer, got ${valSize}.`);
  return { ...base, ...draw(trainingPool(splits), trainSize, valSize, options.seed, sourceText) };
}

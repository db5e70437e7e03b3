/**
 * Procedural tasks as data sources: (task, sizes, seed) -> train / val / test items whose images
 * are generated on demand. Same `SelectedSplits` shape as selectSplits() gives for files.
 *
 * - Labels are balanced per split: item i gets label i mod classes, then the order is shuffled,
 *   so per-class counts differ by at most 1. Factors are then drawn conditioned on the label.
 * - Each split has its own seed stream (hashSeed(seed, task, split)); item seeds derive from it.
 * - dSprites has a finite image set (737,280 factor tuples), so val and test additionally never
 *   repeat a tuple used by an earlier split (train -> val -> test), as VTAB's disjoint splits.
 */
import { LabError } from '../domain/errors';
import { PROCEDURAL_TASKS, type ProceduralTask, getTask } from './catalog';
import { type ClevrScene, type ClevrShape, CLEVR_MIN_OBJECTS, clevrDepth, renderClevr, sampleClevrCountScene, sampleClevrDistanceScene } from './clevr';
import { type DspritesFactors, type DspritesObjective, dspritesIndex, renderDsprite, sampleDspritesFactors } from './dsprites';
import { type SynthScene, SynthImageProvider, sampleSynthScene, synthObjectiveOf } from './pretraining';
import { hashSeed, rngFrom, shuffleInPlace } from './rng';
import type { DataItem, ImageProvider, RgbaImage, SelectedSplits } from './types';

export interface ProceduralOptions {
  /** Training images (default 800). */
  trainSize?: number;
  /** Validation images (default trainSize / 4). */
  valSize?: number;
  /** Test images (default 2000). */
  testSize?: number;
  seed: number;
  /**
   * Draw dSprites at the requested resolution instead of its native 64 px followed by bilinear
   * upsampling (default false: native, as VTAB does). CLEVR-like always draws at the requested size.
   */
  renderAtTarget?: boolean;
  /** CLEVR-like rays per pixel side (default 2). */
  clevrSamples?: number;
}

export const PROCEDURAL_DEFAULT_TEST_SIZE = 2000;

function dspritesObjective(task: ProceduralTask): DspritesObjective {
  return task.id === 'dsprites_orientation' ? 'orientation' : 'location';
}

/** The factors of a procedural item: dSprites factor tuple, CLEVR-like scene or synthetic scene. */
export function proceduralFactors(task: ProceduralTask, item: DataItem): { dsprites?: DspritesFactors; clevr?: ClevrScene; synth?: SynthScene } {
  const seed = item.seed ?? 0;
  if (task.generator === 'synth') return { synth: sampleSynthScene(synthObjectiveOf(task), item.label, seed) };
  if (task.generator === 'dsprites') return { dsprites: sampleDspritesFactors(dspritesObjective(task), item.label, rngFrom(seed, 'dsprites')) };
  const scene =
    task.id === 'clevr_like_count'
      ? sampleClevrCountScene(item.label + 3, seed)
      : task.id === 'clevr_like_shape'
        ? sampleClevrShapeScene(item.label, seed)
        : sampleClevrDistanceScene(item.label, seed);
  return { clevr: scene };
}

/** clevr_like_shape's classes, by label. */
export const CLEVR_SHAPE_CLASSES: readonly ClevrShape[] = ['sphere', 'cube', 'cylinder'];

/** clevr_like_shape's label: the shape of the one large object. */
export function clevrShapeLabel(scene: ClevrScene): number {
  const large = scene.objects.filter((o) => o.radius === 0.7);
  if (large.length !== 1) throw new Error(`A clevr_like_shape scene has exactly one large object, this one has ${large.length}.`);
  return CLEVR_SHAPE_CLASSES.indexOf(large[0]!.shape);
}

/**
 * A CLEVR-like scene of 3-10 objects with exactly one large object, of shape CLEVR_SHAPE_CLASSES[label]:
 * a count scene (placed and visibility-checked as CLEVR does) in which the first large object
 * takes the label's shape and every other large object shrinks to small (shrinking keeps the
 * gaps). Scenes without a large object are redrawn.
 */
export function sampleClevrShapeScene(label: number, seed: number): ClevrScene {
  for (let attempt = 0; ; attempt++) {
    const rand = rngFrom(seed, 'clevr-shape', attempt);
    const count = CLEVR_MIN_OBJECTS + Math.floor(rand() * 8);
    const scene = sampleClevrCountScene(count, hashSeed(seed, 'clevr-shape', attempt));
    const first = scene.objects.findIndex((o) => o.radius === 0.7);
    if (first < 0) continue;
    return {
      objects: scene.objects.map((o, i) => {
        const radius = i === first ? 0.7 : 0.35;
        return { ...o, shape: i === first ? CLEVR_SHAPE_CLASSES[label]! : o.shape, radius, depth: clevrDepth(o.x, o.y, radius) };
      }),
    };
  }
}

export class ProceduralImageProvider implements ImageProvider {
  constructor(
    readonly task: ProceduralTask,
    private readonly options: Pick<ProceduralOptions, 'renderAtTarget' | 'clevrSamples'> = {},
  ) {}
  describe(): string {
    return `procedural ${this.task.id}`;
  }
  async load(item: DataItem, preferredSize?: number): Promise<RgbaImage> {
    // Synthetic scenes render at the model resolution (preferredSize), like CLEVR-like ones.
    if (this.task.generator === 'synth') return new SynthImageProvider(this.task).load(item, preferredSize);
    const f = proceduralFactors(this.task, item);
    if (f.dsprites) return renderDsprite(f.dsprites, { size: this.options.renderAtTarget && preferredSize ? preferredSize : 64 });
    return renderClevr(f.clevr!, { size: preferredSize ?? this.task.nativeSize, samples: this.options.clevrSamples });
  }
}

/** Train / val / test of a procedural task, deterministic from the seed. */
export function openProceduralTask(taskOrId: ProceduralTask | string, options: ProceduralOptions): SelectedSplits {
  const found = typeof taskOrId === 'string' ? getTask(taskOrId) : taskOrId;
  if (found.source !== 'procedural') {
    throw new LabError(
      'data/unknown-task',
      `Task "${found.id}" is a VTAB-1k task read from files, not a procedural one.`,
      `Open it with openVtabTask, or pick one of ${PROCEDURAL_TASKS.map((t) => t.id).join(', ')}.`,
    );
  }
  const task = found;
  const trainSize = options.trainSize ?? 800;
  const valSize = options.valSize ?? Math.floor(trainSize / 4);
  const testSize = options.testSize ?? PROCEDURAL_DEFAULT_TEST_SIZE;
  for (const [k, v] of Object.entries({ trainSize, valSize, testSize })) {
    if (!Number.isInteger(v) || v < 0) throw new LabError('config/invalid', `${k} must be a non-negative integer, got ${v}.`);
  }
  const usedTuples = new Set<number>();
  const objective = task.generator === 'dsprites' ? dspritesObjective(task) : null;
  const makeSplit = (split: string, n: number): DataItem[] => {
    const splitSeed = hashSeed(options.seed, task.id, split);
    const labels = shuffleInPlace(
      Array.from({ length: n }, (_, i) => i % task.classes),
      rngFrom(splitSeed, 'labels'),
    );
    const items: DataItem[] = [];
    const mine = new Set<number>();
    for (let i = 0; i < n; i++) {
      const label = labels[i]!;
      let seed = hashSeed(splitSeed, i);
      if (objective) {
        // Resample until the factor tuple is unused by earlier splits (duplicates inside a split are fine).
        for (let attempt = 1; ; attempt++) {
          const key = dspritesIndex(sampleDspritesFactors(objective, label, rngFrom(seed, 'dsprites')));
          if (!usedTuples.has(key)) {
            mine.add(key);
            break;
          }
          seed = hashSeed(splitSeed, i, attempt);
        }
      }
      items.push({ id: `${task.id}/${split}/${i}`, label, seed });
    }
    for (const k of mine) usedTuples.add(k);
    return items;
  };
  return {
    task,
    train: makeSplit('train', trainSize),
    val: makeSplit('val', valSize),
    test: makeSplit('test', testSize),
    images: new ProceduralImageProvider(task, options),
    skipped: [],
    seed: options.seed,
  };
}

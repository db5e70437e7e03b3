/**
 * The pretraining objective of the second bundled model (`scenes_vit`): the lab's procedural
 * scenes, with several labels per image instead of one. The first bundled model learned one
 * 50-way label (shape kind × texture of the big object), and its features carried little of what
 * the downstream tasks ask (where, how many, which way, how near). Here one image answers seven
 * questions at once, one classification head each, so the features must keep all of them:
 *
 *   shape        kind of the main (largest) object            10 classes
 *   texture      its texture                                    5
 *   x, y         which eighth of the image its centre is in     8 + 8
 *   orientation  its rotation modulo its symmetry, 8 bins       8 (circles and rings: no label)
 *   size         its radius, 4 bins (a depth cue)               4
 *   count        how many objects the image holds, 1-8          8
 *
 * The head is one linear layer with 51 outputs; head `h` owns the logits
 * [offset(h), offset(h) + classes(h)). An image whose answer to a head is undefined carries
 * SCENE_IGNORE there and that head's loss skips it.
 *
 * The scenes are those of ./pretraining.ts (same shapes, textures, palettes, backgrounds and
 * renderer) with two changes for transfer: 1-8 objects that never overlap, so the count is always
 * visible; and one image in five drawn in a "plain" style (white solid shapes on black, no grain),
 * the look of dSprites. The downstream tasks are untouched: synth_shapes and synth_count stay on
 * the first model's scene distribution, dSprites and CLEVR-like on their own generators.
 */
import type { ProceduralTask } from './catalog';
import { randInt, randRange, rngFrom, hashSeed } from './rng';
import type { DataItem, ImageProvider, RgbaImage, SelectedSplits } from './types';
import {
  PRETRAIN_TASK,
  pretrainFactors,
  pretrainingSplits,
  type PretrainingSplitOptions,
  renderSynthScene,
  type Rgb,
  sampleBackground,
  sampleObject,
  SHAPE_KINDS,
  type SynthObject,
  type SynthScene,
  TEXTURES,
} from './pretraining';

export interface SceneHead {
  /** Short name, used in logs and the model card. */
  name: string;
  /** What the head asks, in words. */
  question: string;
  classes: readonly string[];
}

const bins = (n: number, what: (i: number) => string) => Array.from({ length: n }, (_, i) => what(i));
export const POSITION_BINS = 8;
export const ORIENTATION_BINS = 8;
export const SIZE_BINS = 4;
export const MAX_OBJECTS = 8;
/** Radius range of the main object (units of the image side); distractors stay below its minimum. */
export const MAIN_RADIUS = [0.12, 0.3] as const;
const DISTRACTOR_RADIUS = [0.05, 0.1] as const;
/** Share of images in the plain (dSprites-like) style. */
const PLAIN_SHARE = 0.2;

export const SCENE_HEADS: readonly SceneHead[] = [
  { name: 'shape', question: 'kind of the largest object', classes: SHAPE_KINDS },
  { name: 'texture', question: 'texture of the largest object', classes: TEXTURES },
  { name: 'x', question: 'horizontal position of its centre (eighths)', classes: bins(POSITION_BINS, (i) => `x${i}`) },
  { name: 'y', question: 'vertical position of its centre (eighths)', classes: bins(POSITION_BINS, (i) => `y${i}`) },
  { name: 'orientation', question: 'its rotation within its symmetry period (eighths)', classes: bins(ORIENTATION_BINS, (i) => `o${i}`) },
  { name: 'size', question: 'its radius (quarters of the range)', classes: bins(SIZE_BINS, (i) => `s${i}`) },
  { name: 'count', question: 'number of objects', classes: bins(MAX_OBJECTS, (i) => String(i + 1)) },
];

/** Classes per head, in head order: what the training step needs. */
export const SCENE_HEAD_SIZES: readonly number[] = SCENE_HEADS.map((h) => h.classes.length);
/** Outputs of the one linear head. */
export const SCENE_LOGITS = SCENE_HEAD_SIZES.reduce((a, b) => a + b, 0);
/** Mean over heads of chance accuracy (%), the floor of the held-out mean. */
export const SCENE_CHANCE = (100 * SCENE_HEAD_SIZES.reduce((a, k) => a + 1 / k, 0)) / SCENE_HEAD_SIZES.length;
/** Label of a head whose answer the image does not define. */
export const SCENE_IGNORE = -1;

/**
 * Rotation period of each shape in radians (its outline maps onto itself under this rotation);
 * 0 = every rotation (circle, ring): no orientation label.
 */
const SYMMETRY_PERIOD: Record<(typeof SHAPE_KINDS)[number], number> = {
  circle: 0,
  square: Math.PI / 2,
  triangle: (2 * Math.PI) / 3,
  star: (2 * Math.PI) / 5,
  heart: 2 * Math.PI,
  cross: Math.PI / 2,
  ring: 0,
  hexagon: Math.PI / 3,
  crescent: 2 * Math.PI,
  arrow: 2 * Math.PI,
};

/** A scene and its label for each of SCENE_HEADS (SCENE_IGNORE where undefined). */
export interface LabelledScene {
  scene: SynthScene;
  labels: number[];
}

const bin = (value: number, lo: number, hi: number, n: number) => Math.max(0, Math.min(n - 1, Math.floor(((value - lo) / (hi - lo)) * n)));
const WHITE: Rgb = [255, 255, 255];
/** Shapes reach 1.05 radii from their centre; objects keep this gap between their reaches. */
const REACH = 1.05;
const GAP = 0.02;

function apart(a: SynthObject, cx: number, cy: number, r: number): boolean {
  return Math.hypot(a.cx - cx, a.cy - cy) >= REACH * (a.radius + r) + GAP;
}

/** The labels of a scene whose main object is `scene.objects[scene.main]`. */
export function sceneLabels(scene: SynthScene): number[] {
  const m = scene.objects[scene.main];
  if (!m) throw new Error('A labelled scene has a main object.');
  const period = SYMMETRY_PERIOD[SHAPE_KINDS[m.shape]!];
  const turn = period ? (((m.rotation % period) + period) % period) / period : 0;
  return [
    m.shape,
    m.texture,
    bin(m.cx, 0, 1, POSITION_BINS),
    bin(m.cy, 0, 1, POSITION_BINS),
    period ? Math.min(ORIENTATION_BINS - 1, Math.floor(turn * ORIENTATION_BINS)) : SCENE_IGNORE,
    bin(m.radius, MAIN_RADIUS[0], MAIN_RADIUS[1], SIZE_BINS),
    scene.objects.length - 1,
  ];
}

/**
 * The scene of pretraining item (label, seed): `label` (0-49, balanced by the item stream) fixes
 * the main object's shape kind and texture; everything else is drawn from the seed.
 *
 * `difficulty` in [0, 1] is the curriculum, as in `samplePretrainScene`: the same draws with the
 * nuisances scaled down (fewer distractors, flatter background, less grain, rotation toward
 * upright). Position and size stay as drawn, so those heads learn from the first step. The labels
 * always describe the image as drawn.
 */
export function sampleLabelledScene(label: number, seed: number, difficulty = 1): LabelledScene {
  const d = Math.max(0, Math.min(1, difficulty));
  const rand = rngFrom(seed, 'scene-objective');
  const { shape } = pretrainFactors(label);
  const plain = rand() < PLAIN_SHARE;
  const texture = plain ? 0 : pretrainFactors(label).texture;
  const background = sampleBackground(rand);
  const r = randRange(rand, MAIN_RADIUS[0], MAIN_RADIUS[1]);
  const main = sampleObject(rand, shape, texture, r, randRange(rand, r, 1 - r), randRange(rand, r, 1 - r));
  main.rotation *= d;
  const wanted = Math.round(randInt(rand, MAX_OBJECTS) * d);
  const objects: SynthObject[] = [];
  for (let tries = 0; objects.length < wanted && tries < 200; tries++) {
    const rr = randRange(rand, DISTRACTOR_RADIUS[0], DISTRACTOR_RADIUS[1]);
    const cx = randRange(rand, rr, 1 - rr);
    const cy = randRange(rand, rr, 1 - rr);
    if (!apart(main, cx, cy, rr) || !objects.every((o) => apart(o, cx, cy, rr))) continue;
    objects.push(sampleObject(rand, randInt(rand, SHAPE_KINDS.length), plain ? 0 : randInt(rand, TEXTURES.length), rr, cx, cy));
  }
  objects.push(main);
  if (plain) {
    for (const o of objects) [o.colorA, o.colorB] = [WHITE, WHITE];
    background.kind = 'flat';
    background.colors = background.colors.map(() => [0, 0, 0] as Rgb);
  } else if (d < 1) {
    const c0 = background.colors[0]!;
    background.colors = background.colors.map((c) => [c0[0] + (c[0] - c0[0]) * d, c0[1] + (c[1] - c0[1]) * d, c0[2] + (c[2] - c0[2]) * d] as Rgb);
  }
  const grain = plain ? 0 : randRange(rand, 0, 14) * d;
  const scene: SynthScene = { background, objects, main: objects.length - 1, grain, grainSeed: hashSeed(seed, 'grain') };
  return { scene, labels: sceneLabels(scene) };
}

/** Per-head accuracy counters for a held-out check: `add` a prediction row, read `accuracy`. */
export class HeadAccuracy {
  private readonly hits = SCENE_HEADS.map(() => 0);
  private readonly seen = SCENE_HEADS.map(() => 0);
  private joint = 0;
  private images = 0;

  /** `logits`: one image's SCENE_LOGITS outputs; `labels`: its SCENE_HEADS labels. */
  add(logits: ArrayLike<number>, labels: readonly number[]): void {
    let offset = 0;
    const right: boolean[] = [];
    SCENE_HEAD_SIZES.forEach((k, h) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (logits[offset + c]! > logits[offset + best]!) best = c;
      offset += k;
      const y = labels[h]!;
      right.push(best === y);
      if (y === SCENE_IGNORE) return;
      this.seen[h]!++;
      if (best === y) this.hits[h]!++;
    });
    this.images++;
    if (right[0] && right[1]) this.joint++;
  }

  /** Accuracy (%) per head, the mean over heads, and shape × texture together (the first model's 50-way label). */
  accuracy(): { perHead: number[]; mean: number; shapeTexture: number } {
    const perHead = this.hits.map((h, i) => (100 * h) / Math.max(1, this.seen[i]!));
    return { perHead, mean: perHead.reduce((a, b) => a + b, 0) / perHead.length, shapeTexture: (100 * this.joint) / Math.max(1, this.images) };
  }
}

/** For tests: the symmetry period the orientation label uses. */
export function symmetryPeriod(shape: number): number {
  return SYMMETRY_PERIOD[SHAPE_KINDS[shape]!];
}

/** The scene objective's images as a task, for the Fréchet view's reference set (not a downstream task). */
export const SCENES_PRETRAIN_TASK: ProceduralTask = {
  ...PRETRAIN_TASK,
  id: 'scenes_pretrain',
  name: 'Synthetic scenes, seven questions each (scenes_vit’s pretraining data)',
  nativeSize: 48,
  objective: `${SCENE_HEADS.length} heads on one image: ${SCENE_HEADS.map((h) => h.name).join(', ')}`,
  why: 'What scenes_vit learned; the Fréchet view measures every task against it.',
};

class SceneImageProvider implements ImageProvider {
  describe(): string {
    return `procedural ${SCENES_PRETRAIN_TASK.id}`;
  }
  async load(item: DataItem, preferredSize?: number): Promise<RgbaImage> {
    return renderSynthScene(sampleLabelledScene(item.label, item.seed ?? 0).scene, { size: preferredSize ?? SCENES_PRETRAIN_TASK.nativeSize });
  }
}

/** What a bundled model was pretrained on: one 50-way label, or the seven scene heads. */
export type PretrainObjective = 'classes' | 'scenes';

/**
 * Held-out images of a pretraining distribution (the same items and seeds as `pretrainingSplits`,
 * drawn by that objective's scene sampler): the Fréchet view's "pretraining data" for a model.
 */
export function pretrainingReference(objective: PretrainObjective, options: PretrainingSplitOptions): SelectedSplits {
  const splits = pretrainingSplits(options);
  return objective === 'scenes' ? { ...splits, task: SCENES_PRETRAIN_TASK, images: new SceneImageProvider() } : splits;
}

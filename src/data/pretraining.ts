/**
 * The lab's own pretraining data: procedural "natural-ish" scenes for a 50-way classification,
 * deterministic from a seed, rendered anti-aliased in pure TypeScript (no canvas: runs in Node
 * and in a worker) at any size. The bundled small ViT (public/models/tiny_pretrained) was
 * pretrained on exactly this distribution by `npm run pretrain`.
 *
 * A scene is plain data (`SynthScene`) so tests can check that labels follow the factors that
 * drew each image:
 * - Main object: one of 10 shape kinds x one of 5 textures = the 50 classes
 *   (label = shapeIndex * 5 + textureIndex). Radius 0.22-0.36 of the image side, random
 *   position (kept mostly inside the frame), rotation, texture scale and angle, and a two-colour
 *   palette whose colours differ in lightness by at least 0.35 (so the texture stays visible).
 * - 0-2 distractors: smaller (radius 0.06-0.12) shapes of OTHER kinds with any texture, drawn
 *   under the main object, so the class is always "the big object".
 * - Background: linear gradient, smooth value noise, soft blobs, a two-tone split, or flat
 *   with grain; low-to-mid saturation. Plus per-pixel grain over everything.
 * All geometry is in units of the image side, so one scene renders the same picture at any
 * resolution; coverage and textures are supersampled (3x3 per pixel at <= 96 px, 2x2 above).
 *
 * Downstream tasks on the same distribution (catalog `synth_shapes`, `synth_count`) reuse the
 * scene sampler and renderer with a changed objective; see `sampleSynthTaskScene`.
 */
import type { ProceduralTask } from './catalog';
import { type Rand, fmix32, hashSeed, randInt, randRange, rngFrom, shuffleInPlace } from './rng';
import type { DataItem, ImageProvider, RgbaImage, SelectedSplits } from './types';

export const SHAPE_KINDS = ['circle', 'square', 'triangle', 'star', 'heart', 'cross', 'ring', 'hexagon', 'crescent', 'arrow'] as const;
export const TEXTURES = ['solid', 'stripes', 'dots', 'checker', 'radial'] as const;

/** The 50 pretraining classes, by label: `${texture} ${shape}` with label = shape * 5 + texture. */
export const PRETRAIN_CLASSES: readonly string[] = SHAPE_KINDS.flatMap((s) => TEXTURES.map((t) => `${t} ${s}`));
export const PRETRAIN_NUM_CLASSES = PRETRAIN_CLASSES.length;
/** Resolution the bundled model was pretrained at (and the default render size). */
export const PRETRAIN_IMAGE_SIZE = 48;
/** Counting task: 1..SYNTH_MAX_COUNT objects. */
export const SYNTH_MAX_COUNT = 8;

export function pretrainLabel(shape: number, texture: number): number {
  return shape * TEXTURES.length + texture;
}
export function pretrainFactors(label: number): { shape: number; texture: number } {
  return { shape: Math.floor(label / TEXTURES.length), texture: label % TEXTURES.length };
}

export type Rgb = [number, number, number];

/** One drawn object; positions and sizes in units of the image side. */
export interface SynthObject {
  shape: number;
  texture: number;
  cx: number;
  cy: number;
  radius: number;
  rotation: number;
  /** Texture period in units of the radius (stripes, dots, checker). */
  textureScale: number;
  textureAngle: number;
  /** Radial gradient focus offset, in units of the radius. */
  focus: [number, number];
  colorA: Rgb;
  colorB: Rgb;
}

export type SynthBackgroundKind = 'gradient' | 'noise' | 'blobs' | 'split' | 'flat';

export interface SynthBackground {
  kind: SynthBackgroundKind;
  colors: Rgb[];
  angle: number;
  /** 'noise': a grid x grid lattice of values in [0, 1], smoothly interpolated. */
  grid: number;
  lattice: number[];
  /** 'blobs': soft discs (x, y, radius, colour index). 'split': the line's offset. */
  blobs: Array<[number, number, number, number]>;
  offset: number;
}

export interface SynthScene {
  background: SynthBackground;
  /** Drawn in order (later on top). */
  objects: SynthObject[];
  /** Index in `objects` of the object the classification label is about (-1: none). */
  main: number;
  /** Per-pixel grain amplitude in 0..255 units. */
  grain: number;
  /** Seed of the grain pattern. */
  grainSeed: number;
}

// ---- colours ------------------------------------------------------------------------------

function hslToRgb(h: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + h * 12) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [f(0) * 255, f(8) * 255, f(4) * 255];
}

/** Two colours of different hue whose lightness differs by at least 0.35. */
function samplePalette(rand: Rand): [Rgb, Rgb] {
  const h1 = rand();
  const h2 = (h1 + randRange(rand, 0.15, 0.85)) % 1;
  const l1 = randRange(rand, 0.2, 0.8);
  const l2 = l1 < 0.5 ? randRange(rand, l1 + 0.35, 0.95) : randRange(rand, 0.05, l1 - 0.35);
  return [hslToRgb(h1, randRange(rand, 0.55, 1), l1), hslToRgb(h2, randRange(rand, 0.4, 1), Math.max(0.05, Math.min(0.95, l2)))];
}

function backgroundColor(rand: Rand): Rgb {
  return hslToRgb(rand(), randRange(rand, 0, 0.55), randRange(rand, 0.1, 0.9));
}

// ---- sampling -----------------------------------------------------------------------------

const BACKGROUND_KINDS: SynthBackgroundKind[] = ['gradient', 'noise', 'blobs', 'split', 'flat'];

export function sampleBackground(rand: Rand): SynthBackground {
  const kind = BACKGROUND_KINDS[randInt(rand, BACKGROUND_KINDS.length)]!;
  const colors = [backgroundColor(rand), backgroundColor(rand), backgroundColor(rand)];
  const grid = 3 + randInt(rand, 4);
  const lattice = Array.from({ length: grid * grid }, () => rand());
  const blobs: Array<[number, number, number, number]> = [];
  const nBlobs = 3 + randInt(rand, 4);
  for (let i = 0; i < nBlobs; i++) blobs.push([rand(), rand(), randRange(rand, 0.1, 0.35), 1 + randInt(rand, 2)]);
  return { kind, colors, angle: randRange(rand, 0, 2 * Math.PI), grid, lattice, blobs, offset: randRange(rand, -0.25, 0.25) };
}

export function sampleObject(rand: Rand, shape: number, texture: number, radius: number, cx: number, cy: number): SynthObject {
  const [colorA, colorB] = samplePalette(rand);
  return {
    shape,
    texture,
    cx,
    cy,
    radius,
    rotation: randRange(rand, 0, 2 * Math.PI),
    textureScale: randRange(rand, 0.35, 0.55),
    textureAngle: randRange(rand, 0, Math.PI),
    focus: [randRange(rand, -0.3, 0.3), randRange(rand, -0.3, 0.3)],
    colorA,
    colorB,
  };
}

export function otherShape(rand: Rand, not: number): number {
  const s = randInt(rand, SHAPE_KINDS.length - 1);
  return s >= not ? s + 1 : s;
}

/**
 * The pretraining scene of class `label`: a big textured object, 0-2 small distractors.
 *
 * `difficulty` in [0, 1] (default 1: the pretraining distribution itself, which every held-out
 * split and downstream task uses) is the pretraining CLI's curriculum: the same random draws,
 * with the nuisance factors scaled down. At 0 the object is upright, centred, at the largest
 * size, on a flat background without grain or distractors; in between, position, size,
 * rotation, background contrast, grain and the number of distractors interpolate linearly (the
 * main object stays inside the frame: the constraint is linear in position and size).
 */
export function samplePretrainScene(label: number, seed: number, difficulty = 1): SynthScene {
  if (!Number.isInteger(label) || label < 0 || label >= PRETRAIN_NUM_CLASSES)
    throw new Error(`Pretraining label must be an integer in [0, ${PRETRAIN_NUM_CLASSES}), got ${label}.`);
  const d = Math.max(0, Math.min(1, difficulty));
  const rand = rngFrom(seed, 'synth-pretrain');
  const { shape, texture } = pretrainFactors(label);
  const background = sampleBackground(rand);
  const objects: SynthObject[] = [];
  const nDistractors = randInt(rand, 3);
  for (let i = 0; i < nDistractors; i++) {
    const r = randRange(rand, 0.06, 0.12);
    objects.push(sampleObject(rand, otherShape(rand, shape), randInt(rand, TEXTURES.length), r, randRange(rand, r, 1 - r), randRange(rand, r, 1 - r)));
  }
  const r = randRange(rand, 0.22, 0.36);
  // Keep at least ~80% of the radius inside the frame on each side.
  const m = 0.8 * r;
  const main = sampleObject(rand, shape, texture, r, randRange(rand, m, 1 - m), randRange(rand, m, 1 - m));
  const grain = randRange(rand, 0, 14);
  if (d < 1) {
    const c0 = background.colors[0]!;
    background.colors = background.colors.map((c) => [c0[0] + (c[0] - c0[0]) * d, c0[1] + (c[1] - c0[1]) * d, c0[2] + (c[2] - c0[2]) * d] as Rgb);
    objects.length = Math.round(objects.length * d);
    main.radius = 0.36 + (main.radius - 0.36) * d;
    main.cx = 0.5 + (main.cx - 0.5) * d;
    main.cy = 0.5 + (main.cy - 0.5) * d;
    main.rotation *= d;
  }
  objects.push(main);
  return { background, objects, main: objects.length - 1, grain: grain * d, grainSeed: hashSeed(seed, 'grain') };
}

/** A scene with exactly `count` non-overlapping objects of random kinds and textures. */
export function sampleCountScene(count: number, seed: number): SynthScene {
  if (!Number.isInteger(count) || count < 1 || count > SYNTH_MAX_COUNT)
    throw new Error(`Object count must be an integer in [1, ${SYNTH_MAX_COUNT}], got ${count}.`);
  for (let attempt = 0; ; attempt++) {
    const rand = rngFrom(seed, 'synth-count', attempt);
    const background = sampleBackground(rand);
    const objects: SynthObject[] = [];
    for (let tries = 0; objects.length < count && tries < 500; tries++) {
      const r = randRange(rand, 0.07, 0.12);
      const cx = randRange(rand, r, 1 - r);
      const cy = randRange(rand, r, 1 - r);
      // Separate by the sum of radii plus a gap, so every object is whole and countable.
      if (objects.every((o) => Math.hypot(o.cx - cx, o.cy - cy) >= o.radius + r + 0.02)) {
        objects.push(sampleObject(rand, randInt(rand, SHAPE_KINDS.length), randInt(rand, TEXTURES.length), r, cx, cy));
      }
    }
    if (objects.length === count) return { background, objects, main: -1, grain: randRange(rand, 0, 14), grainSeed: hashSeed(seed, 'grain') };
  }
}

/** Objectives over the synthetic distribution. */
export type SynthObjective = 'pretrain' | 'shape' | 'count';

/** Scene for (objective, label, seed): the generative side of every synth task. */
export function sampleSynthScene(objective: SynthObjective, label: number, seed: number): SynthScene {
  if (objective === 'pretrain') return samplePretrainScene(label, seed);
  if (objective === 'count') return sampleCountScene(label + 1, seed);
  // Shape kind alone: the pretraining distribution with the texture drawn at random.
  if (!Number.isInteger(label) || label < 0 || label >= SHAPE_KINDS.length)
    throw new Error(`Shape label must be an integer in [0, ${SHAPE_KINDS.length}), got ${label}.`);
  const texture = randInt(rngFrom(seed, 'synth-shape-texture'), TEXTURES.length);
  return samplePretrainScene(pretrainLabel(label, texture), seed);
}

/** The label a scene carries under each objective (what tests check against). */
export function synthLabel(objective: SynthObjective, scene: SynthScene): number {
  if (objective === 'count') return scene.objects.length - 1;
  const main = scene.objects[scene.main];
  if (!main) throw new Error('This scene has no main object.');
  return objective === 'shape' ? main.shape : pretrainLabel(main.shape, main.texture);
}

// ---- geometry -----------------------------------------------------------------------------

type Poly = Array<[number, number]>;

function regular(n: number, r: number, phase: number): Poly {
  return Array.from({ length: n }, (_, i) => [r * Math.cos(phase + (2 * Math.PI * i) / n), r * Math.sin(phase + (2 * Math.PI * i) / n)] as [number, number]);
}

const TRIANGLE = regular(3, 1, -Math.PI / 2);
const HEXAGON = regular(6, 0.95, 0);
const STAR: Poly = Array.from({ length: 10 }, (_, i) => {
  const r = i % 2 === 0 ? 1 : 0.42;
  const a = -Math.PI / 2 + (Math.PI * i) / 5;
  return [r * Math.cos(a), r * Math.sin(a)] as [number, number];
});
// Pointing right: shaft then head.
const ARROW: Poly = [
  [-0.95, -0.22],
  [0.15, -0.22],
  [0.15, -0.6],
  [0.95, 0],
  [0.15, 0.6],
  [0.15, 0.22],
  [-0.95, 0.22],
];

function inPoly(poly: Poly, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Inside test in the object's frame: (u, v) in radii, v down. */
export function insideShape(shape: number, u: number, v: number): boolean {
  switch (SHAPE_KINDS[shape]) {
    case 'circle':
      return u * u + v * v <= 0.9;
    case 'square':
      return Math.abs(u) <= 0.78 && Math.abs(v) <= 0.78;
    case 'triangle':
      return inPoly(TRIANGLE, u, v + 0.2);
    case 'star':
      return inPoly(STAR, u, v);
    case 'heart': {
      const x = u * 1.14;
      const y = -v * 1.14 + 0.12;
      const a = x * x + y * y - 1;
      return a * a * a - x * x * y * y * y <= 0;
    }
    case 'cross':
      return (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95);
    case 'ring': {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.3;
    }
    case 'hexagon':
      return inPoly(HEXAGON, u, v);
    case 'crescent':
      return u * u + v * v <= 1 && (u - 0.45) * (u - 0.45) + (v + 0.1) * (v + 0.1) > 0.68;
    case 'arrow':
      return inPoly(ARROW, u, v);
    default:
      throw new Error(`Unknown shape index ${shape}.`);
  }
}

/** Texture mix in [0, 1] (0 = colour A, 1 = colour B) at (u, v) in radii. */
function textureMix(o: SynthObject, u: number, v: number): number {
  const p = o.textureScale;
  switch (TEXTURES[o.texture]) {
    case 'solid':
      return 0;
    case 'stripes': {
      const s = (u * Math.cos(o.textureAngle) + v * Math.sin(o.textureAngle)) / p;
      return s - Math.floor(s) < 0.5 ? 0 : 1;
    }
    case 'dots': {
      const fu = u / p - Math.floor(u / p) - 0.5;
      const fv = v / p - Math.floor(v / p) - 0.5;
      return fu * fu + fv * fv < 0.09 ? 1 : 0;
    }
    case 'checker':
      return (Math.floor(u / p) + Math.floor(v / p)) & 1;
    case 'radial':
      return Math.min(1, Math.hypot(u - o.focus[0], v - o.focus[1]) / 1.05);
    default:
      throw new Error(`Unknown texture index ${o.texture}.`);
  }
}

// ---- rendering ----------------------------------------------------------------------------

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

/** Background colour at (x, y) in [0, 1]^2, written into `out`. */
function backgroundAt(bg: SynthBackground, x: number, y: number, out: number[]): void {
  const [c0, c1] = bg.colors as [Rgb, Rgb];
  let t = 0;
  let c: Rgb = c1;
  switch (bg.kind) {
    case 'gradient':
      t = Math.max(0, Math.min(1, 0.5 + (x - 0.5) * Math.cos(bg.angle) + (y - 0.5) * Math.sin(bg.angle)));
      break;
    case 'noise': {
      const g = bg.grid;
      const gx = x * (g - 1);
      const gy = y * (g - 1);
      const ix = Math.min(g - 2, Math.floor(gx));
      const iy = Math.min(g - 2, Math.floor(gy));
      const fx = smooth(gx - ix);
      const fy = smooth(gy - iy);
      const L = bg.lattice;
      const a = L[iy * g + ix]! * (1 - fx) + L[iy * g + ix + 1]! * fx;
      const b = L[(iy + 1) * g + ix]! * (1 - fx) + L[(iy + 1) * g + ix + 1]! * fx;
      t = a * (1 - fy) + b * fy;
      break;
    }
    case 'split': {
      const d = (x - 0.5) * Math.cos(bg.angle) + (y - 0.5) * Math.sin(bg.angle) - bg.offset;
      t = Math.max(0, Math.min(1, 0.5 + d * 30)); // a soft edge, a few pixels wide
      break;
    }
    case 'blobs': {
      out[0] = c0[0];
      out[1] = c0[1];
      out[2] = c0[2];
      for (const [bx, by, br, ci] of bg.blobs) {
        const d = Math.hypot(x - bx, y - by) / br;
        if (d >= 1) continue;
        const w = 0.85 * smooth(1 - d);
        const bc = bg.colors[ci]!;
        out[0] += (bc[0] - out[0]) * w;
        out[1] += (bc[1] - out[1]) * w;
        out[2] += (bc[2] - out[2]) * w;
      }
      return;
    }
    case 'flat':
      t = 0;
      c = c0;
      break;
  }
  out[0] = c0[0] + (c[0] - c0[0]) * t;
  out[1] = c0[1] + (c[1] - c0[1]) * t;
  out[2] = c0[2] + (c[2] - c0[2]) * t;
}

/** Bounding radius of every shape, in radii. */
const REACH = 1.05;

export interface SynthRenderOptions {
  /** Output side in pixels (square; default 64). */
  size?: number;
  /** Subsamples per pixel side (default 3 up to 96 px, 2 above). */
  samples?: number;
}

/** Renders a scene to RGBA (alpha 255). */
export function renderSynthScene(scene: SynthScene, options: SynthRenderOptions = {}): RgbaImage {
  const size = options.size ?? PRETRAIN_IMAGE_SIZE;
  if (!Number.isInteger(size) || size < 1) throw new Error(`Render size must be a positive integer, got ${size}.`);
  const s = options.samples ?? (size <= 96 ? 3 : 2);
  const n = size * size;
  const rgb = new Float32Array(n * 3);
  const tmp = [0, 0, 0];
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      backgroundAt(scene.background, (px + 0.5) / size, (py + 0.5) / size, tmp);
      const o = (py * size + px) * 3;
      rgb[o] = tmp[0]!;
      rgb[o + 1] = tmp[1]!;
      rgb[o + 2] = tmp[2]!;
    }
  }
  const inv = 1 / (s * s);
  for (const obj of scene.objects) {
    const cos = Math.cos(obj.rotation);
    const sin = Math.sin(obj.rotation);
    const rPx = obj.radius * size;
    const cx = obj.cx * size;
    const cy = obj.cy * size;
    const x0 = Math.max(0, Math.floor(cx - rPx * REACH));
    const x1 = Math.min(size - 1, Math.ceil(cx + rPx * REACH));
    const y0 = Math.max(0, Math.floor(cy - rPx * REACH));
    const y1 = Math.min(size - 1, Math.ceil(cy + rPx * REACH));
    const [ar, ag, ab] = obj.colorA;
    const [br, bg, bb] = obj.colorB;
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) {
        let cover = 0,
          r = 0,
          g = 0,
          b = 0;
        for (let sy = 0; sy < s; sy++) {
          for (let sx = 0; sx < s; sx++) {
            const dx = (px + (sx + 0.5) / s - cx) / rPx;
            const dy = (py + (sy + 0.5) / s - cy) / rPx;
            // Into the object's frame: rotate by -rotation.
            const u = cos * dx + sin * dy;
            const v = -sin * dx + cos * dy;
            if (!insideShape(obj.shape, u, v)) continue;
            const t = textureMix(obj, u, v);
            cover++;
            r += ar + (br - ar) * t;
            g += ag + (bg - ag) * t;
            b += ab + (bb - ab) * t;
          }
        }
        if (cover === 0) continue;
        const o = (py * size + px) * 3;
        const keep = 1 - cover * inv;
        rgb[o] = rgb[o]! * keep + r * inv;
        rgb[o + 1] = rgb[o + 1]! * keep + g * inv;
        rgb[o + 2] = rgb[o + 2]! * keep + b * inv;
      }
    }
  }
  const data = new Uint8ClampedArray(n * 4);
  const grain = rngFrom(scene.grainSeed, size);
  for (let i = 0; i < n; i++) {
    const e = scene.grain > 0 ? (grain() - 0.5) * 2 * scene.grain : 0;
    data[i * 4] = rgb[i * 3]! + e;
    data[i * 4 + 1] = rgb[i * 3 + 1]! + e;
    data[i * 4 + 2] = rgb[i * 3 + 2]! + e;
    data[i * 4 + 3] = 255;
  }
  return { width: size, height: size, data };
}

/** One pretraining image of class `label` (see PRETRAIN_CLASSES), deterministic from the seed. */
export function renderPretrainImage(label: number, seed: number, size = PRETRAIN_IMAGE_SIZE): RgbaImage {
  return renderSynthScene(samplePretrainScene(label, seed), { size });
}

// ---- splits -------------------------------------------------------------------------------

/**
 * The pretraining data as a task, so its splits flow through the same batch code as every
 * other task. Not in the catalog's task list (it is not a downstream task).
 */
export const PRETRAIN_TASK: ProceduralTask = {
  source: 'procedural',
  id: 'synth_pretrain',
  name: 'Synthetic shapes x textures (the bundled model’s pretraining data)',
  group: 'natural',
  generator: 'synth',
  vtabCounterpart: 'cifar100',
  nativeSize: PRETRAIN_IMAGE_SIZE,
  classes: PRETRAIN_NUM_CLASSES,
  promptLength: 10,
  objective: 'class of the big object: 10 shape kinds x 5 textures = 50 classes',
  axes: { objectiveShift: 'classification', distributionNote: 'the pretraining distribution itself' },
  why: 'What the bundled model learned; the Fréchet view measures every task against it.',
};

/** The synth objective a task renders (by id). */
export function synthObjectiveOf(task: ProceduralTask): SynthObjective {
  if (task.id === 'synth_count') return 'count';
  if (task.id === 'synth_shapes') return 'shape';
  if (task.id === PRETRAIN_TASK.id) return 'pretrain';
  throw new Error(`Task ${task.id} is not drawn by the synthetic-scene generator.`);
}

/** Renders items of any synth task (`item.seed` + `item.label`). */
export class SynthImageProvider implements ImageProvider {
  constructor(readonly task: ProceduralTask) {}
  describe(): string {
    return `procedural ${this.task.id}`;
  }
  async load(item: DataItem, preferredSize?: number): Promise<RgbaImage> {
    return renderSynthScene(sampleSynthScene(synthObjectiveOf(this.task), item.label, item.seed ?? 0), { size: preferredSize ?? this.task.nativeSize });
  }
}

export const PRETRAIN_SPLITS = ['train', 'val', 'test'] as const;
export type PretrainSplit = (typeof PRETRAIN_SPLITS)[number];

/**
 * Seed of item `index` of a split. Seeds of different splits (or indices) never collide:
 * (index * 4 + split) is injective for index < 2^30, and xor with a key and mix32 are bijections.
 */
export function pretrainItemSeed(seed: number, split: PretrainSplit, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** 30) throw new Error(`Item index out of range: ${index}.`);
  const code = PRETRAIN_SPLITS.indexOf(split);
  return fmix32((((index * 4) | code) ^ hashSeed(seed, 'synth-pretrain-split')) >>> 0);
}

/**
 * Items [start, start + count) of a split. Labels: each block of 50 consecutive items is a
 * seeded permutation of the classes, so any prefix is balanced (counts differ by at most 1) and
 * the stream is endless (the pretraining CLI draws fresh images from it at every step).
 */
export function pretrainItems(seed: number, split: PretrainSplit, start: number, count: number): DataItem[] {
  const k = PRETRAIN_NUM_CLASSES;
  const out: DataItem[] = [];
  let perm: number[] = [];
  let permBlock = -1;
  for (let index = start; index < start + count; index++) {
    const block = Math.floor(index / k);
    if (block !== permBlock) {
      perm = shuffleInPlace(
        Array.from({ length: k }, (_, i) => i),
        rngFrom(seed, 'synth-pretrain-labels', split, block),
      );
      permBlock = block;
    }
    out.push({ id: `${PRETRAIN_TASK.id}/${split}/${index}`, label: perm[index % k]!, seed: pretrainItemSeed(seed, split, index) });
  }
  return out;
}

export interface PretrainingSplitOptions {
  /** Training images (default 0: the pretraining CLI streams fresh ones instead). */
  trainSize?: number;
  /** Validation images (default 0). */
  valSize?: number;
  /** Held-out test images (default 1000). */
  testSize?: number;
  /** Same as testSize (the Fréchet view's reference-set size); testSize wins when both are given. */
  count?: number;
  seed: number;
}

/**
 * Train / val / test of the pretraining distribution (labels balanced, seeds of the three
 * splits disjoint). `pretrainingSplits({ count, seed }).test` is the Fréchet view's reference.
 */
export function pretrainingSplits(options: PretrainingSplitOptions): SelectedSplits {
  const trainSize = options.trainSize ?? 0;
  const valSize = options.valSize ?? 0;
  const testSize = options.testSize ?? options.count ?? 1000;
  for (const [k, v] of Object.entries({ trainSize, valSize, testSize })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${k} must be a non-negative integer, got ${v}.`);
  }
  return {
    task: PRETRAIN_TASK,
    train: pretrainItems(options.seed, 'train', 0, trainSize),
    val: pretrainItems(options.seed, 'val', 0, valSize),
    test: pretrainItems(options.seed, 'test', 0, testSize),
    images: new SynthImageProvider(PRETRAIN_TASK),
    skipped: [],
    seed: options.seed,
  };
}

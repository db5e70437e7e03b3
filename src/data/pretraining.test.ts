import { describe, expect, it } from 'vitest';
import { getTask, PROCEDURAL_TASKS, type ProceduralTask } from './catalog';
import { CLEVR_SHAPE_CLASSES, clevrShapeLabel, openProceduralTask, proceduralFactors, sampleClevrShapeScene } from './procedural';
import { renderClevr } from './clevr';
import {
  insideShape,
  PRETRAIN_CLASSES,
  PRETRAIN_IMAGE_SIZE,
  PRETRAIN_NUM_CLASSES,
  pretrainFactors,
  pretrainingSplits,
  pretrainItems,
  pretrainItemSeed,
  pretrainLabel,
  renderPretrainImage,
  renderSynthScene,
  sampleCountScene,
  samplePretrainScene,
  sampleSynthScene,
  SHAPE_KINDS,
  synthLabel,
  SYNTH_MAX_COUNT,
  TEXTURES,
} from './pretraining';
import type { RgbaImage } from './types';

function counts(labels: number[], classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const l of labels) c[l]!++;
  return c;
}

/** Standard deviation of the grey level: a blank image has ~0. */
function greyStd(img: RgbaImage): number {
  let s = 0,
    s2 = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const g = (img.data[4 * i]! + img.data[4 * i + 1]! + img.data[4 * i + 2]!) / 3;
    s += g;
    s2 += g * g;
  }
  return Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
}

/** Fraction of pixels that differ by more than `tol` in some channel. */
function differing(a: RgbaImage, b: RgbaImage, tol = 8): number {
  let d = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (Math.abs(a.data[i]! - b.data[i]!) > tol || Math.abs(a.data[i + 1]! - b.data[i + 1]!) > tol || Math.abs(a.data[i + 2]! - b.data[i + 2]!) > tol) d++;
  }
  return d / (a.width * a.height);
}

describe('pretraining classes', () => {
  it('are 10 shape kinds x 5 textures, label = shape * 5 + texture', () => {
    expect(SHAPE_KINDS).toHaveLength(10);
    expect(TEXTURES).toHaveLength(5);
    expect(PRETRAIN_NUM_CLASSES).toBe(50);
    expect(new Set(PRETRAIN_CLASSES).size).toBe(50);
    expect(PRETRAIN_CLASSES[pretrainLabel(3, 1)]).toBe('stripes star');
    for (let l = 0; l < 50; l++) {
      const { shape, texture } = pretrainFactors(l);
      expect(pretrainLabel(shape, texture)).toBe(l);
      expect(PRETRAIN_CLASSES[l]).toBe(`${TEXTURES[texture]} ${SHAPE_KINDS[shape]}`);
    }
  });

  it('draw shapes with distinct silhouettes of reasonable area', () => {
    const n = 41;
    const masks = SHAPE_KINDS.map((_, s) => {
      const m: boolean[] = [];
      for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) m.push(insideShape(s, (2 * x) / (n - 1) - 1, (2 * y) / (n - 1) - 1));
      return m;
    });
    for (const m of masks) {
      const area = m.filter(Boolean).length / m.length;
      expect(area).toBeGreaterThan(0.15);
      expect(area).toBeLessThan(0.9);
    }
    for (let a = 0; a < masks.length; a++) {
      for (let b = a + 1; b < masks.length; b++) {
        const diff = masks[a]!.filter((v, i) => v !== masks[b]![i]).length / (n * n);
        expect(diff, `${SHAPE_KINDS[a]} vs ${SHAPE_KINDS[b]}`).toBeGreaterThan(0.04);
      }
    }
  });
});

describe('pretraining scenes', () => {
  it('carry the label they were drawn for: the big (last-drawn) object, distractors smaller and of other kinds', () => {
    for (let label = 0; label < 50; label++) {
      for (const seed of [1, 2, 3]) {
        const scene = samplePretrainScene(label, seed * 100 + label);
        expect(synthLabel('pretrain', scene)).toBe(label);
        expect(scene.main).toBe(scene.objects.length - 1);
        expect(scene.objects.length).toBeGreaterThanOrEqual(1);
        expect(scene.objects.length).toBeLessThanOrEqual(3);
        const main = scene.objects[scene.main]!;
        for (const d of scene.objects.slice(0, -1)) {
          expect(d.shape).not.toBe(main.shape);
          expect(d.radius).toBeLessThan(main.radius);
        }
      }
    }
    expect(() => samplePretrainScene(50, 0)).toThrow(/label/);
  });

  it('curriculum: difficulty 0 is the easy scene, 1 is the distribution itself, the label never changes', () => {
    for (let label = 0; label < 50; label += 7) {
      const full = samplePretrainScene(label, 900 + label);
      expect(samplePretrainScene(label, 900 + label, 1)).toEqual(full);
      const easy = samplePretrainScene(label, 900 + label, 0);
      expect(easy.objects).toHaveLength(1);
      expect(easy.objects[0]).toMatchObject({ cx: 0.5, cy: 0.5, radius: 0.36, rotation: 0 });
      expect(easy.grain).toBe(0);
      for (const d of [0, 0.3, 0.7]) {
        const s = samplePretrainScene(label, 900 + label, d);
        expect(synthLabel('pretrain', s)).toBe(label);
        const m = s.objects[s.main]!;
        expect(Math.min(m.cx, 1 - m.cx, m.cy, 1 - m.cy)).toBeGreaterThanOrEqual(0.8 * m.radius - 1e-9);
      }
    }
  });

  it('shape and count objectives label by the factors that drew the scene', () => {
    for (let shape = 0; shape < 10; shape++) {
      const scene = sampleSynthScene('shape', shape, 7 + shape);
      expect(synthLabel('shape', scene)).toBe(shape);
      expect(scene.objects[scene.main]!.shape).toBe(shape);
    }
    for (let count = 1; count <= SYNTH_MAX_COUNT; count++) {
      const scene = sampleCountScene(count, 11 * count);
      expect(scene.objects).toHaveLength(count);
      expect(synthLabel('count', scene)).toBe(count - 1);
      expect(synthLabel('count', sampleSynthScene('count', count - 1, 11 * count))).toBe(count - 1);
      // Whole, separate objects: countable.
      for (let a = 0; a < count; a++) {
        const o = scene.objects[a]!;
        expect(o.cx - o.radius).toBeGreaterThanOrEqual(0);
        expect(o.cx + o.radius).toBeLessThanOrEqual(1);
        for (let b = a + 1; b < count; b++) {
          const p = scene.objects[b]!;
          expect(Math.hypot(o.cx - p.cx, o.cy - p.cy)).toBeGreaterThanOrEqual(o.radius + p.radius);
        }
      }
    }
  });

  it('render deterministically from the seed, differently across seeds, at any size', () => {
    const a = renderPretrainImage(17, 42);
    const b = renderPretrainImage(17, 42);
    const c = renderPretrainImage(17, 43);
    expect(a.width).toBe(PRETRAIN_IMAGE_SIZE);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(false);
    const big = renderPretrainImage(17, 42, 96);
    expect([big.width, big.height, big.data.length]).toEqual([96, 96, 96 * 96 * 4]);
  });

  it('render non-blank images in which the labelled object is visible', () => {
    for (let label = 0; label < 50; label += 3) {
      const scene = samplePretrainScene(label, 500 + label);
      const img = renderSynthScene(scene, { size: 48 });
      expect(greyStd(img)).toBeGreaterThan(3);
      for (let i = 3; i < img.data.length; i += 4) expect(img.data[i]).toBe(255);
      // Removing the main object changes about as many pixels as it covers.
      const without = renderSynthScene({ ...scene, objects: scene.objects.slice(0, -1), main: -1 }, { size: 48 });
      const r = scene.objects[scene.main]!.radius;
      expect(differing(img, without)).toBeGreaterThan(0.15 * Math.PI * r * r);
    }
    const count = renderSynthScene(sampleCountScene(5, 3), { size: 48 });
    expect(greyStd(count)).toBeGreaterThan(3);
  });
});

describe('pretrainingSplits', () => {
  it('balances labels in every split and every prefix of the stream', () => {
    const s = pretrainingSplits({ trainSize: 1037, valSize: 260, testSize: 333, seed: 4 });
    for (const split of [s.train, s.val, s.test]) {
      const c = counts(
        split.map((x) => x.label),
        50,
      );
      expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
    }
    const prefix = pretrainItems(4, 'train', 0, 120);
    const c = counts(
      prefix.map((x) => x.label),
      50,
    );
    expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
    // A window from the middle of the stream is the same items as the prefix' tail.
    expect(pretrainItems(4, 'train', 100, 20)).toEqual(prefix.slice(100));
    expect(s.train.slice(0, 120)).toEqual(prefix.slice(0, 120));
  });

  it('gives the held-out splits seeds disjoint from training; count = test images', () => {
    const s = pretrainingSplits({ trainSize: 20000, valSize: 3000, testSize: 3000, seed: 0 });
    const train = new Set(s.train.map((x) => x.seed));
    expect(train.size).toBe(20000);
    expect(s.val.concat(s.test).some((x) => train.has(x.seed))).toBe(false);
    const val = new Set(s.val.map((x) => x.seed));
    expect(s.test.some((x) => val.has(x.seed))).toBe(false);
    expect(pretrainItemSeed(0, 'test', 5)).toBe(s.test[5]!.seed);
    const ref = pretrainingSplits({ count: 64, seed: 9 });
    expect(ref.train).toHaveLength(0);
    expect(ref.test).toHaveLength(64);
    expect(ref.task.classes).toBe(50);
    expect(pretrainingSplits({ count: 64, seed: 9 }).test).toEqual(ref.test);
    expect(pretrainingSplits({ count: 64, seed: 10 }).test.map((x) => x.seed)).not.toEqual(ref.test.map((x) => x.seed));
  });

  it('loads images that match their labels, at the requested size', async () => {
    const s = pretrainingSplits({ count: 10, seed: 2 });
    const item = s.test[3]!;
    const img = await s.images.load(item, 64);
    expect(img.width).toBe(64);
    expect(Buffer.from(img.data).equals(Buffer.from(renderPretrainImage(item.label, item.seed!, 64).data))).toBe(true);
    expect(synthLabel('pretrain', samplePretrainScene(item.label, item.seed!))).toBe(item.label);
  });
});

describe('synthetic downstream tasks', () => {
  const synthTasks = PROCEDURAL_TASKS.filter((t) => t.generator === 'synth');
  it('are in the catalog with both axes described', () => {
    expect(synthTasks.map((t) => t.id)).toEqual(['synth_shapes', 'synth_count']);
    expect(getTask('synth_shapes')).toMatchObject({ classes: 10, axes: { objectiveShift: 'classification' } });
    expect(getTask('synth_count')).toMatchObject({ classes: 8, axes: { objectiveShift: 'count' } });
    for (const t of PROCEDURAL_TASKS) {
      expect(t.axes.distributionNote.length).toBeGreaterThan(10);
      expect(t.why.length).toBeGreaterThan(10);
    }
  });

  it('open through openProceduralTask: balanced, deterministic, labels match the factors, rendered at the model resolution', async () => {
    for (const t of synthTasks) {
      const s = openProceduralTask(t, { trainSize: 83, valSize: 21, testSize: 40, seed: 6 });
      const again = openProceduralTask(t, { trainSize: 83, valSize: 21, testSize: 40, seed: 6 });
      expect(again.train).toEqual(s.train);
      for (const split of [s.train, s.val, s.test]) {
        const c = counts(
          split.map((x) => x.label),
          t.classes,
        );
        expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
      }
      const objective = t.id === 'synth_count' ? 'count' : 'shape';
      for (const item of s.train.slice(0, 16)) {
        const f = proceduralFactors(t as ProceduralTask, item);
        expect(synthLabel(objective, f.synth!)).toBe(item.label);
      }
      const img = await s.images.load(s.train[0]!, 56);
      expect(img.width).toBe(56);
      expect(greyStd(img)).toBeGreaterThan(3);
      const same = await again.images.load(again.train[0]!, 56);
      expect(Buffer.from(same.data).equals(Buffer.from(img.data))).toBe(true);
    }
  });

  it("clevr_like_shape: exactly one large object, of the label's shape", () => {
    expect(getTask('clevr_like_shape')).toMatchObject({ classes: 3, generator: 'clevr', axes: { objectiveShift: 'classification' } });
    for (let label = 0; label < 3; label++) {
      for (const seed of [1, 2]) {
        const scene = sampleClevrShapeScene(label, seed * 10 + label);
        const large = scene.objects.filter((o) => o.radius === 0.7);
        expect(large).toHaveLength(1);
        expect(large[0]!.shape).toBe(CLEVR_SHAPE_CLASSES[label]);
        expect(clevrShapeLabel(scene)).toBe(label);
        expect(scene.objects.length).toBeGreaterThanOrEqual(3);
      }
    }
    expect(greyStd(renderClevr(sampleClevrShapeScene(1, 5), { size: 32, samples: 1 }))).toBeGreaterThan(3);
  });
});

import { describe, expect, it } from 'vitest';
import { getTask, listTaskIds, PROCEDURAL_TASKS, VTAB_TASKS } from './catalog';
import { CLEVR_DISTANCE_THRESHOLDS, clevrCountLabel, clevrDistanceLabel, renderClevr, sampleClevrCountScene, sampleClevrDistanceScene } from './clevr';
import { dspritesLabel, dspritesSample, renderDsprite, type DspritesFactors } from './dsprites';
import { clevrShapeLabel, openProceduralTask, proceduralFactors } from './procedural';
import type { RgbaImage, SelectedSplits } from './types';
import { type LabError } from '../domain/errors';

function counts(labels: number[], classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const l of labels) c[l]!++;
  return c;
}
function brightFraction(img: RgbaImage): number {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i]! > 127) n++;
  return n / (img.width * img.height);
}

describe('catalog', () => {
  it('has the 19 VTAB-1k tasks and the procedural ones; unknown ids list the valid ones', () => {
    expect(VTAB_TASKS).toHaveLength(19);
    expect(new Set(listTaskIds()).size).toBe(listTaskIds().length);
    expect(getTask('dtd')).toMatchObject({ source: 'vtab', folder: 'dtd', classes: 47, group: 'natural' });
    expect(PROCEDURAL_TASKS.map((t) => t.id)).toEqual([
      'dsprites_location',
      'dsprites_orientation',
      'clevr_like_count',
      'clevr_like_distance',
      'clevr_like_shape',
      'synth_shapes',
      'synth_count',
    ]);
    expect(getTask('clevr_like_count').name).toContain('synthetic, CLEVR-like');
    try {
      getTask('imagenet');
      expect.unreachable();
    } catch (e) {
      expect((e as LabError).code).toBe('data/unknown-task');
      expect((e as LabError).message).toContain('dsprites_ori');
      expect((e as LabError).message).toContain('clevr_like_distance');
    }
  });
});

describe('dSprites', () => {
  const f: DspritesFactors = { shape: 2, scaleIndex: 5, orientationIndex: 0, xIndex: 31, yIndex: 0 };
  it('labels follow VTAB: location floor(x/2), orientation floor(idx*16/40)', () => {
    expect(dspritesLabel('location', f)).toBe(15);
    expect(dspritesLabel('location', { ...f, xIndex: 0 })).toBe(0);
    expect(dspritesLabel('location', { ...f, xIndex: 17 })).toBe(8);
    expect(dspritesLabel('orientation', { ...f, orientationIndex: 39 })).toBe(15);
    expect(dspritesLabel('orientation', { ...f, orientationIndex: 5 })).toBe(2);
    for (let label = 0; label < 16; label++) {
      for (const objective of ['location', 'orientation'] as const) {
        const s = dspritesSample(objective, label, 1000 + label);
        expect(s.label).toBe(label);
      }
    }
  });
  it('draws a binary white shape on black, moving right with xIndex', () => {
    const left = renderDsprite({ ...f, xIndex: 0, shape: 0 });
    const right = renderDsprite({ ...f, xIndex: 31, shape: 0 });
    expect(left.width).toBe(64);
    const values = new Set<number>();
    let sumXLeft = 0,
      sumXRight = 0,
      nL = 0,
      nR = 0;
    for (let i = 0; i < 64 * 64; i++) {
      values.add(left.data[i * 4]!);
      expect(left.data[i * 4]).toBe(left.data[i * 4 + 2]);
      if (left.data[i * 4]! > 0) {
        sumXLeft += i % 64;
        nL++;
      }
      if (right.data[i * 4]! > 0) {
        sumXRight += i % 64;
        nR++;
      }
    }
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    expect(sumXRight / nR - sumXLeft / nL).toBeGreaterThan(40);
    expect(brightFraction(left)).toBeGreaterThan(0.05); // a 20x20 square
  });
});

describe('CLEVR-like', () => {
  it('count scenes hold count objects; distance scenes land in the asked bin', () => {
    for (let label = 0; label < 8; label++) expect(clevrCountLabel(sampleClevrCountScene(label + 3, label))).toBe(label);
    for (let label = 0; label < 6; label++) {
      for (let k = 0; k < 3; k++) {
        const s = sampleClevrDistanceScene(label, 10 * label + k);
        expect(clevrDistanceLabel(s)).toBe(label);
        const d = Math.min(...s.objects.map((o) => o.depth));
        expect(d).toBeGreaterThanOrEqual(CLEVR_DISTANCE_THRESHOLDS[label]!);
        expect(d).toBeLessThan(CLEVR_DISTANCE_THRESHOLDS[label + 1]!);
      }
    }
  });
  it('renders a non-blank, coloured image at any size', () => {
    const img = renderClevr(sampleClevrCountScene(5, 7), { size: 48, samples: 1 });
    expect(img.width).toBe(48);
    let min = 255,
      max = 0,
      colourful = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
      min = Math.min(min, r, g, b);
      max = Math.max(max, r, g, b);
      if (Math.max(r, g, b) - Math.min(r, g, b) > 40) colourful++;
    }
    expect(max - min).toBeGreaterThan(80);
    expect(colourful).toBeGreaterThan(20);
  });
});

describe('openProceduralTask', () => {
  const sizes = { trainSize: 50, valSize: 20, testSize: 30 };
  async function bytesOf(s: SelectedSplits, which: 'train' | 'val' | 'test', i: number) {
    return (await s.images.load(s[which][i]!, 32)).data;
  }
  it('is deterministic from the seed and differs across seeds', async () => {
    for (const id of ['dsprites_location', 'clevr_like_count']) {
      const a = openProceduralTask(id, { ...sizes, seed: 1 });
      const b = openProceduralTask(id, { ...sizes, seed: 1 });
      const c = openProceduralTask(id, { ...sizes, seed: 2 });
      expect(a.train.map((x) => x.label)).toEqual(b.train.map((x) => x.label));
      expect(await bytesOf(a, 'train', 3)).toEqual(await bytesOf(b, 'train', 3));
      const differs = await Promise.all(
        [0, 1, 2, 3].map(async (i) => Buffer.compare(Buffer.from(await bytesOf(a, 'train', i)), Buffer.from(await bytesOf(c, 'train', i))) !== 0),
      );
      expect(differs.some(Boolean)).toBe(true);
    }
  });
  it('balances labels per split (counts differ by at most 1) and labels match factors', () => {
    for (const t of PROCEDURAL_TASKS) {
      const s = openProceduralTask(t, { trainSize: 403, valSize: 101, testSize: 60, seed: 5 });
      for (const split of [s.train, s.val, s.test]) {
        const c = counts(
          split.map((x) => x.label),
          t.classes,
        );
        expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
      }
      for (const item of s.test.slice(0, 12)) {
        const f = proceduralFactors(t, item);
        if (f.dsprites) expect(dspritesLabel(t.id === 'dsprites_location' ? 'location' : 'orientation', f.dsprites)).toBe(item.label);
        else if (f.synth)
          expect(f.synth.objects.length).toBeGreaterThan(0); // labels checked in pretraining.test.ts
        else
          expect(
            t.id === 'clevr_like_count' ? clevrCountLabel(f.clevr!) : t.id === 'clevr_like_shape' ? clevrShapeLabel(f.clevr!) : clevrDistanceLabel(f.clevr!),
          ).toBe(item.label);
      }
    }
  });
  it('gives splits disjoint seeds, and dSprites splits disjoint images', () => {
    const s = openProceduralTask('dsprites_orientation', { trainSize: 3000, valSize: 750, testSize: 1000, seed: 9 });
    const seeds = (xs: { seed?: number }[]) => new Set(xs.map((x) => x.seed));
    const train = seeds(s.train);
    expect([...seeds(s.test)].some((x) => train.has(x))).toBe(false);
    const key = (it: (typeof s.train)[number]) => JSON.stringify(proceduralFactors(s.task as never, it).dsprites);
    const trainKeys = new Set(s.train.map(key));
    expect(s.val.concat(s.test).some((it) => trainKeys.has(key(it)))).toBe(false);
  });
  it('renders values in range and non-blank', async () => {
    const s = openProceduralTask('dsprites_location', { ...sizes, seed: 3 });
    const img = await s.images.load(s.train[0]!, 224);
    expect(img.width).toBe(64); // native, resized later like VTAB
    expect(brightFraction(img)).toBeGreaterThan(0.005);
    const big = openProceduralTask('dsprites_location', { ...sizes, seed: 3, renderAtTarget: true });
    expect((await big.images.load(big.train[0]!, 128)).width).toBe(128);
  });
});

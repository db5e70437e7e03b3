import { describe, expect, it } from 'vitest';
import { type LabError } from '../domain/errors';
import { getVtabTask } from './catalog';
import { NORM_HALF, NORM_IMAGENET, preprocessImage } from './preprocess';
import { hashSeed, mulberry32, permutation } from './rng';
import { FileListSource } from './source';
import { selectSplits, trainingPool } from './splits';
import type { DataItem, ImageProvider } from './types';
import type { VtabSplits } from './vtab';

const images: ImageProvider = { describe: () => 'none', load: async () => ({ width: 1, height: 1, data: new Uint8Array(4) }) };
function fakeSplits(trainval: number, test: number, withCanonical = true): VtabSplits {
  const item = (p: string, i: number): DataItem => ({ id: `${p}/${i}`, label: i % 10 });
  const tv = Array.from({ length: trainval }, (_, i) => item('tv', i));
  return {
    task: getVtabTask('eurosat'),
    source: new FileListSource([], 'fake'),
    root: '',
    lists: {
      ...(withCanonical ? { train800: tv.slice(0, 800), val200: tv.slice(800, 1000) } : {}),
      train800val200: tv.slice(0, 1000),
      train: tv,
      test: Array.from({ length: test }, (_, i) => item('test', i)),
    },
    images,
    skipped: [],
    warnings: [],
  };
}

describe('rng', () => {
  it('is deterministic and mixes parts', () => {
    expect(mulberry32(1)()).toBe(mulberry32(1)());
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
    expect(hashSeed(1, 'train')).not.toBe(hashSeed(1, 'val'));
    expect(hashSeed('ab', 'c')).not.toBe(hashSeed('a', 'bc'));
    expect([...permutation(10, mulberry32(3))].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('selectSplits', () => {
  it('defaults to train800 / val200 / test', () => {
    const s = selectSplits(fakeSplits(5000, 300), { seed: 0 });
    expect([s.train.length, s.val.length, s.test.length]).toEqual([800, 200, 300]);
    expect(s.train[0]!.id).toBe('tv/0');
    const drawn = selectSplits(fakeSplits(5000, 300, false), { seed: 0 });
    expect([drawn.train.length, drawn.val.length]).toEqual([800, 200]);
  });
  it('draws any trainSize reproducibly, disjoint, with val = trainSize / 4 by default', () => {
    const src = fakeSplits(5000, 300);
    expect(trainingPool(src)).toHaveLength(5000);
    const a = selectSplits(src, { trainSize: 2000, seed: 7 });
    const b = selectSplits(src, { trainSize: 2000, seed: 7 });
    const c = selectSplits(src, { trainSize: 2000, seed: 8 });
    expect(a.val).toHaveLength(500);
    expect(a.train.map((x) => x.id)).toEqual(b.train.map((x) => x.id));
    expect(a.train.map((x) => x.id)).not.toEqual(c.train.map((x) => x.id));
    const trainIds = new Set(a.train.map((x) => x.id));
    expect(a.val.some((x) => trainIds.has(x.id))).toBe(false);
    expect(selectSplits(src, { trainSize: 400, valSize: 50, seed: 1 }).val).toHaveLength(50);
  });
  it('says how many items a source holds when asked for more', () => {
    try {
      selectSplits(fakeSplits(1000, 10), { trainSize: 1000, seed: 0 });
      expect.unreachable();
    } catch (e) {
      expect((e as LabError).code).toBe('data/too-few-items');
      expect((e as LabError).message).toContain('holds 1000');
      expect((e as LabError).message).toContain('1250');
    }
    expect(() => selectSplits(fakeSplits(1000, 10), { trainSize: 100, seed: 0 })).toThrow(/400/);
  });
});

describe('preprocess', () => {
  const gray2x2 = (vals: number[]) => ({ width: 2, height: 2, data: new Uint8Array(vals.flatMap((v) => [v, v, v, 255])) });
  it('bilinear with half-pixel centres matches torch interpolate(align_corners=False)', () => {
    // torch: F.interpolate([[0,1],[2,3]], size=4, mode='bilinear', align_corners=False)
    const expected = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3];
    const out = preprocessImage(gray2x2([0, 51, 102, 153]), 4, { mean: [0, 0, 0], std: [1, 1, 1] });
    expect(out).toHaveLength(3 * 16);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 16; i++) expect(out[c * 16 + i]).toBeCloseTo((expected[i]! * 51) / 255, 5);
  });
  it('normalises per channel into NCHW', () => {
    const img = { width: 1, height: 1, data: new Uint8Array([255, 0, 128, 255]) };
    expect([...preprocessImage(img, 1, NORM_HALF)].map((v) => +v.toFixed(4))).toEqual([1, -1, +((128 / 255 - 0.5) / 0.5).toFixed(4)]);
    const im = preprocessImage(img, 2, NORM_IMAGENET);
    expect(im[0]).toBeCloseTo((1 - 0.485) / 0.229, 5); // R plane first
    expect(im[4]).toBeCloseTo((0 - 0.456) / 0.224, 5); // then G
  });
});

import { describe, expect, it } from 'vitest';
import { LabError } from '../domain/errors';
import { BatchStream, DEFAULT_CACHE_BYTES, ImageCache } from './batches';
import { nodeDecoder } from './decode.node.js';
import { makeTempDir, writeVtabFixture } from './fixtures.node.js';
import { openProceduralTask } from './procedural';
import { NodeDirSource } from './source.node.js';
import { openVtabTask } from './vtab';

describe('ImageCache', () => {
  it('evicts least recently used entries beyond its byte bound', () => {
    expect(DEFAULT_CACHE_BYTES).toBe(512 * 1024 * 1024);
    const c = new ImageCache(3 * 400);
    for (const k of ['a', 'b', 'c']) c.set(k, new Float32Array(100));
    c.get('a');
    c.set('d', new Float32Array(100));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.byteSize).toBeLessThanOrEqual(1200);
    expect(c.size).toBe(3);
  });
});

describe('BatchStream', () => {
  it('yields seeded shuffled batches of [B,3,S,S] pixels from a procedural task, bounded cache', async () => {
    const s = openProceduralTask('dsprites_location', { trainSize: 37, valSize: 0, testSize: 0, seed: 4 });
    const cache = new ImageCache(10 * 3 * 32 * 32 * 4);
    const stream = new BatchStream(s.train, s.images, { batchSize: 8, imageSize: 32, seed: 1, cache });
    const batches = [];
    for await (const b of stream.epoch(0)) batches.push(b);
    expect(batches.map((b) => b.batchSize)).toEqual([8, 8, 8, 8, 5]);
    expect(batches[0]!.pixels).toHaveLength(8 * 3 * 32 * 32);
    expect(batches[0]!.labels).toBeInstanceOf(Int32Array);
    expect(cache.size).toBe(10);
    const all = batches.flatMap((b) => b.ids);
    expect(new Set(all).size).toBe(37);
    for (const b of batches) for (const v of b.pixels) expect(v >= -1 && v <= 1).toBe(true);
    const again = [];
    for await (const b of new BatchStream(s.train, s.images, { batchSize: 8, imageSize: 32, seed: 1 }).epoch(0)) again.push(...b.ids);
    expect(again).toEqual(all);
    expect(stream.order(1).map((x) => x.id)).not.toEqual(stream.order(0).map((x) => x.id));
    expect(stream.order(0).map((x) => x.label)).toEqual(batches.flatMap((b) => [...b.labels]));
  });

  it('throws on a bad image, or skips it and fills the batch with skipBad', async () => {
    const root = makeTempDir();
    writeVtabFixture(root, { breakage: 'truncated-image' });
    const splits = await openVtabTask(new NodeDirSource(root), 'eurosat', { decoder: nodeDecoder });
    const items = splits.lists.train800!;
    const strict = new BatchStream(items, splits.images, { batchSize: 4, imageSize: 16, shuffle: false });
    await expect(async () => {
      for await (const b of strict.epoch()) void b;
    }).rejects.toThrow(LabError);
    const lenient = new BatchStream(items, splits.images, { batchSize: 4, imageSize: 16, shuffle: false, skipBad: true });
    const sizes = [];
    for await (const b of lenient.epoch()) sizes.push(b.batchSize);
    expect(sizes).toEqual([4, 4, 1]);
    expect(lenient.skipped).toEqual([expect.objectContaining({ file: 'eurosat/train800.txt', line: 5, code: 'data/bad-image' })]);
  });
});

/**
 * Batches of preprocessed images, shuffled from a seed, decoded lazily. Decoded + preprocessed
 * images ([3, S, S] float32 = 602 KB each at 224 px) live in an LRU cache bounded in bytes, so
 * a 20,000-image split (12 GB preprocessed) never sits in memory at once; what does not fit is
 * decoded again from its encoded bytes (or re-rendered, for procedural tasks) when next needed.
 */
import { LabError } from '../domain/errors';
import { type Normalization, NORM_HALF, preprocessImage } from './preprocess';
import { rngFrom, shuffleInPlace } from './rng';
import type { DataItem, ImageProvider, SkipRecord } from './types';

/** Default bound on cached preprocessed pixels: 512 MiB (~870 images at 224 px). */
export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

/** A batch as plain data; the worker turns it into tensors. */
export interface Batch {
  /** [B, 3, S, S], normalised. */
  pixels: Float32Array;
  /** [B] */
  labels: Int32Array;
  batchSize: number;
  imageSize: number;
  /** Item ids, in batch order (for galleries and debugging). */
  ids: string[];
}

/** LRU map from key to Float32Array, bounded by the sum of byteLength. */
export class ImageCache {
  private readonly map = new Map<string, Float32Array>();
  private bytes = 0;
  hits = 0;
  misses = 0;
  constructor(readonly maxBytes: number = DEFAULT_CACHE_BYTES) {}
  get(key: string): Float32Array | undefined {
    const v = this.map.get(key);
    if (v) {
      this.map.delete(key);
      this.map.set(key, v); // most recently used goes last
      this.hits++;
    } else this.misses++;
    return v;
  }
  set(key: string, value: Float32Array): void {
    const old = this.map.get(key);
    if (old) {
      this.bytes -= old.byteLength;
      this.map.delete(key);
    }
    if (value.byteLength > this.maxBytes) return;
    this.map.set(key, value);
    this.bytes += value.byteLength;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.byteLength;
    }
  }
  get byteSize(): number {
    return this.bytes;
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

export interface BatchStreamOptions {
  batchSize: number;
  /** Model resolution (ViTConfig.imageSize). */
  imageSize: number;
  /** Default (x - 0.5) / 0.5; NORM_IMAGENET for the reference VPT code's statistics. */
  normalization?: Normalization;
  /** Shuffle seed; each epoch reshuffles with (seed, epoch). */
  seed?: number;
  /** Default true; false keeps list order (evaluation). */
  shuffle?: boolean;
  /** Drop a last partial batch (default false). */
  dropLast?: boolean;
  /** Share a cache across streams (train and val), or give a bound; default a new DEFAULT_CACHE_BYTES cache. */
  cache?: ImageCache;
  /** Leave out images that fail to load, recording them in `skipped` (default false: throw). */
  skipBad?: boolean;
  /** Images loaded in parallel (default 8). */
  concurrency?: number;
}

export class BatchStream {
  readonly cache: ImageCache;
  readonly skipped: SkipRecord[] = [];
  private readonly bad = new Set<string>();
  private readonly normKey: string;
  constructor(
    readonly items: readonly DataItem[],
    readonly images: ImageProvider,
    readonly options: BatchStreamOptions,
  ) {
    if (!(options.batchSize >= 1)) throw new LabError('config/invalid', `batchSize must be at least 1, got ${options.batchSize}.`);
    this.cache = options.cache ?? new ImageCache();
    const n = options.normalization ?? NORM_HALF;
    this.normKey = `${n.mean.join(',')}/${n.std.join(',')}`;
  }

  /** Batches per epoch (before any skipped images). */
  get batchesPerEpoch(): number {
    const n = this.items.length;
    return this.options.dropLast ? Math.floor(n / this.options.batchSize) : Math.ceil(n / this.options.batchSize);
  }

  /** One image, preprocessed ([3, S, S]); from the cache when there. */
  async pixels(item: DataItem): Promise<Float32Array> {
    const size = this.options.imageSize;
    const key = `${this.images.describe()}|${item.id}|${item.seed ?? ''}|${size}|${this.normKey}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const img = await this.images.load(item, size);
    const out = preprocessImage(img, size, this.options.normalization ?? NORM_HALF);
    this.cache.set(key, out);
    return out;
  }

  /** Item order of one epoch. */
  order(epoch: number): DataItem[] {
    const items = this.items.filter((it) => !this.bad.has(it.id));
    if (this.options.shuffle === false) return items;
    return shuffleInPlace(items, rngFrom(this.options.seed ?? 0, 'batches', epoch));
  }

  /** The batches of one epoch, in order. */
  async *epoch(epoch = 0): AsyncGenerator<Batch> {
    const { batchSize, imageSize } = this.options;
    const plane = 3 * imageSize * imageSize;
    const queue = this.order(epoch);
    let pos = 0;
    while (pos < queue.length) {
      const chosen: DataItem[] = [];
      const got: Float32Array[] = [];
      // Fill the batch; in skipBad mode a failed image is replaced by the next item.
      while (chosen.length < batchSize && pos < queue.length) {
        const want = queue.slice(pos, pos + batchSize - chosen.length);
        pos += want.length;
        const results = await this.loadAll(want);
        results.forEach((r, i) => {
          if (r) {
            chosen.push(want[i]!);
            got.push(r);
          }
        });
      }
      if (chosen.length === 0) break;
      if (chosen.length < batchSize && this.options.dropLast) break;
      const B = chosen.length;
      const pixels = new Float32Array(B * plane); // [B, 3, S, S]
      got.forEach((p, i) => pixels.set(p, i * plane));
      yield { pixels, labels: Int32Array.from(chosen, (it) => it.label), batchSize: B, imageSize, ids: chosen.map((it) => it.id) };
    }
  }

  private async loadAll(items: DataItem[]): Promise<Array<Float32Array | null>> {
    const out: Array<Float32Array | null> = new Array(items.length).fill(null);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < items.length; i = next++) {
        const it = items[i]!;
        try {
          out[i] = await this.pixels(it);
        } catch (e) {
          if (!this.options.skipBad || !(e instanceof LabError)) throw e;
          this.bad.add(it.id);
          this.skipped.push({ file: it.file ?? it.id, line: it.line, code: e.code, reason: e.message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 8, items.length) }, worker));
    return out;
  }
}

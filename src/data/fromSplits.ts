/**
 * Adapts data/'s selected splits (files or procedural) to what the trainer reads: batches by
 * index, decoded lazily through one bounded cache, and display images for Grad-CAM.
 */
import { BatchStream, ImageCache, DEFAULT_CACHE_BYTES } from './batches';
import type { Normalization } from './preprocess';
import { NORM_HALF, resizeRgba } from './preprocess';
import type { DataItem, SelectedSplits } from './types';
import { LabError } from '../domain/errors';
import type { Batch, SplitData, TrainData } from './trainData';

export interface AdaptOptions {
  imageSize: number;
  normalization?: Normalization;
  /** Leave out images that fail to decode (reported in `skipped`) instead of stopping. */
  skipBad?: boolean;
  cacheBytes?: number;
  /** Side of the display images for Grad-CAM (default: the model resolution, at least 96). */
  displaySide?: number;
}

export function trainDataFromSplits(splits: SelectedSplits, o: AdaptOptions): TrainData {
  const cache = new ImageCache(o.cacheBytes ?? DEFAULT_CACHE_BYTES);
  const skipped = [...splits.skipped.map((s) => ({ file: s.file, line: s.line, reason: s.reason }))];
  const split = (items: DataItem[]): SplitData => {
    const stream = new BatchStream(items, splits.images, {
      batchSize: 1,
      imageSize: o.imageSize,
      normalization: o.normalization ?? NORM_HALF,
      cache,
      shuffle: false,
    });
    const plane = 3 * o.imageSize * o.imageSize;
    return {
      size: items.length,
      async batch(indices: number[]): Promise<Batch> {
        const got: Float32Array[] = [];
        const labels: number[] = [];
        for (const i of indices) {
          const item = items[i];
          try {
            got.push(await stream.pixels(item));
            labels.push(item.label);
          } catch (e) {
            if (!o.skipBad || !(e instanceof LabError)) throw e;
            if (!skipped.some((s) => s.file === (item.file ?? item.id) && s.line === item.line))
              skipped.push({ file: item.file ?? item.id, line: item.line, reason: e.message });
          }
        }
        const pixels = new Float32Array(got.length * plane); // [B, 3, S, S]
        got.forEach((p, k) => pixels.set(p, k * plane));
        return { pixels, labels: Int32Array.from(labels), size: got.length };
      },
      async display(index: number) {
        const side = o.displaySide ?? Math.max(96, o.imageSize);
        const img = await splits.images.load(items[index], side);
        const resized = img.width === side && img.height === side ? img : resizeRgba(img, side, side);
        return { rgba: new Uint8ClampedArray(resized.data), side };
      },
    };
  };
  return {
    numClasses: splits.task.classes,
    imageSize: o.imageSize,
    train: split(splits.train),
    val: split(splits.val),
    test: split(splits.test),
    skipped,
  };
}

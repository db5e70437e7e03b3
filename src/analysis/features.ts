/** Backbone CLS features of a split's images: what the Fréchet "data distance" compares. */
import * as tf from '@tensorflow/tfjs';
import { pooledFeatures, type ViT } from '../model/vit';
import type { SplitData } from '../data/trainData';
import { fitGaussian, type Gaussian } from './frechet';

/** CLS features [N, D] of the first `count` images of a split (no prompts, frozen backbone). */
export async function splitFeatures(model: ViT, split: SplitData, count: number, batchSize = 32): Promise<Float32Array> {
  const { cfg } = model;
  const n = Math.min(count, split.size);
  const out = new Float32Array(n * cfg.hiddenSize);
  let filled = 0;
  for (let s = 0; s < n; s += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - s) }, (_, i) => s + i);
    const batch = await split.batch(idx);
    const f = tf.tidy(() => pooledFeatures(model, tf.tensor4d(batch.pixels, [batch.size, cfg.channels, cfg.imageSize, cfg.imageSize]))); // [b, D]
    out.set((await f.data()) as Float32Array, filled * cfg.hiddenSize);
    filled += batch.size;
    f.dispose();
  }
  return out.subarray(0, filled * cfg.hiddenSize);
}

export async function splitGaussian(model: ViT, split: SplitData, count: number): Promise<Gaussian> {
  const f = await splitFeatures(model, split, count);
  return fitGaussian(f, f.length / model.cfg.hiddenSize, model.cfg.hiddenSize);
}

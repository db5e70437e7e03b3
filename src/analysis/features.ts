/** Backbone CLS features of a split's images: what the Fréchet "data distance" compares. */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from '../model/config';
import type { ParamSet } from '../model/params';
import { clsFeatures, forwardFeatures } from '../model/vit';
import type { SplitData } from '../train/data';
import { fitGaussian, type Gaussian } from './frechet';

/** CLS features [N, D] of the first `count` images of a split (no prompts, frozen backbone). */
export async function splitFeatures(params: ParamSet, cfg: ViTConfig, split: SplitData, count: number, batchSize = 32): Promise<Float32Array> {
  const n = Math.min(count, split.size);
  const out = new Float32Array(n * cfg.hiddenSize);
  let filled = 0;
  for (let s = 0; s < n; s += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - s) }, (_, i) => s + i);
    const batch = await split.batch(idx);
    const f = tf.tidy(() => clsFeatures(forwardFeatures(params, cfg, tf.tensor4d(batch.pixels, [batch.size, cfg.channels, cfg.imageSize, cfg.imageSize]))));
    out.set((await f.data()) as Float32Array, filled * cfg.hiddenSize);
    filled += batch.size;
    f.dispose();
  }
  return out.subarray(0, filled * cfg.hiddenSize);
}

export async function splitGaussian(params: ParamSet, cfg: ViTConfig, split: SplitData, count: number): Promise<Gaussian> {
  const f = await splitFeatures(params, cfg, split, count);
  return fitGaussian(f, f.length / cfg.hiddenSize, cfg.hiddenSize);
}

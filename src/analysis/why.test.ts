import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { PRESETS } from '../model/config';
import { randomParams, type ParamSet } from '../model/params';
import { stockKernels } from '../model/ops';
import type { SplitData } from '../data/trainData';
import { featureSimilarity, promptAttention } from './why';

const cfg = PRESETS.fixture_tiny; // 64 px, patch 16: 16 patches, 3 blocks, width 48

/** A split of `n` random images. */
function split(n: number): SplitData {
  const plane = 3 * cfg.imageSize * cfg.imageSize;
  const all = tf.tidy(() => tf.randomNormal([n, 3, cfg.imageSize, cfg.imageSize], 0, 1, 'float32', 5).dataSync() as Float32Array);
  return {
    size: n,
    batch: async (idx) => ({
      pixels: Float32Array.from(idx.flatMap((i) => Array.from(all.subarray(i * plane, (i + 1) * plane)))),
      labels: Int32Array.from(idx.map((i) => i % 5)),
      size: idx.length,
    }),
    display: async () => ({ rgba: new Uint8ClampedArray(4), side: 1 }),
  };
}

/** Random weights strong enough that every block changes its input: N(0, 0.02) × 25 on the linear layers. */
function strongParams(seed: number): ParamSet {
  const p = randomParams(cfg, seed);
  for (const n of Object.keys(p)) if (/^blocks\.\d+\.(attn|mlp)\.\w+\.weight$/.test(n)) p[n] = tf.mul(p[n], 25);
  return p;
}

const prompts = (p: number): ParamSet =>
  Object.fromEntries([0, 1, 2].map((i) => [`prompts.${i}`, tf.randomNormal([p, cfg.hiddenSize], 0, 1, 'float32', 20 + i)]));

beforeAll(async () => {
  await initNodeBackend('cpu');
});

describe('the why analyses', () => {
  it('CKA is 1 at every layer when the features did not move (a linear probe), and falls where prompts or weights moved them', async () => {
    const backbone = strongParams(1);
    const base = { cfg, params: backbone, kernels: stockKernels };
    const same = await featureSimilarity(base, {}, base, split(12), 12, 4);
    expect(same).toHaveLength(cfg.numLayers + 1);
    for (const v of same) expect(v).toBeCloseTo(1, 4);

    const vpt = { cfg, params: { ...backbone, ...prompts(4) }, kernels: stockKernels };
    const moved = await featureSimilarity(vpt, { promptMode: 'deep' }, base, split(12), 12, 4);
    expect(moved[0]).toBeCloseTo(1, 4); // the embedding comes before any prompt
    expect(moved[cfg.numLayers]).toBeLessThan(0.999);

    const ftParams = {
      ...backbone,
      'patch_embed.proj.weight': tf.add(backbone['patch_embed.proj.weight'], tf.randomNormal(backbone['patch_embed.proj.weight'].shape, 0, 0.05, 'float32', 3)),
    };
    const ft = await featureSimilarity({ cfg, params: ftParams, kernels: stockKernels }, {}, base, split(12), 12, 4);
    expect(ft[0]).toBeLessThan(0.999);
  });

  it('prompt attention: none without prompts; the uniform share P / T when every attention logit is equal', async () => {
    const backbone = randomParams(cfg, 2);
    expect(await promptAttention({ cfg, params: backbone, kernels: stockKernels }, { promptMode: 'deep' }, split(4), 4)).toBeNull();
    // q = k = 0 in every block: attention is uniform over the 1 + 3 + 16 tokens.
    const flat: ParamSet = { ...backbone, ...prompts(3) };
    for (let i = 0; i < cfg.numLayers; i++) {
      flat[`blocks.${i}.attn.qkv.weight`] = tf.concat(
        [tf.zeros([cfg.hiddenSize, 2 * cfg.hiddenSize]), tf.slice(backbone[`blocks.${i}.attn.qkv.weight`], [0, 2 * cfg.hiddenSize], [-1, cfg.hiddenSize])],
        1,
      );
      flat[`blocks.${i}.attn.qkv.bias`] = tf.zeros([3 * cfg.hiddenSize]);
    }
    const a = (await promptAttention({ cfg, params: flat, kernels: stockKernels }, { promptMode: 'deep' }, split(6), 6, 4))!;
    expect(a.uniform).toBeCloseTo(3 / 20, 12);
    for (const v of [...a.fromCls, ...a.fromPatches]) expect(v).toBeCloseTo(3 / 20, 5);
    // Real weights: shares are fractions, and differ from the uniform one.
    const real = (await promptAttention({ cfg, params: { ...backbone, ...prompts(3) }, kernels: stockKernels }, { promptMode: 'deep' }, split(6), 6))!;
    for (const v of [...real.fromCls, ...real.fromPatches]) expect(v > 0 && v < 1).toBe(true);
  });
});

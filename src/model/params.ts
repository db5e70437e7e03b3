/**
 * Canonical checkpoint tensors (timm names and shapes, plain Float32Arrays) <-> the tensors the
 * model computes with.
 *
 * The compute layout differs from timm's in one way, on purpose: every linear weight is stored
 * [in, out] (as JAX/Google checkpoints store it) so the forward pass is a plain x·W, the fast
 * form on every tfjs backend. The patch projection [D, C, p, p] becomes [C·p·p, D] with its input
 * flattened in (c, kh, kw) order. The transposed keys are listed explicitly in `isLinearWeight`.
 */
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '../domain/tensor';
import type { ViTConfig } from './config';
import { gridSize } from './config';

/** Model tensors by canonical name, in compute layout. Variables for what trains. */
export type ParamSet = Record<string, tf.Tensor>;

/** Linear weights stored [out, in] in timm and [in, out] here. */
export function isLinearWeight(name: string): boolean {
  return /^blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(fc1|fc2))\.weight$/.test(name) || name === 'head.weight' || name === 'pre_logits.fc.weight';
}

export function isPatchWeight(name: string): boolean {
  return name === 'patch_embed.proj.weight';
}

/** One canonical tensor into compute layout. */
export function toComputeTensor(name: string, t: HostTensor): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor(t.data, t.shape, 'float32');
    if (isLinearWeight(name)) return tf.transpose(x); // [out, in] -> [in, out]
    if (isPatchWeight(name)) {
      const [d] = t.shape;
      return tf.transpose(tf.reshape(x, [d, -1])); // [D, C, p, p] -> [C·p·p, D]
    }
    return x;
  });
}

/** One compute tensor back to its canonical (timm) shape; `cfg` gives the patch geometry. */
export function toCanonicalTensor(name: string, x: tf.Tensor, cfg: ViTConfig): tf.Tensor {
  return tf.tidy(() => {
    if (isLinearWeight(name)) return tf.transpose(x);
    if (isPatchWeight(name)) {
      return tf.reshape(tf.transpose(x), [cfg.hiddenSize, cfg.channels, cfg.patchSize, cfg.patchSize]);
    }
    return tf.clone(x);
  });
}

/**
 * Build compute tensors from a canonical map. Each source array is converted and may be dropped
 * by the caller right after, so at most one extra copy of one tensor exists at a time.
 */
export function paramsFromCanonical(tensors: Map<string, HostTensor>): ParamSet {
  const out: ParamSet = {};
  for (const [name, t] of tensors) out[name] = toComputeTensor(name, t);
  return out;
}

/** Read compute tensors back as canonical host tensors (for export and verification). */
export async function canonicalFromParams(params: ParamSet, cfg: ViTConfig): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const name of Object.keys(params).sort()) {
    const c = toCanonicalTensor(name, params[name], cfg);
    out.set(name, { shape: c.shape.slice(), data: (await c.data()) as Float32Array });
    c.dispose();
  }
  return out;
}

export function disposeParams(params: ParamSet): void {
  for (const t of Object.values(params)) t.dispose();
}

/**
 * Resize position embeddings [1, 1 + g·g, D] to another grid (another input resolution),
 * bilinearly with half-pixel centres. The CLS position is kept. Same grid: returned as is.
 * timm resizes bicubically; tfjs has no bicubic resize, and this is only used for demos at
 * other resolutions, so bilinear is the documented choice.
 */
export function resizePosEmbed(posEmbed: tf.Tensor, newGrid: number): tf.Tensor {
  const [, tokens, d] = posEmbed.shape as [number, number, number];
  const oldGrid = Math.round(Math.sqrt(tokens - 1));
  if (oldGrid * oldGrid !== tokens - 1) throw new Error(`pos_embed has ${tokens} tokens, not 1 + a square grid.`);
  if (oldGrid === newGrid) return posEmbed;
  return tf.tidy(() => {
    const cls = tf.slice(posEmbed, [0, 0, 0], [1, 1, d]); // [1, 1, D]
    const grid = tf.reshape(tf.slice(posEmbed, [0, 1, 0], [1, tokens - 1, d]), [1, oldGrid, oldGrid, d]);
    const resized = tf.image.resizeBilinear(grid as tf.Tensor4D, [newGrid, newGrid], false, true); // [1, n, n, D]
    return tf.concat([cls, tf.reshape(resized, [1, newGrid * newGrid, d])], 1);
  });
}

/**
 * Adapt loaded parameters to another input resolution: a new config and resized position
 * embeddings. The old pos_embed is disposed when it is replaced.
 */
export function adaptToResolution(params: ParamSet, cfg: ViTConfig, imageSize: number): ViTConfig {
  if (imageSize === cfg.imageSize) return cfg;
  const next = { ...cfg, imageSize };
  if (imageSize % cfg.patchSize !== 0) throw new Error(`Input resolution ${imageSize} is not a multiple of the patch size ${cfg.patchSize}.`);
  const old = params['pos_embed'];
  params['pos_embed'] = resizePosEmbed(old, gridSize(next));
  if (params['pos_embed'] !== old) old.dispose();
  return next;
}

/** How fresh prompts start: the reference's uniform draw, or zeros (an investigation control). */
export type PromptInit = 'random' | 'zero';

/**
 * Fresh prompt tokens [P, D] per layer: uniform in ±sqrt(6 / (3·p² + D)) as the reference VPT
 * code (Xavier on the patch fan-in), or zeros. A prompt reaches the other tokens only through the
 * next block's LayerNorm, which is scale-invariant, so the scale sets how fast prompts learn
 * (the LayerNorm's gradient scales as 1 / |prompt|), not what the frozen backbone sees at first;
 * a zero prompt enters every block as the LayerNorm's bias β.
 */
export function initPrompts(cfg: ViTConfig, promptLength: number, layers: number, seed: number, init: PromptInit = 'random'): ParamSet {
  const bound = Math.sqrt(6 / (3 * cfg.patchSize * cfg.patchSize + cfg.hiddenSize));
  const out: ParamSet = {};
  for (let i = 0; i < layers; i++) {
    out[`prompts.${i}`] =
      init === 'zero' ? tf.zeros([promptLength, cfg.hiddenSize]) : tf.randomUniform([promptLength, cfg.hiddenSize], -bound, bound, 'float32', seed + i);
  }
  return out;
}

/**
 * tfjs' Gaussian draws (randomNormal, truncatedNormal) treat seed 0 as "no seed" and use
 * Math.random() (`seed ? seed : Math.random()` in rand_util.js), so a run seeded 0 would not replay.
 * Every Gaussian draw here goes through this: 0 maps to a fixed non-zero seed.
 */
export function gaussianSeed(seed: number): number {
  return seed === 0 ? 0x2545f491 : seed;
}

/** A fresh linear head [D, K] (compute layout), zero bias; truncated-normal-ish small init. */
export function initHead(cfg: ViTConfig, numClasses: number, seed: number): ParamSet {
  return tf.tidy(() => ({
    'head.weight': tf.mul(tf.truncatedNormal([cfg.hiddenSize, numClasses], 0, 1, 'float32', gaussianSeed(seed)), 0.01),
    'head.bias': tf.zeros([numClasses]),
  }));
}

/** Random backbone weights in compute layout (benchmarks, tests): N(0, 0.02), LayerNorm γ=1. */
export function randomParams(cfg: ViTConfig, seed = 0): ParamSet {
  const D = cfg.hiddenSize,
    M = cfg.mlpDim,
    g = gridSize(cfg);
  let s = seed;
  const n = (shape: number[]) => tf.tidy(() => tf.mul(tf.truncatedNormal(shape, 0, 1, 'float32', gaussianSeed(s++)), 0.02));
  const p: ParamSet = {
    cls_token: n([1, 1, D]),
    pos_embed: n([1, 1 + g * g, D]),
    'patch_embed.proj.weight': n([cfg.channels * cfg.patchSize * cfg.patchSize, D]),
    'patch_embed.proj.bias': tf.zeros([D]),
    'norm.weight': tf.ones([D]),
    'norm.bias': tf.zeros([D]),
  };
  for (let i = 0; i < cfg.numLayers; i++) {
    const b = `blocks.${i}.`;
    p[b + 'norm1.weight'] = tf.ones([D]);
    p[b + 'norm1.bias'] = tf.zeros([D]);
    p[b + 'attn.qkv.weight'] = n([D, 3 * D]);
    p[b + 'attn.qkv.bias'] = tf.zeros([3 * D]);
    p[b + 'attn.proj.weight'] = n([D, D]);
    p[b + 'attn.proj.bias'] = tf.zeros([D]);
    p[b + 'norm2.weight'] = tf.ones([D]);
    p[b + 'norm2.bias'] = tf.zeros([D]);
    p[b + 'mlp.fc1.weight'] = n([D, M]);
    p[b + 'mlp.fc1.bias'] = tf.zeros([M]);
    p[b + 'mlp.fc2.weight'] = n([M, D]);
    p[b + 'mlp.fc2.bias'] = tf.zeros([D]);
  }
  if (cfg.numClasses > 0) Object.assign(p, initHead(cfg, cfg.numClasses, s++));
  return p;
}

/**
 * The paper's "why", measured on a trained model (Han et al. argue that VPT wins because it
 * preserves the pretrained features, not only because it overfits less):
 *
 * - `featureSimilarity`: per layer, linear CKA between the tuned model's token features and the
 *   pretrained backbone's on the same images. Rows are (image, token) pairs for CLS and the g²
 *   patch tokens; prompt tokens are left out (the backbone has none). Layer 0 is the patch
 *   embedding, layer i the output of block i. A linear probe scores exactly 1 everywhere.
 * - `promptAttention`: per block, the share of attention that goes to prompt tokens, from the CLS
 *   query and from the patch queries: how much of what every token reads comes from the prompts,
 *   which are the same for every image.
 *
 * Both run after a run's final evaluation, on its test images.
 */
import * as tf from '@tensorflow/tfjs';
import type { SplitData } from '../data/trainData';
import { traceBlocks, weightsOf, withoutPrompts, type ForwardOptions, type ViT } from '../model/vit';
import { LinearCkaAccumulator } from './cka';
import type { PromptAttention } from '../domain/paper';

/** The first `count` images of a split, batch by batch, as [b, C, S, S] pixels. */
async function forEachBatch(split: SplitData, m: ViT, count: number, batchSize: number, fn: (x: tf.Tensor4D) => void): Promise<number> {
  const n = Math.min(count, split.size);
  const { cfg } = m;
  for (let s = 0; s < n; s += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, n - s) }, (_, i) => s + i);
    const batch = await split.batch(idx);
    const x = tf.tensor4d(batch.pixels, [batch.size, cfg.channels, cfg.imageSize, cfg.imageSize]);
    try {
      fn(x);
    } finally {
      x.dispose();
    }
  }
  return n;
}

/** Prompt tokens the sequence carries under `opts` for this model's parameters. */
function promptLengthOf(m: ViT, opts: ForwardOptions): number {
  return (opts.promptMode ?? 'none') === 'none' ? 0 : (m.params['prompts.0']?.shape[0] ?? 0);
}

/**
 * Linear CKA per layer (0 = embedding, i = block i's output) between `tuned` (run with
 * `tunedOpts`) and `pretrained` (no prompts) on the first `count` images of `split`.
 */
export async function featureSimilarity(
  tuned: ViT,
  tunedOpts: ForwardOptions,
  pretrained: ViT,
  split: SplitData,
  count = 64,
  batchSize = 16,
): Promise<number[]> {
  const layers = tuned.cfg.numLayers + 1;
  const acc = Array.from({ length: layers }, () => new LinearCkaAccumulator());
  const p = promptLengthOf(tuned, tunedOpts);
  const evalOpts: ForwardOptions = { ...tunedOpts, training: false };
  try {
    await forEachBatch(split, tuned, count, batchSize, (x) => {
      tf.tidy(() => {
        const a = traceBlocks(tuned, x, evalOpts),
          b = traceBlocks(pretrained, x, { promptMode: 'none' });
        const rows = (t: tf.Tensor3D) => tf.reshape(t, [-1, t.shape[2]]) as tf.Tensor2D; // [b·(1 + g²), D]
        const tunedLayers = [a.embedded, ...a.outputs.map((o) => withoutPrompts(o, p))];
        const baseLayers = [b.embedded, ...b.outputs];
        for (let l = 0; l < layers; l++) acc[l].add(rows(tunedLayers[l]), rows(baseLayers[l]));
      });
    });
    const out: number[] = [];
    for (const a of acc) out.push(await a.value());
    return out;
  } finally {
    acc.forEach((a) => a.dispose());
  }
}

/** Attention shares on prompt tokens per block, on the first `count` images of `split`. */
export async function promptAttention(m: ViT, opts: ForwardOptions, split: SplitData, count = 64, batchSize = 16): Promise<PromptAttention | null> {
  const p = promptLengthOf(m, opts);
  if (!p) return null;
  const w = weightsOf(m.params, m.cfg);
  const L = m.cfg.numLayers,
    H = m.cfg.numHeads;
  const sums = { cls: new Float64Array(L), patches: new Float64Array(L) };
  let tokens = 0;
  const n = await forEachBatch(split, m, count, batchSize, (x) => {
    const shares = tf.tidy(() => {
      const { inputs } = traceBlocks(m, x, { ...opts, training: false });
      return inputs.map((input, i) => {
        const [b, t, d] = input.shape;
        tokens = t;
        const hd = d / H;
        const blk = w.blocks[i];
        const a = m.kernels.layerNorm(input, blk.norm1.weight, blk.norm1.bias, blk.norm1.eps) as tf.Tensor3D; // [B, T, D]
        const qkv = m.kernels.linear(tf.reshape(a, [b * t, d]) as tf.Tensor2D, blk.attn.qkv.weight, blk.attn.qkv.bias); // [B·T, 3D]
        const heads = tf.transpose(tf.reshape(qkv, [b, t, 3 * H, hd]), [0, 2, 1, 3]); // [B, 3H, T, hd]
        const [q, k] = tf.split(heads, 3, 1); // [B, H, T, hd] each
        const probs = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), -1); // [B, H, T, T]
        const onPrompts = tf.sum(tf.slice(probs, [0, 0, 0, 1], [b, H, t, p]), -1); // [B, H, T]: mass on keys 1..P
        const fromCls = tf.sum(tf.slice(onPrompts, [0, 0, 0], [b, H, 1])); // summed over images and heads
        const fromPatches = tf.sum(tf.mean(tf.slice(onPrompts, [0, 0, 1 + p], [b, H, t - 1 - p]), -1));
        return tf.stack([fromCls, fromPatches]);
      });
    });
    shares.forEach((s, i) => {
      const [c, pt] = s.dataSync();
      sums.cls[i] += c;
      sums.patches[i] += pt;
    });
    tf.dispose(shares);
  });
  const per = n * H;
  return { fromCls: Array.from(sums.cls, (v) => v / per), fromPatches: Array.from(sums.patches, (v) => v / per), uniform: p / tokens };
}

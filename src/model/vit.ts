/**
 * A pure, config-driven Vision Transformer in tfjs: (params, inputs, options) -> tensors.
 * No DOM, no fetch, no store. Parameters are in compute layout (see params.ts).
 *
 * Forward: patch embedding, CLS token, position embeddings, [prompts], pre-norm blocks
 * (x = x + attn(norm1(x)); x = x + mlp(norm2(x))) with exact GELU, final LayerNorm, linear head
 * on the CLS token.
 */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from './config';
import { gridSize } from './config';
import type { ParamSet } from './params';
import { attention, gelu, layerNorm, linear } from './ops';

export type PromptMode = 'none' | 'shallow' | 'deep';

export interface ForwardOptions {
  /**
   * Visual prompts, as the reference VPT code inserts them: `shallow` puts `prompts.0` right
   * after CLS (after position embeddings) before layer 0; `deep` also replaces the previous
   * layer's prompt outputs with `prompts.{i}` before every layer i > 0.
   */
  promptMode?: PromptMode;
  /** Training mode enables prompt dropout. */
  training?: boolean;
  /** Dropout on the prompt tokens while training (reference: 0.1 deep, 0 shallow). */
  promptDropout?: number;
  /** Seed for this step's dropout mask, so runs replay exactly. */
  dropoutSeed?: number;
  /**
   * Which parameters need a weight gradient. Frozen linear weights then skip dW entirely
   * (VPT and linear probing backpropagate only through activations). Default: all.
   */
  needsGrad?: (name: string) => boolean;
}

/** Tokens before the patches: CLS plus any prompts. Everything that wants patches strips these. */
export function numPrefixTokens(promptLength: number): number {
  return 1 + promptLength;
}

/** Prompt length present in the params (0 when none). */
export function promptLengthOf(params: ParamSet): number {
  const p = params['prompts.0'];
  return p ? p.shape[0] : 0;
}

function p1(params: ParamSet, name: string): tf.Tensor1D {
  const t = params[name];
  if (!t) throw new Error(`Missing parameter ${name}.`);
  return t as tf.Tensor1D;
}

function p2(params: ParamSet, name: string): tf.Tensor2D {
  const t = params[name];
  if (!t) throw new Error(`Missing parameter ${name}.`);
  return t as tf.Tensor2D;
}

const allGrads: (name: string) => boolean = () => true;

/** pixels [B, C, H, W] (NCHW, normalised) -> tokens [B, 1 + g², D] with CLS and position added. */
export function embed(params: ParamSet, cfg: ViTConfig, pixels: tf.Tensor4D, needsGrad = allGrads): tf.Tensor3D {
  const [b, c, h, w] = pixels.shape;
  const p = cfg.patchSize, g = gridSize(cfg), d = cfg.hiddenSize;
  if (h !== cfg.imageSize || w !== cfg.imageSize || c !== cfg.channels) {
    throw new Error(`Input is [${pixels.shape}] but the model expects [B, ${cfg.channels}, ${cfg.imageSize}, ${cfg.imageSize}].`);
  }
  const patches: tf.Tensor2D = tf.reshape(
    tf.transpose(tf.reshape(pixels, [b, c, g, p, g, p]), [0, 2, 4, 1, 3, 5]), // [B, gy, gx, C, p, p]
    [b * g * g, c * p * p],
  ); // [B·g², C·p·p]
  const projected = linear(patches, p2(params, 'patch_embed.proj.weight'), p1(params, 'patch_embed.proj.bias'), needsGrad('patch_embed.proj.weight'));
  const tokens = tf.reshape(projected, [b, g * g, d]); // [B, g², D]
  const cls = tf.tile(params['cls_token'], [b, 1, 1]); // [B, 1, D]
  const x = tf.concat([cls, tokens], 1); // [B, 1 + g², D]
  return tf.add(x, params['pos_embed']) as tf.Tensor3D;
}

/** Multi-head self-attention on x [B, T, D] (already normalised) -> [B, T, D]. */
export function selfAttention(params: ParamSet, cfg: ViTConfig, layer: number, x: tf.Tensor3D, needsGrad = allGrads): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const h = cfg.numHeads, hd = d / h;
  const pre = `blocks.${layer}.attn.`;
  const qkv = linear(tf.reshape(x, [b * t, d]), p2(params, pre + 'qkv.weight'), p1(params, pre + 'qkv.bias'), needsGrad(pre + 'qkv.weight')); // [B·T, 3D]
  // A 4-D transpose: tfjs' WASM backend runs 5-D transposes ~20x slower than 4-D ones.
  const heads = tf.transpose(tf.reshape(qkv, [b, t, 3 * h, hd]), [0, 2, 1, 3]); // [B, 3H, T, hd]: q heads, k heads, v heads
  const [q, k, v] = tf.split(heads, 3, 1).map((s) => tf.reshape(s, [b * h, t, hd]) as tf.Tensor3D); // [B·H, T, hd]
  const ctx = attention(q, k, v, 1 / Math.sqrt(hd)); // [B·H, T, hd]
  const merged: tf.Tensor2D = tf.reshape(tf.transpose(tf.reshape(ctx, [b, h, t, hd]), [0, 2, 1, 3]), [b * t, d]); // [B·T, D]
  const out = linear(merged, p2(params, pre + 'proj.weight'), p1(params, pre + 'proj.bias'), needsGrad(pre + 'proj.weight'));
  return tf.reshape(out, [b, t, d]);
}

/** MLP: fc2(gelu(fc1(x))) on x [B, T, D]. */
export function mlp(params: ParamSet, layer: number, x: tf.Tensor3D, needsGrad = allGrads): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const pre = `blocks.${layer}.mlp.`;
  const hidden = gelu(linear(tf.reshape(x, [b * t, d]) as tf.Tensor2D, p2(params, pre + 'fc1.weight'), p1(params, pre + 'fc1.bias'), needsGrad(pre + 'fc1.weight'))) as tf.Tensor2D; // [B·T, M]
  const out = linear(hidden, p2(params, pre + 'fc2.weight'), p1(params, pre + 'fc2.bias'), needsGrad(pre + 'fc2.weight'));
  return tf.reshape(out, [b, t, d]);
}

export function norm1(params: ParamSet, cfg: ViTConfig, layer: number, x: tf.Tensor3D): tf.Tensor3D {
  return layerNorm(x, p1(params, `blocks.${layer}.norm1.weight`), p1(params, `blocks.${layer}.norm1.bias`), cfg.layerNormEps) as tf.Tensor3D;
}

/** The rest of a block once norm1(x) is known: x + attn(a), then the MLP half. */
export function blockFromNorm1(params: ParamSet, cfg: ViTConfig, layer: number, x: tf.Tensor3D, a: tf.Tensor3D, needsGrad = allGrads): tf.Tensor3D {
  const y = tf.add(x, selfAttention(params, cfg, layer, a, needsGrad)) as tf.Tensor3D;
  const n2 = layerNorm(y, p1(params, `blocks.${layer}.norm2.weight`), p1(params, `blocks.${layer}.norm2.bias`), cfg.layerNormEps) as tf.Tensor3D;
  return tf.add(y, mlp(params, layer, n2, needsGrad)) as tf.Tensor3D;
}

/** One pre-norm block: x = x + attn(norm1(x)); x = x + mlp(norm2(x)). */
export function block(params: ParamSet, cfg: ViTConfig, layer: number, x: tf.Tensor3D, needsGrad = allGrads): tf.Tensor3D {
  return blockFromNorm1(params, cfg, layer, x, norm1(params, cfg, layer, x), needsGrad);
}

/** The prompt tokens for `layer` as [B, P, D], with dropout when training. */
function promptTokens(params: ParamSet, layer: number, batch: number, opts: ForwardOptions): tf.Tensor3D {
  const prompts = params[`prompts.${layer}`];
  if (!prompts) throw new Error(`Prompt mode '${opts.promptMode}' needs prompts.${layer}, which the parameters lack.`);
  let pt: tf.Tensor = prompts; // [P, D]
  const rate = opts.training ? (opts.promptDropout ?? 0) : 0;
  if (rate > 0) pt = tf.dropout(pt, rate, undefined, (opts.dropoutSeed ?? 0) * 131 + layer);
  return tf.tile(tf.expandDims(pt, 0), [batch, 1, 1]) as tf.Tensor3D; // [B, P, D]
}

/**
 * Prompt handling before `layer`: insert after CLS before layer 0, and in deep mode replace the
 * previous prompt outputs before every later layer (reference VPT semantics).
 */
export function withPrompts(params: ParamSet, layer: number, x: tf.Tensor3D, opts: ForwardOptions): tf.Tensor3D {
  const mode = opts.promptMode ?? 'none';
  if (mode === 'none' || (mode === 'shallow' && layer > 0)) return x;
  const [b, t, d] = x.shape;
  const prompts = promptTokens(params, layer, b, opts);
  const cls = tf.slice(x, [0, 0, 0], [b, 1, d]);
  if (layer === 0) {
    return tf.concat([cls, prompts, tf.slice(x, [0, 1, 0], [b, t - 1, d])], 1); // [B, 1 + P + g², D]
  }
  const pl = prompts.shape[1];
  return tf.concat([cls, prompts, tf.slice(x, [0, 1 + pl, 0], [b, t - 1 - pl, d])], 1);
}

/** Tokens entering block `upTo` (exclusive), prompts handled; [B, T', D]. */
export function runBlocks(params: ParamSet, cfg: ViTConfig, pixels: tf.Tensor4D, upTo: number, opts: ForwardOptions = {}): tf.Tensor3D {
  const needsGrad = opts.needsGrad ?? allGrads;
  let x = embed(params, cfg, pixels, needsGrad);
  for (let i = 0; i < upTo; i++) {
    x = withPrompts(params, i, x, opts);
    x = block(params, cfg, i, x, needsGrad);
  }
  return x;
}

/** Final-norm token features [B, T', D] (the hub's last_hidden_state). */
export function forwardFeatures(params: ParamSet, cfg: ViTConfig, pixels: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor3D {
  const x = runBlocks(params, cfg, pixels, cfg.numLayers, opts);
  return layerNorm(x, p1(params, 'norm.weight'), p1(params, 'norm.bias'), cfg.layerNormEps) as tf.Tensor3D;
}

/** CLS token of the final-norm features: [B, D]. */
export function clsFeatures(features: tf.Tensor3D): tf.Tensor2D {
  const [b, , d] = features.shape;
  return tf.reshape(tf.slice(features, [0, 0, 0], [b, 1, d]), [b, d]);
}

/** Linear head on CLS features: [B, D] -> [B, K]. */
export function head(params: ParamSet, cls: tf.Tensor2D, needsGrad = allGrads): tf.Tensor2D {
  return linear(cls, p2(params, 'head.weight'), p1(params, 'head.bias'), needsGrad('head.weight'));
}

/** Logits [B, K]. */
export function forward(params: ParamSet, cfg: ViTConfig, pixels: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  return head(params, clsFeatures(forwardFeatures(params, cfg, pixels, opts)), opts.needsGrad ?? allGrads);
}

/** Mean cross-entropy of logits [B, K] against integer labels [B]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const k = logits.shape[1];
  const logp = tf.logSoftmax(logits, -1);
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), k) as tf.Tensor2D;
  return tf.neg(tf.mean(tf.sum(tf.mul(logp, onehot), -1))) as tf.Scalar;
}

/**
 * Grad-CAM on the output of the last block's pre-attention LayerNorm (timm's blocks[-1].norm1):
 * target = the logit of `targets[b]` for each sample; patch tokens only (CLS and prompts dropped);
 * channel weights = mean gradient over patch positions; cam = relu(Σ_c w_c·A_c), then per
 * sample (cam − min) / (max − min + 1e-7). Returns [B, g, g].
 */
export function gradCam(params: ParamSet, cfg: ViTConfig, pixels: tf.Tensor4D, targets: tf.Tensor1D, opts: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const evalOpts: ForwardOptions = { ...opts, training: false };
    const last = cfg.numLayers - 1;
    const xIn = withPrompts(params, last, runBlocks(params, cfg, pixels, last, evalOpts), evalOpts); // [B, T', D]
    const activations = norm1(params, cfg, last, xIn); // [B, T', D]
    const k = params['head.bias'].shape[0];
    const targetOneHot = tf.oneHot(tf.cast(targets, 'int32'), k);
    const grad = tf.grad((a: tf.Tensor) => {
      const y = blockFromNorm1(params, cfg, last, xIn, a as tf.Tensor3D);
      const feats = layerNorm(y, p1(params, 'norm.weight'), p1(params, 'norm.bias'), cfg.layerNormEps) as tf.Tensor3D;
      const logits = head(params, clsFeatures(feats));
      return tf.sum(tf.mul(logits, targetOneHot)); // samples are independent: one backward for all
    })(activations); // [B, T', D]
    const [b, t, d] = activations.shape;
    const prefix = t - gridSize(cfg) ** 2;
    const patchesA = tf.slice(activations, [0, prefix, 0], [b, t - prefix, d]); // [B, g², D]
    const patchesG = tf.slice(grad, [0, prefix, 0], [b, t - prefix, d]);
    const weights = tf.mean(patchesG, 1, true); // [B, 1, D]
    const cam = tf.relu(tf.sum(tf.mul(patchesA, weights), -1)); // [B, g²]
    const lo = tf.min(cam, -1, true), hi = tf.max(cam, -1, true);
    const normed = tf.div(tf.sub(cam, lo), tf.add(tf.sub(hi, lo), 1e-7));
    const g = gridSize(cfg);
    return tf.reshape(normed, [b, g, g]);
  });
}

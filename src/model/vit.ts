/**
 * A pure, config-driven Vision Transformer in tfjs: (model, pixels, options) -> tensors.
 * No DOM, no fetch, no store. Parameters are in compute layout (see params.ts).
 *
 * Forward: patch embedding, CLS token, position embeddings, [prompts], pre-norm blocks
 *   x = x + attn(norm1(x))
 *   x = x + mlp(norm2(x))
 * with exact GELU, final LayerNorm, linear head on the CLS token.
 *
 * The weights are looked up by name once per call into typed objects (`ViTWeights`), and every
 * layer below takes the object it needs. Which weights train is decided by the weights themselves
 * (a tf.Variable trains, see ops.ts), so no flag travels through these calls.
 */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from './config';
import { gridSize } from './config';
import type { Kernels } from './ops';
import { reshape, residual, trains } from './ops';
import type { ParamSet } from './params';
import { recomputed } from './recompute';

/** A ViT ready to run: its sizes, its weights (a tf.Variable among them trains), its kernels. */
export interface ViT {
  cfg: ViTConfig;
  params: ParamSet;
  kernels: Kernels;
}

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
   * Activation recomputation: keep only each block's input for the backward pass and run the
   * block again there (about one more forward pass; a fraction of the memory). See recompute.ts.
   */
  recompute?: boolean;
}

// ---- the weights, looked up once ----

/** A linear layer in compute layout: W [in, out], b [out]. */
export interface LinearWeights {
  weight: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** A LayerNorm: γ, β [D] and its epsilon. */
export interface NormWeights {
  weight: tf.Tensor1D;
  bias: tf.Tensor1D;
  eps: number;
}

export interface AttentionWeights {
  /** [D, 3D]: q, k, v for every head, in that order. */
  qkv: LinearWeights;
  /** [D, D]. */
  proj: LinearWeights;
  heads: number;
}

export interface MlpWeights {
  /** [D, M]. */
  fc1: LinearWeights;
  /** [M, D]. */
  fc2: LinearWeights;
}

export interface BlockWeights {
  norm1: NormWeights;
  attn: AttentionWeights;
  norm2: NormWeights;
  mlp: MlpWeights;
}

export interface ViTWeights {
  /** [C·p·p, D]. */
  patchEmbed: LinearWeights;
  /** [1, 1, D]. */
  clsToken: tf.Tensor3D;
  /** [1, 1 + g², D]. */
  posEmbed: tf.Tensor3D;
  blocks: BlockWeights[];
  /** The final LayerNorm. */
  norm: NormWeights;
  /** Prompt tokens per layer, [P, D] each; absent where the parameters have none. */
  prompts: (tf.Tensor2D | undefined)[];
}

function param<T extends tf.Tensor>(params: ParamSet, name: string): T {
  const t = params[name];
  if (!t) throw new Error(`Missing parameter ${name}.`);
  return t as T;
}

const linearAt = (params: ParamSet, name: string): LinearWeights => ({ weight: param(params, `${name}.weight`), bias: param(params, `${name}.bias`) });
const normAt = (params: ParamSet, name: string, eps: number): NormWeights => ({
  weight: param(params, `${name}.weight`),
  bias: param(params, `${name}.bias`),
  eps,
});

/** The typed view of `params` (canonical names, compute layout). Throws naming a missing key. */
export function weightsOf(params: ParamSet, cfg: ViTConfig): ViTWeights {
  const eps = cfg.layerNormEps;
  const blocks = Array.from({ length: cfg.numLayers }, (_, i): BlockWeights => ({
    norm1: normAt(params, `blocks.${i}.norm1`, eps),
    attn: { qkv: linearAt(params, `blocks.${i}.attn.qkv`), proj: linearAt(params, `blocks.${i}.attn.proj`), heads: cfg.numHeads },
    norm2: normAt(params, `blocks.${i}.norm2`, eps),
    mlp: { fc1: linearAt(params, `blocks.${i}.mlp.fc1`), fc2: linearAt(params, `blocks.${i}.mlp.fc2`) },
  }));
  return {
    patchEmbed: linearAt(params, 'patch_embed.proj'),
    clsToken: param(params, 'cls_token'),
    posEmbed: param(params, 'pos_embed'),
    blocks,
    norm: normAt(params, 'norm', eps),
    prompts: blocks.map((_, i) => params[`prompts.${i}`] as tf.Tensor2D | undefined),
  };
}

/** The classification head [D, K] of `params`. */
export function headOf(params: ParamSet): LinearWeights {
  return linearAt(params, 'head');
}

// ---- the layers ----

/** A linear layer on rows: x [N, in] -> [N, out]. */
function dense(k: Kernels, w: LinearWeights, x: tf.Tensor2D): tf.Tensor2D {
  return k.linear(x, w.weight, w.bias);
}

function norm(k: Kernels, w: NormWeights, x: tf.Tensor3D): tf.Tensor3D {
  return k.layerNorm(x, w.weight, w.bias, w.eps) as tf.Tensor3D;
}

/** Multi-head self-attention on x [B, T, D] (already normalised) -> [B, T, D]. */
function selfAttention(k: Kernels, w: AttentionWeights, x: tf.Tensor3D): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const h = w.heads,
    hd = d / h;
  const qkv = dense(k, w.qkv, reshape(x, [b * t, d])); // [B·T, 3D]
  // A 4-D transpose: tfjs' WASM backend runs 5-D transposes ~20x slower than 4-D ones.
  const heads = tf.transpose(reshape(qkv, [b, t, 3 * h, hd]), [0, 2, 1, 3]); // [B, 3H, T, hd]: q heads, k heads, v heads
  const [q, kk, v] = tf.split(heads, 3, 1).map((s) => reshape<tf.Rank.R3>(s, [b * h, t, hd])); // [B·H, T, hd]
  const ctx = k.attention(q, kk, v, 1 / Math.sqrt(hd)); // [B·H, T, hd]
  const merged = reshape<tf.Rank.R2>(tf.transpose(reshape(ctx, [b, h, t, hd]), [0, 2, 1, 3]), [b * t, d]); // [B·T, D]
  return reshape(dense(k, w.proj, merged), [b, t, d]);
}

/** fc2(gelu(fc1(x))) on x [B, T, D] -> [B, T, D]. */
function mlp(k: Kernels, w: MlpWeights, x: tf.Tensor3D): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const hidden = k.gelu(dense(k, w.fc1, reshape(x, [b * t, d]))) as tf.Tensor2D; // [B·T, M]
  return reshape(dense(k, w.fc2, hidden), [b, t, d]);
}

/**
 * One pre-norm block on x [B, T, D]. `a` is norm1(x); Grad-CAM passes it in to differentiate with
 * respect to it, everyone else lets the block compute it.
 */
export function block(k: Kernels, w: BlockWeights, x: tf.Tensor3D, a = norm(k, w.norm1, x)): tf.Tensor3D {
  x = residual(x, selfAttention(k, w.attn, a)); // x = x + attn(norm1(x))  [B, T, D]
  return residual(x, mlp(k, w.mlp, norm(k, w.norm2, x))); // x = x + mlp(norm2(x))  [B, T, D]
}

/** pixels [B, C, H, W] (NCHW, normalised) -> tokens [B, 1 + g², D] with CLS and position added. */
function embed(k: Kernels, w: ViTWeights, cfg: ViTConfig, pixels: tf.Tensor4D): tf.Tensor3D {
  const [b, c, h, wd] = pixels.shape;
  const p = cfg.patchSize,
    g = gridSize(cfg);
  if (h !== cfg.imageSize || wd !== cfg.imageSize || c !== cfg.channels) {
    throw new Error(`Input is [${pixels.shape}] but the model expects [B, ${cfg.channels}, ${cfg.imageSize}, ${cfg.imageSize}].`);
  }
  // [B, C, gy, py, gx, px] -> [B, gy, gx, C, py, px] as two 4-D transposes: tfjs' WASM backend
  // runs the one 6-D transpose ~20x slower (78 ms for ViT-Ti/16 at batch 8).
  const rows = tf.transpose(tf.reshape(pixels, [b * c * g, p, g, p]), [0, 2, 1, 3]); // [B·C·gy, gx, py, px]
  const patches = tf.reshape(
    tf.transpose(tf.reshape(rows, [b, c, g * g, p * p]), [0, 2, 1, 3]), // [B, gy·gx, C, py·px]
    [b * g * g, c * p * p],
  ) as tf.Tensor2D; // [B·g², C·p·p]
  const tokens = tf.reshape(dense(k, w.patchEmbed, patches), [b, g * g, cfg.hiddenSize]); // [B, g², D]
  const cls = repeatBatch(w.clsToken, b); // [B, 1, D]
  return tf.add(tf.concat([cls, tokens], 1), w.posEmbed); // [B, 1 + g², D]
}

/**
 * t [1, N, D] repeated `b` times along the batch -> [B, N, D]. A concat of b copies (whole-block
 * copies) rather than tf.tile: tfjs-backend-wasm's Tile computes every element's source index in
 * a loop, 4 ms for the prompts of one ViT-Ti/16 layer at batch 8 (49 ms a VPT-deep step).
 */
function repeatBatch(t: tf.Tensor3D, b: number): tf.Tensor3D {
  return b === 1
    ? t
    : tf.concat(
        Array.from({ length: b }, () => t),
        0,
      );
}

// ---- prompts and the token layout ----

/** Tokens before the patches: CLS plus any prompts. */
export function numPrefixTokens(promptLength: number): number {
  return 1 + promptLength;
}

/** How many prompt tokens the sequence carries under `opts` (0 without prompts). */
function promptLengthIn(w: ViTWeights, opts: ForwardOptions): number {
  return (opts.promptMode ?? 'none') === 'none' ? 0 : (w.prompts[0]?.shape[0] ?? 0);
}

/** The patch tokens of x [B, T, D]: [B, g², D], with CLS and the prompts stripped. */
export function patchTokens(x: tf.Tensor3D, promptLength: number): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const prefix = numPrefixTokens(promptLength);
  return tf.slice(x, [0, prefix, 0], [b, t - prefix, d]);
}

/**
 * The prompt tokens for `layer` as [B, P, D], with dropout when training. Dropout comes after the
 * prompts are repeated for the batch, so every image draws its own mask, as the reference's
 * `prompt_dropout(prompt.expand(B, -1, -1))` does (one mask for the whole batch would drop the
 * same prompt dimensions from every image of a step at once).
 */
function promptTokens(w: ViTWeights, layer: number, batch: number, opts: ForwardOptions): tf.Tensor3D {
  const prompts = w.prompts[layer];
  if (!prompts) throw new Error(`Prompt mode '${opts.promptMode}' needs prompts.${layer}, which the parameters lack.`);
  const tokens = repeatBatch(tf.expandDims(prompts, 0), batch); // [B, P, D]
  const rate = opts.training ? (opts.promptDropout ?? 0) : 0;
  return rate > 0 ? (tf.dropout(tokens, rate, undefined, (opts.dropoutSeed ?? 0) * 131 + layer) as tf.Tensor3D) : tokens;
}

/**
 * Prompt handling before `layer`: insert after CLS before layer 0, and in deep mode replace the
 * previous prompt outputs before every later layer (reference VPT semantics).
 */
function withPrompts(w: ViTWeights, layer: number, x: tf.Tensor3D, opts: ForwardOptions): tf.Tensor3D {
  const mode = opts.promptMode ?? 'none';
  if (mode === 'none' || (mode === 'shallow' && layer > 0)) return x;
  const prompts = promptTokens(w, layer, x.shape[0], opts); // [B, P, D]
  return spliceTokens(x, prompts, layer === 0 ? 0 : prompts.shape[1]); // [B, 1 + P + g², D]
}

/**
 * [CLS, prompts, patches] from x [B, T, D] whose first `before` tokens after CLS are the previous
 * layer's prompts (replaced) and prompts [B, P, D]: [B, 1 + P + T − 1 − before, D]. Saves nothing
 * for the backward pass (tfjs' Slice and Concat gradients keep their inputs for their shapes): dx
 * is dy at CLS and the patches and zero at the replaced prompts, dprompts is dy at the prompts.
 */
function spliceTokens(x: tf.Tensor3D, prompts: tf.Tensor3D, before: number): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const p = prompts.shape[1];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, pi] = args as tf.Tensor[];
    return {
      value: tf.concat([tf.slice(xi, [0, 0, 0], [b, 1, d]), pi, tf.slice(xi, [0, 1 + before, 0], [b, t - 1 - before, d])], 1),
      gradFunc: (dy: tf.Tensor) => {
        const [dCls, dPrompts, dPatches] = tf.split(dy, [1, p, t - 1 - before], 1); // [B, 1, D], [B, P, D], [B, g², D]
        const dx = before ? tf.concat([dCls, tf.zeros([b, before, d]), dPatches], 1) : tf.concat([dCls, dPatches], 1); // [B, T, D]
        return [dx, dPrompts];
      },
    };
  });
  return f(x, prompts) as tf.Tensor3D;
}

/** The weights of a block that train (tf.Variables): what a recomputed block differentiates. */
function trainingWeights(w: BlockWeights): tf.Variable[] {
  const all = [
    w.norm1.weight,
    w.norm1.bias,
    w.attn.qkv.weight,
    w.attn.qkv.bias,
    w.attn.proj.weight,
    w.attn.proj.bias,
    w.norm2.weight,
    w.norm2.bias,
    w.mlp.fc1.weight,
    w.mlp.fc1.bias,
    w.mlp.fc2.weight,
    w.mlp.fc2.bias,
  ];
  return all.filter(trains) as tf.Variable[];
}

/**
 * Tokens entering block `upTo` (exclusive), prompts handled: [B, T', D]. Each block, its prompt
 * splice included, runs in its own scope, so what its backward pass does not keep is freed as soon
 * as the block is done (not at the end of the whole forward pass); with `recompute` it keeps only
 * its input. A block's input is disposed once the next block has it: what a gradient needs of it
 * is saved (a kept copy sharing its buffer), and scopes would otherwise hold every layer's input
 * and output, two [B, T', D] per layer, until the caller's scope ends.
 */
function runBlocks(m: ViT, w: ViTWeights, pixels: tf.Tensor4D, upTo: number, opts: ForwardOptions): tf.Tensor3D {
  let x = embed(m.kernels, w, m.cfg, pixels); // [B, 1 + g², D]
  for (let i = 0; i < upTo; i++) {
    const prev = x;
    const run = (t: tf.Tensor3D) => block(m.kernels, w.blocks[i], t);
    x = tf.tidy(() => {
      const input = withPrompts(w, i, prev, opts); // [B, T', D]
      return opts.recompute ? recomputed(run, input, trainingWeights(w.blocks[i])) : run(input);
    }); // [B, T', D]
    prev.dispose();
  }
  return x;
}

/**
 * The token sequence around every block, for the analyses of what tuning changed: `inputs[i]` is
 * what enters block i (prompts in place, [B, T', D]); `outputs[i]` is what leaves it. `embedded`
 * is the patch embedding with CLS and positions ([B, 1 + g², D]), before any prompt.
 */
export function traceBlocks(m: ViT, pixels: tf.Tensor4D, opts: ForwardOptions = {}): { embedded: tf.Tensor3D; inputs: tf.Tensor3D[]; outputs: tf.Tensor3D[] } {
  const w = weightsOf(m.params, m.cfg);
  const embedded = embed(m.kernels, w, m.cfg, pixels);
  const inputs: tf.Tensor3D[] = [],
    outputs: tf.Tensor3D[] = [];
  let x = embedded;
  for (let i = 0; i < m.cfg.numLayers; i++) {
    inputs.push(withPrompts(w, i, x, opts));
    x = block(m.kernels, w.blocks[i], inputs[i]);
    outputs.push(x);
  }
  return { embedded, inputs, outputs };
}

/** x [B, T', D] without its prompt tokens: CLS then the patches, [B, 1 + g², D]. */
export function withoutPrompts(x: tf.Tensor3D, promptLength: number): tf.Tensor3D {
  if (!promptLength) return x;
  const [b, , d] = x.shape;
  return tf.concat([tf.slice(x, [0, 0, 0], [b, 1, d]), patchTokens(x, promptLength)], 1);
}

// ---- the model ----

/** Final-norm token features [B, T', D] (the hub's last_hidden_state). */
export function forwardFeatures(m: ViT, pixels: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor3D {
  const w = weightsOf(m.params, m.cfg);
  return norm(m.kernels, w.norm, runBlocks(m, w, pixels, m.cfg.numLayers, opts));
}

/** CLS token of the final-norm features: [B, D]. */
export function clsFeatures(features: tf.Tensor3D): tf.Tensor2D {
  const [b, , d] = features.shape;
  return tf.reshape(tf.slice(features, [0, 0, 0], [b, 1, d]), [b, d]);
}

/**
 * What the head reads: the CLS token of the final-norm features, pixels [B, C, S, S] -> [B, D].
 * The first of `forward`'s two pieces; a step that trains only the head runs it off the gradient
 * tape (nothing before the head needs a gradient, so no backbone activation need be kept).
 */
export function pooledFeatures(m: ViT, pixels: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  return clsFeatures(forwardFeatures(m, pixels, opts));
}

/** The linear head, `forward`'s second piece: pooled features [B, D] -> logits [B, K]. */
export function classify(m: ViT, pooled: tf.Tensor2D): tf.Tensor2D {
  const h = headOf(m.params);
  return m.kernels.linear(pooled, h.weight, h.bias);
}

/** Logits [B, K]: the head on the pooled features. */
export function forward(m: ViT, pixels: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  return classify(m, pooledFeatures(m, pixels, opts));
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
export function gradCam(m: ViT, pixels: tf.Tensor4D, targets: tf.Tensor1D, opts: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const evalOpts: ForwardOptions = { ...opts, training: false };
    const k = m.kernels,
      w = weightsOf(m.params, m.cfg);
    const last = m.cfg.numLayers - 1;
    const x = withPrompts(w, last, runBlocks(m, w, pixels, last, evalOpts), evalOpts); // [B, T', D]
    const activations = norm(k, w.blocks[last].norm1, x); // [B, T', D]
    const targetOneHot = tf.oneHot(tf.cast(targets, 'int32'), headOf(m.params).bias.shape[0]); // [B, K]
    const grad = tf.grad((a: tf.Tensor) => {
      const features = norm(k, w.norm, block(k, w.blocks[last], x, a as tf.Tensor3D)); // [B, T', D]
      return tf.sum(tf.mul(classify(m, clsFeatures(features)), targetOneHot)); // samples are independent: one backward for all
    })(activations); // [B, T', D]
    return camFromGradients(activations, grad as tf.Tensor3D, promptLengthIn(w, evalOpts), gridSize(m.cfg));
  });
}

/**
 * Grad-CAM's map from activations A and their gradients G, [B, T, D] with CLS and `promptLength`
 * prompts before the g² patch tokens: channel weights w = the mean gradient over patch positions,
 * cam = relu(Σ_c w_c·A_c) per patch, then per sample (cam − min) / (max − min + 1e-7). [B, g, g].
 */
export function camFromGradients(activations: tf.Tensor3D, grads: tf.Tensor3D, promptLength: number, grid: number): tf.Tensor3D {
  return tf.tidy(() => {
    const patchesA = patchTokens(activations, promptLength); // [B, g², D]
    const patchesG = patchTokens(grads, promptLength); // [B, g², D]
    const channelWeights = tf.mean(patchesG, 1, true); // [B, 1, D]
    const cam = tf.relu(tf.sum(tf.mul(patchesA, channelWeights), -1)); // [B, g²]
    const lo = tf.min(cam, -1, true),
      hi = tf.max(cam, -1, true);
    const normed = tf.div(tf.sub(cam, lo), tf.add(tf.sub(hi, lo), 1e-7)); // [B, g²] in [0, 1]
    return tf.reshape(normed, [patchesA.shape[0], grid, grid]);
  });
}

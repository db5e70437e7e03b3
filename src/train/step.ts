/**
 * One training step, the only one in the lab: the trainer, the pretraining CLI and the benchmark
 * all call `trainStep`, so what the benchmark measures is what the lab runs.
 *
 * What trains is what the model holds as trainable tf.Variables (see model/ops.ts `trains`); the
 * step differentiates the loss with respect to exactly those, sums the gradients of the batch's
 * micro-batches, optionally clips their global norm, and hands them to the optimizer.
 *
 * The gradients come from `variableGradsOf` (model/gradients.ts): tfjs' own gradient functions,
 * with each node's saved tensors and its outputs' gradients freed as soon as the backward pass is
 * done with them, as PyTorch's autograd frees them (tfjs keeps both until the pass ends).
 *
 * When only the head trains (a linear probe), nothing before it needs a gradient: the pooled
 * features are computed off the gradient tape and only the head and the loss are recorded. tfjs
 * keeps every recorded kernel's saved tensors until the gradient ends, so on the tape the frozen
 * backbone's activations would be held for a backward pass that never reaches them.
 */
import * as tf from '@tensorflow/tfjs';
import { variableGradsOf } from '../model/gradients';
import { trains } from '../model/ops';
import { classify, crossEntropy, pooledFeatures, type ForwardOptions, type PromptMode, type ViT } from '../model/vit';
import type { Batch } from '../data/trainData';
import type { Optimizer } from './optimizer';

/** What a step takes from the method's phase: where the prompts go and their dropout. */
export interface StepPhase {
  promptMode: PromptMode;
  promptDropout: number;
}

export interface StepOptions {
  /** This step's learning rate. */
  lr: number;
  /** Seed of this step's dropout masks; micro-batch `a` uses `seed + a`. */
  seed: number;
  /** Images per forward/backward pass; the passes' gradients are summed (default: the whole batch). */
  microBatch?: number;
  /** Clip the gradients' global L2 norm to this (default: no clipping). */
  clipNorm?: number;
  /** Recompute each block's activations in the backward pass instead of keeping them (memory plan). */
  recompute?: boolean;
  /**
   * Several classification heads on one linear layer (the scene pretraining objective): classes per
   * head, in order. Then `batch.labels` holds `heads.length` labels per image ([size, H] row-major,
   * -1 = no label for that head), the loss is the sum of the heads' mean cross-entropies, and
   * `correct` counts the first head's hits.
   */
  heads?: readonly number[];
}

/** The step's mean loss and its number of correct predictions; the caller reads and disposes them. */
export interface StepResult {
  loss: tf.Scalar;
  correct: tf.Scalar;
}

/** The model's trainable variables by parameter name. */
export function trainableVariables(params: Record<string, tf.Tensor>): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [n, t] of Object.entries(params)) if (trains(t)) out[n] = t as tf.Variable;
  return out;
}

/** Whether only the head's weights train: nothing before the head needs a gradient. */
export function trainsOnlyHead(vars: Record<string, tf.Variable>): boolean {
  return Object.keys(vars).every((n) => n.startsWith('head.'));
}

/** Images [first, first + count) of a batch, as views (no copy). */
function slice(batch: Batch, first: number, count: number): Batch {
  const plane = batch.pixels.length / batch.size;
  const perImage = batch.labels.length / batch.size;
  return {
    pixels: batch.pixels.subarray(first * plane, (first + count) * plane),
    labels: batch.labels.subarray(first * perImage, (first + count) * perImage),
    size: count,
  };
}

/**
 * Sum over heads of each head's mean cross-entropy on its own logits, skipping images labelled -1
 * for that head; and the first head's correct predictions. logits [b, ΣK], labels [b, H].
 */
function multiHeadLoss(logits: tf.Tensor2D, labels: tf.Tensor2D, heads: readonly number[]): { loss: tf.Scalar; correct: tf.Scalar } {
  let offset = 0;
  const losses: tf.Scalar[] = [];
  let correct: tf.Scalar | null = null;
  heads.forEach((k, h) => {
    const part = tf.slice(logits, [0, offset], [-1, k]); // [b, k]
    offset += k;
    const y = tf.reshape(tf.slice(labels, [0, h], [-1, 1]), [-1]) as tf.Tensor1D; // [b]
    const onehot = tf.oneHot(y, k); // [b, k]; all zeros where y = -1
    const valid = tf.sum(onehot);
    losses.push(tf.div(tf.neg(tf.sum(tf.mul(tf.logSoftmax(part, -1), onehot))), tf.maximum(valid, 1)) as tf.Scalar);
    if (h === 0) correct = tf.sum(tf.cast(tf.equal(tf.argMax(part, -1), y), 'float32')) as tf.Scalar;
  });
  return { loss: tf.addN(losses) as tf.Scalar, correct: correct! };
}

/** Loss (scaled by `weight`), gradients by parameter name, and correct predictions of one pass. */
function gradients(
  model: ViT,
  vars: Record<string, tf.Variable>,
  part: Batch,
  phase: StepPhase,
  seed: number,
  weight: number,
  recompute: boolean,
  heads: readonly number[] | undefined,
) {
  const { cfg } = model;
  return tf.tidy(() => {
    const x = tf.tensor4d(part.pixels, [part.size, cfg.channels, cfg.imageSize, cfg.imageSize]); // [b, C, S, S]
    if (heads) {
      const labels = tf.tensor2d(part.labels, [part.size, heads.length], 'int32'); // [b, H]
      let correct: tf.Scalar | null = null;
      const opts: ForwardOptions = { promptMode: phase.promptMode, training: true, promptDropout: phase.promptDropout, dropoutSeed: seed, recompute };
      const r = variableGradsOf(() => {
        const out = multiHeadLoss(classify(model, pooledFeatures(model, x, opts)), labels, heads);
        correct = tf.keep(out.correct);
        return tf.mul(out.loss, weight) as tf.Scalar;
      }, Object.values(vars));
      const grads: Record<string, tf.Tensor> = {};
      for (const [n, v] of Object.entries(vars)) grads[n] = r.grads[v.name];
      return { loss: r.value, grads, correct: correct! as tf.Scalar };
    }
    const y = tf.tensor1d(part.labels, 'int32'); // [b]
    const opts: ForwardOptions = { promptMode: phase.promptMode, training: true, promptDropout: phase.promptDropout, dropoutSeed: seed, recompute };
    // Only the head trains: the backbone runs before the tape starts, its activations freed as it goes.
    const frozen = trainsOnlyHead(vars) ? tf.tidy(() => pooledFeatures(model, x, { ...opts, recompute: false })) : null; // [b, D]
    let logits: tf.Tensor2D | null = null;
    const r = variableGradsOf(() => {
      logits = tf.keep(classify(model, frozen ?? pooledFeatures(model, x, opts))); // [b, K]
      return tf.mul(crossEntropy(logits, y), weight) as tf.Scalar;
    }, Object.values(vars));
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits!, -1), y), 'float32')) as tf.Scalar;
    tf.dispose(logits!);
    const grads: Record<string, tf.Tensor> = {};
    for (const [n, v] of Object.entries(vars)) grads[n] = r.grads[v.name];
    return { loss: r.value, grads, correct };
  });
}

/**
 * The sum of many tensors of one shape, in groups of at most 7: tfjs' WebGPU AddN binds one storage
 * buffer per input and does not split, and WebGPU guarantees 8 per shader stage (one is the
 * output); with more, its pipeline is invalid and the sum silently wrong.
 */
export function addMany(ts: tf.Tensor[]): tf.Tensor {
  const GROUP = 7;
  return tf.tidy(() => {
    let level = ts;
    while (level.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < level.length; i += GROUP) {
        const group = level.slice(i, i + GROUP);
        next.push(group.length === 1 ? group[0]! : tf.addN(group));
      }
      level = next;
    }
    return level[0]!;
  });
}

/**
 * Scale every gradient so that their global L2 norm is at most `max` (no read-back to the host).
 * Consumes `grads`: each is disposed as soon as its scaled copy exists, so one gradient, not all of
 * them, exists twice.
 */
function clipGlobalNorm(grads: Record<string, tf.Tensor>, max: number): Record<string, tf.Tensor> {
  const names = Object.keys(grads);
  const scale = tf.tidy(() => {
    const sq = addMany(names.map((n) => tf.sum(tf.square(grads[n]))));
    return tf.minimum(1, tf.div(max, tf.add(tf.sqrt(sq), 1e-6)));
  });
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) {
    out[n] = tf.mul(grads[n], scale);
    grads[n].dispose();
  }
  scale.dispose();
  return out;
}

/** One optimizer update of `model`'s trainable variables on `batch`. */
export function trainStep(model: ViT, batch: Batch, phase: StepPhase, optimizer: Optimizer, o: StepOptions): StepResult {
  const vars = trainableVariables(model.params);
  const micro = Math.max(1, Math.min(o.microBatch ?? batch.size, batch.size));
  let sum: ReturnType<typeof gradients> | null = null;
  for (let a = 0, first = 0; first < batch.size; a++, first += micro) {
    const count = Math.min(micro, batch.size - first);
    const pass = gradients(model, vars, slice(batch, first, count), phase, o.seed + a, count / batch.size, o.recompute ?? false, o.heads);
    if (!sum) {
      sum = pass;
      continue;
    }
    const prev: ReturnType<typeof gradients> = sum;
    // One parameter at a time, each addend freed as soon as it is summed: the running sum and this
    // pass's gradients, not a third copy of every gradient beside them.
    const grads: Record<string, tf.Tensor> = {};
    for (const n of Object.keys(vars)) {
      grads[n] = tf.add(prev.grads[n], pass.grads[n]);
      tf.dispose([prev.grads[n], pass.grads[n]]);
    }
    sum = { loss: tf.add(prev.loss, pass.loss) as tf.Scalar, correct: tf.add(prev.correct, pass.correct) as tf.Scalar, grads };
    tf.dispose([prev.loss, prev.correct, pass.loss, pass.correct]);
  }
  let grads = sum!.grads;
  if (o.clipNorm && o.clipNorm > 0) grads = clipGlobalNorm(grads, o.clipNorm);
  optimizer.apply(vars, grads, o.lr);
  tf.dispose(Object.values(grads));
  return { loss: sum!.loss, correct: sum!.correct };
}

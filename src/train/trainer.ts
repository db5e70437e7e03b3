/**
 * The epoch loop: one run of one method on one task. Host-agnostic (worker, Node, tests): it
 * takes parameters, data and callbacks, and reports everything through `emit`.
 *
 * Memory discipline: every step runs in tf.tidy or disposes explicitly; trainable parameters and
 * optimizer slots are variables that are assigned in place, so the live tensor count is the same
 * after step 2 and after step 50 (tested).
 */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from '../model/config';
import type { ParamSet } from '../model/params';
import { initHead, initPrompts, toCanonicalTensor, toComputeTensor } from '../model/params';
import type { ForwardOptions } from '../model/vit';
import { crossEntropy, forward, gradCam } from '../model/vit';
import { LabError } from '../errors';
import type { EpochMetrics, GradCamSample, ResumeState, TestResult } from '../worker/protocol';
import type { HostTensor } from '../weights/types';
import { parseSafetensors, writeSafetensors } from '../weights/formats/safetensors';
import { readAll } from '../weights/formats/archive';
import type { MethodSpec, Phase } from './methods';
import { effectiveLr, promptLayers, scheduledLr } from './methods';
import { Optimizer } from './optimizer';
import type { Batch, TrainData } from './data';
import { mulberry32, permutation } from '../data/rng';

export interface Hyper {
  epochs: number;
  batchSize: number;
  /** Micro-batch for gradient accumulation; default = batchSize. */
  microBatch?: number;
  /** Overrides of the method's recipe. */
  lr?: number;
  weightDecay?: number;
  promptLength: number;
  seed: number;
  /** Read the loss back every this many steps (a GPU→CPU sync). */
  lossEvery?: number;
}

export type TrainerEvent =
  | { type: 'step'; epoch: number; phase: number; step: number; stepsPerEpoch: number; loss: number; imagesPerSec: number }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'gradcam'; epoch: number; samples: GradCamSample[] }
  | { type: 'checkpoint'; state: ResumeState }
  | { type: 'notice'; message: string };

/** Pause/cancel from outside, checked between steps. */
export class RunControl {
  private paused = false;
  private wake: (() => void) | null = null;
  cancelled = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
    this.wake = null;
  }
  cancel(): void {
    this.cancelled = true;
    this.resume();
  }
  /** Between steps: yield to the event loop (so commands arrive), wait while paused. */
  async checkpoint(): Promise<void> {
    await yieldToEventLoop();
    while (this.paused && !this.cancelled) await new Promise<void>((r) => (this.wake = r));
    if (this.cancelled) throw new LabError('run/cancelled', 'The run was cancelled.');
  }
}

export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel !== 'undefined') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => r();
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

export interface TrainOptions {
  cfg: ViTConfig;
  /** Pretrained parameters (compute layout). Never modified or disposed by the trainer. */
  backbone: ParamSet;
  method: MethodSpec;
  data: TrainData;
  hyper: Hyper;
  /** Fixed test images for Grad-CAM each epoch (indices into the test split). */
  gradcamIndices?: number[];
  control?: RunControl;
  emit?: (e: TrainerEvent) => void;
  resume?: ResumeState;
  /** Test hook: throw this from the given step to exercise recovery. */
  faultAt?: { step: number; error: Error };
  /**
   * Trained parameters imported from an earlier run (canonical names, compute layout): prompts
   * and head for VPT, every weight for FT. They replace the fresh head/prompts (and any backbone
   * weight they name) of the last phase, so a run can continue, or with 0 epochs only evaluate.
   */
  initial?: ParamSet;
}

export interface TrainOutcome {
  epochs: EpochMetrics[];
  test: TestResult;
  trainableParams: number;
  totalParams: number;
  /** The trained parameters (compute layout); the caller owns and disposes them. */
  params: ParamSet;
  /** Names that trained in the last phase. */
  trainable: string[];
}

const sizeOf = (t: tf.Tensor) => t.size;
let variableCounter = 0;

/** Count parameters a method trains and holds, without building anything. */
export function countParams(cfg: ViTConfig, backbone: ParamSet, method: MethodSpec, numClasses: number, promptLength: number): { trainable: number; total: number } {
  const last = method.phases[method.phases.length - 1];
  const names = new Set<string>();
  let total = 0, trainable = 0;
  const consider = (name: string, size: number) => {
    if (names.has(name)) return;
    names.add(name);
    total += size;
    if (method.phases.some((p: Phase) => p.trains(name))) trainable += size;
  };
  for (const [n, t] of Object.entries(backbone)) if (!n.startsWith('head.') && !n.startsWith('pre_logits.') && !n.startsWith('prompts.')) consider(n, sizeOf(t));
  consider('head.weight', cfg.hiddenSize * numClasses);
  consider('head.bias', numClasses);
  for (let i = 0; i < promptLayers(last.promptMode, cfg.numLayers); i++) consider(`prompts.${i}`, promptLength * cfg.hiddenSize);
  return { trainable, total };
}

function isOutOfMemory(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /out of memory|\boom\b|failed to allocate|allocation failed|exceeds.*max.*buffer|OutOfMemory/i.test(m);
}

export function isDeviceLost(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /device (was )?lost|context lost|GPUDevice.*lost/i.test(m);
}

/** Run every phase of the method; returns the trained model and the test result. */
export async function train(o: TrainOptions): Promise<TrainOutcome> {
  const { cfg, method, data, hyper } = o;
  const emit = o.emit ?? (() => {});
  const control = o.control ?? new RunControl();
  const numClasses = data.numClasses;
  const counts = countParams(cfg, o.backbone, method, numClasses, hyper.promptLength);
  const epochsPerPhase = hyper.epochs;
  const allEpochs: EpochMetrics[] = o.resume ? [...o.resume.epochs] : [];
  let resumeTensors = o.resume ? readAll(parseSafetensors(new Uint8Array(o.resume.checkpoint), 'resume checkpoint')) : null;

  // Current model: starts as the pretrained backbone (shared, not owned), without its head.
  let model: ParamSet = {};
  for (const [n, t] of Object.entries(o.backbone)) if (!n.startsWith('head.') && !n.startsWith('prompts.')) model[n] = t;
  const owned = new Set<tf.Tensor>();
  let trainableNames: string[] = [];

  for (let phaseIndex = 0; phaseIndex < method.phases.length; phaseIndex++) {
    const phase = method.phases[phaseIndex];
    const firstEpoch = phaseIndex * epochsPerPhase;
    const lastEpoch = firstEpoch + epochsPerPhase; // exclusive
    const epochsDone = o.resume?.epochsDone ?? 0;
    if (epochsDone >= lastEpoch && phaseIndex < method.phases.length - 1) {
      // The whole phase finished before the interruption; its weights are in the checkpoint.
      model = restorePhase(model, resumeTensors, cfg, owned, (n) => phase.trains(n));
      continue;
    }

    // Fresh head and prompts for the phase, seeded.
    const seedBase = hyper.seed * 1000 + phaseIndex * 100;
    if (phase.freshHead) {
      replace(model, initHead(cfg, numClasses, seedBase + 1), owned);
    }
    for (const k of Object.keys(model)) if (k.startsWith('prompts.') && phase.promptMode === 'none') delete model[k];
    const layers = promptLayers(phase.promptMode, cfg.numLayers);
    if (phase.freshPrompts && layers > 0) replace(model, initPrompts(cfg, hyper.promptLength, layers, seedBase + 2), owned);
    if (o.initial && phaseIndex === method.phases.length - 1) {
      const imported: ParamSet = {};
      for (const [n, t] of Object.entries(o.initial)) {
        if (model[n] && model[n].shape.join() !== t.shape.join()) {
          throw new LabError('checkpoint/shape-mismatch', `Imported parameter ${n} is [${t.shape}] but this run expects [${model[n].shape}].`, 'Import parameters trained with the same model, task (classes) and prompt length.');
        }
        imported[n] = tf.clone(t);
      }
      replace(model, imported, owned);
    }

    // Resume: overwrite with the checkpointed values of this phase.
    if (resumeTensors && epochsDone > firstEpoch) {
      model = restorePhase(model, resumeTensors, cfg, owned, (n) => phase.trains(n) || n.startsWith('prompts.') || n.startsWith('head.'));
    }

    trainableNames = Object.keys(model).filter((n) => phase.trains(n)).sort();
    const vars: Record<string, tf.Variable> = {};
    for (const n of trainableNames) {
      vars[n] = tf.variable(model[n], true, `train_${phaseIndex}_${n}_${(variableCounter++).toString(36)}`);
      if (owned.has(model[n])) {
        model[n].dispose();
        owned.delete(model[n]);
      }
      model[n] = vars[n];
      owned.add(vars[n]);
    }
    const recipe = { ...phase.recipe, baseLr: hyper.lr ?? phase.recipe.baseLr, weightDecay: hyper.weightDecay ?? phase.recipe.weightDecay };
    const optimizer = new Optimizer({ kind: recipe.optimizer, weightDecay: recipe.weightDecay, momentum: recipe.momentum });
    if (resumeTensors && epochsDone > firstEpoch) restoreSlots(optimizer, resumeTensors, vars, epochsDone - firstEpoch, data.train.size, hyper.batchSize);
    const needsGrad = (n: string) => n in vars;
    const fwdTrain = (stepSeed: number): ForwardOptions => ({ promptMode: phase.promptMode, training: true, promptDropout: phase.promptDropout, dropoutSeed: stepSeed, needsGrad });
    const fwdEval: ForwardOptions = { promptMode: phase.promptMode, training: false };

    const batchSize = Math.min(hyper.batchSize, data.train.size);
    let microBatch = Math.min(hyper.microBatch ?? batchSize, batchSize);
    const stepsPerEpoch = Math.max(1, Math.floor(data.train.size / batchSize));
    const totalSteps = stepsPerEpoch * epochsPerPhase;
    const peakLr = effectiveLr(recipe.baseLr, batchSize);
    const lossEvery = hyper.lossEvery ?? 1;

    let epoch = Math.max(firstEpoch, epochsDone);
    let hostSnapshot = snapshot(vars, optimizer);
    while (epoch < lastEpoch) {
      const t0 = performance.now();
      const order = permutation(data.train.size, mulberry32(hyper.seed * 7919 + epoch));
      let lossSum = 0, correct = 0, seen = 0, lossReads = 0;
      let stepLr = 0;
      try {
        for (let s = 0; s < stepsPerEpoch; s++) {
          await control.checkpoint();
          const globalStep = (epoch - firstEpoch) * stepsPerEpoch + s;
          if (o.faultAt && o.faultAt.step === globalStep + firstEpoch * stepsPerEpoch) {
            const e = o.faultAt.error;
            o.faultAt = undefined;
            throw e;
          }
          const stepT0 = performance.now();
          const indices = order.slice(s * batchSize, (s + 1) * batchSize);
          stepLr = scheduledLr(peakLr, globalStep, totalSteps, recipe.warmupFraction);
          const accum = Math.ceil(indices.length / microBatch);
          let gradSum: Record<string, tf.Tensor> | null = null;
          let lossT: tf.Tensor | null = null;
          let correctT: tf.Tensor | null = null;
          for (let a = 0; a < accum; a++) {
            const part = indices.slice(a * microBatch, (a + 1) * microBatch);
            const batch = await data.train.batch(part);
            const weight = part.length / indices.length;
            const { loss, grads, nCorrect } = tf.tidy(() => {
              const x = tf.tensor4d(batch.pixels, [batch.size, cfg.channels, cfg.imageSize, cfg.imageSize]);
              const y = tf.tensor1d(batch.labels, 'int32');
              let logitsKept: tf.Tensor | null = null;
              const r = tf.variableGrads(() => {
                const logits = forward(model, cfg, x, fwdTrain(hyper.seed * 1_000_003 + globalStep * 31 + a));
                logitsKept = tf.keep(logits);
                return tf.mul(crossEntropy(logits, y), weight) as tf.Scalar;
              }, Object.values(vars));
              const nc = tf.sum(tf.cast(tf.equal(tf.argMax(logitsKept!, -1), y), 'float32'));
              tf.dispose(logitsKept!);
              const byName: Record<string, tf.Tensor> = {};
              for (const n of trainableNames) byName[n] = r.grads[vars[n].name];
              return { loss: r.value, grads: byName, nCorrect: nc };
            });
            if (!gradSum) {
              gradSum = grads;
              lossT = loss;
              correctT = nCorrect;
            } else {
              const prev: Record<string, tf.Tensor> = gradSum;
              gradSum = tf.tidy(() => {
                const out: Record<string, tf.Tensor> = {};
                for (const n of trainableNames) out[n] = tf.add(prev[n], grads[n]);
                return out;
              });
              tf.dispose([...Object.values(prev), ...Object.values(grads)]);
              const l2: tf.Tensor = tf.add(lossT!, loss);
              const c2: tf.Tensor = tf.add(correctT!, nCorrect);
              tf.dispose([lossT!, loss, correctT!, nCorrect]);
              lossT = l2;
              correctT = c2;
            }
          }
          optimizer.apply(vars, gradSum!, stepLr);
          tf.dispose(Object.values(gradSum!));
          if (s % lossEvery === 0 || s === stepsPerEpoch - 1) {
            // Loss and accuracy of the steps that are read back (every step by default).
            const [l, c] = await Promise.all([lossT!.data(), correctT!.data()]);
            lossSum += l[0];
            lossReads++;
            correct += c[0];
            seen += indices.length;
            const dt = (performance.now() - stepT0) / 1000;
            emit({ type: 'step', epoch: epoch + 1, phase: phaseIndex + 1, step: s + 1, stepsPerEpoch, loss: l[0], imagesPerSec: indices.length / Math.max(dt, 1e-6) });
          }
          tf.dispose([lossT!, correctT!]);
        }
      } catch (err) {
        if (err instanceof LabError && err.code === 'run/cancelled') {
          disposeAll(owned, optimizer);
          throw err;
        }
        if (isOutOfMemory(err) && microBatch > 1) {
          microBatch = Math.max(1, Math.floor(microBatch / 2));
          restoreSnapshot(hostSnapshot, vars, optimizer);
          emit({ type: 'notice', message: `Out of memory at micro-batch ${microBatch * 2}: halved the micro-batch to ${microBatch} (the effective batch stays ${batchSize} through gradient accumulation) and restarted epoch ${epoch + 1} from its beginning.` });
          continue;
        }
        disposeAll(owned, optimizer);
        throw err;
      }

      const valAcc = await accuracy(model, cfg, data.val, fwdEval, hyper.batchSize);
      const mem = tf.memory();
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        phase: phaseIndex + 1,
        trainLoss: lossSum / Math.max(1, lossReads),
        trainAcc: (100 * correct) / Math.max(1, seen),
        valAcc,
        seconds: (performance.now() - t0) / 1000,
        lr: stepLr,
        numTensors: mem.numTensors,
        numBytes: mem.numBytes,
      };
      allEpochs.push(metrics);
      emit({ type: 'epoch', metrics });
      if (o.gradcamIndices?.length) emit({ type: 'gradcam', epoch: epoch + 1, samples: await gradCamSamples(model, cfg, data, o.gradcamIndices, fwdEval) });
      hostSnapshot = snapshot(vars, optimizer);
      emit({ type: 'checkpoint', state: { epochsDone: epoch + 1, checkpoint: await checkpointBytes(model, cfg, optimizer, hostSnapshot), epochs: [...allEpochs] } });
      epoch++;
    }
    optimizer.dispose();
    resumeTensors = resumeTensors && epochsDone > lastEpoch ? resumeTensors : null;

    // Freeze what trained: the next phase (or the caller) sees plain tensors.
    for (const n of trainableNames) {
      const frozen = tf.clone(vars[n]);
      owned.delete(vars[n]);
      vars[n].dispose();
      model[n] = frozen;
      owned.add(frozen);
    }
  }

  const last = method.phases[method.phases.length - 1];
  const test = await evaluate(model, cfg, data.test, { promptMode: last.promptMode, training: false }, hyper.batchSize, numClasses);
  // Hand the trained model over: backbone tensors stay the caller's, owned ones move out.
  return { epochs: allEpochs, test, trainableParams: counts.trainable, totalParams: counts.total, params: model, trainable: trainableNames };
}

function replace(model: ParamSet, fresh: ParamSet, owned: Set<tf.Tensor>): void {
  for (const [n, t] of Object.entries(fresh)) {
    const old = model[n];
    if (old && owned.has(old)) {
      old.dispose();
      owned.delete(old);
    }
    model[n] = t;
    owned.add(t);
  }
}

function disposeAll(owned: Set<tf.Tensor>, optimizer: Optimizer): void {
  for (const t of owned) t.dispose();
  owned.clear();
  optimizer.dispose();
}

interface HostSnapshot {
  params: Map<string, Float32Array>;
  slots: Map<string, Float32Array[]>;
  step: number;
}

/** Host copy of trainable values and optimizer slots: the state to return to after a fault. */
function snapshot(vars: Record<string, tf.Variable>, optimizer: Optimizer): HostSnapshot {
  const params = new Map<string, Float32Array>();
  for (const [n, v] of Object.entries(vars)) params.set(n, v.dataSync() as Float32Array);
  const slots = new Map<string, Float32Array[]>();
  for (const [n, s] of optimizer.slots) slots.set(n, s.map((v) => v.dataSync() as Float32Array));
  return { params, slots, step: optimizer.step };
}

function restoreSnapshot(s: HostSnapshot, vars: Record<string, tf.Variable>, optimizer: Optimizer): void {
  for (const [n, v] of Object.entries(vars)) tf.tidy(() => v.assign(tf.tensor(s.params.get(n)!, v.shape)));
  for (const [n, slots] of optimizer.slots) {
    const host = s.slots.get(n);
    slots.forEach((v, i) => tf.tidy(() => v.assign(host ? tf.tensor(host[i], v.shape) : tf.zerosLike(v))));
  }
  optimizer.step = s.step;
}

/**
 * The trainable parameters (canonical timm layout) and optimizer slots as safetensors bytes:
 * what an interrupted run resumes from.
 */
async function checkpointBytes(model: ParamSet, cfg: ViTConfig, optimizer: Optimizer, snap: HostSnapshot): Promise<ArrayBuffer> {
  const tensors = new Map<string, HostTensor>();
  for (const n of snap.params.keys()) {
    const c = toCanonicalTensor(n, model[n], cfg);
    tensors.set(n, { shape: c.shape.slice(), data: (await c.data()) as Float32Array });
    c.dispose();
  }
  for (const [n, slots] of optimizer.slots) slots.forEach((v, i) => tensors.set(`optimizer.${n}.${i}`, { shape: v.shape.slice(), data: snap.slots.get(n)![i] }));
  const bytes = writeSafetensors(tensors, { optimizer_step: String(snap.step) });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function restorePhase(model: ParamSet, saved: Map<string, HostTensor> | null, _cfg: ViTConfig, owned: Set<tf.Tensor>, want: (n: string) => boolean): ParamSet {
  if (!saved) return model;
  const fresh: ParamSet = {};
  for (const [n, t] of saved) if (!n.startsWith('optimizer.') && want(n)) fresh[n] = toComputeTensor(n, t);
  replace(model, fresh, owned);
  return model;
}

function restoreSlots(optimizer: Optimizer, saved: Map<string, HostTensor>, vars: Record<string, tf.Variable>, epochsIntoPhase: number, trainSize: number, batchSize: number): void {
  for (const n of Object.keys(vars)) {
    const slots: tf.Variable[] = [];
    for (let i = 0; saved.has(`optimizer.${n}.${i}`); i++) {
      // Slots are saved in compute layout (their own shapes), not the canonical one.
      const t = saved.get(`optimizer.${n}.${i}`)!;
      slots.push(tf.tidy(() => tf.variable(tf.tensor(t.data, t.shape), false)));
    }
    if (slots.length) optimizer.slots.set(n, slots);
  }
  optimizer.step = epochsIntoPhase * Math.max(1, Math.floor(trainSize / batchSize));
}

/** Top-1 accuracy in percent over a split. */
export async function accuracy(model: ParamSet, cfg: ViTConfig, split: TrainData['val'], opts: ForwardOptions, batchSize: number): Promise<number> {
  if (split.size === 0) return NaN;
  let correct = 0;
  for (let s = 0; s < split.size; s += batchSize) {
    const idx = range(s, Math.min(split.size, s + batchSize));
    const batch = await split.batch(idx);
    const c = tf.tidy(() => {
      const logits = forward(model, cfg, toPixels(batch, cfg), opts);
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.tensor1d(batch.labels, 'int32')), 'int32'));
    });
    correct += (await c.data())[0];
    c.dispose();
  }
  return (100 * correct) / split.size;
}

/** Test accuracy with per-class accuracy and the confusion matrix. */
export async function evaluate(model: ParamSet, cfg: ViTConfig, split: TrainData['test'], opts: ForwardOptions, batchSize: number, numClasses: number): Promise<TestResult> {
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let s = 0; s < split.size; s += batchSize) {
    const batch = await split.batch(range(s, Math.min(split.size, s + batchSize)));
    const pred = tf.tidy(() => tf.argMax(forward(model, cfg, toPixels(batch, cfg), opts), -1));
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < batch.size; i++) confusion[batch.labels[i]][p[i]]++;
  }
  const perClassAcc = confusion.map((row, c) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? (100 * row[c]) / n : NaN;
  });
  const correct = confusion.reduce((a, row, c) => a + row[c], 0);
  return { testAcc: split.size ? (100 * correct) / split.size : NaN, perClassAcc, confusion, numTest: split.size };
}

async function gradCamSamples(model: ParamSet, cfg: ViTConfig, data: TrainData, indices: number[], opts: ForwardOptions): Promise<GradCamSample[]> {
  const idx = indices.filter((i) => i < data.test.size);
  if (!idx.length) return [];
  const batch = await data.test.batch(idx);
  const { cams, preds } = tf.tidy(() => {
    const x = toPixels(batch, cfg);
    const pred = tf.argMax(forward(model, cfg, x, opts), -1);
    // Target: the true label, as the fixtures define Grad-CAM; the prediction is reported beside it.
    const cam = gradCam(model, cfg, x, tf.tensor1d(batch.labels, 'int32'), opts);
    return { cams: cam, preds: pred };
  });
  const [camData, predData] = await Promise.all([cams.data(), preds.data()]);
  tf.dispose([cams, preds]);
  const g = cams.shape[1];
  const out: GradCamSample[] = [];
  for (let i = 0; i < idx.length; i++) {
    const display = await data.test.display(idx[i]);
    out.push({
      index: idx[i],
      label: batch.labels[i],
      predicted: predData[i],
      image: display.rgba,
      side: display.side,
      cam: (camData as Float32Array).slice(i * g * g, (i + 1) * g * g),
      grid: g,
    });
  }
  return out;
}

function toPixels(batch: Batch, cfg: ViTConfig): tf.Tensor4D {
  return tf.tensor4d(batch.pixels, [batch.size, cfg.channels, cfg.imageSize, cfg.imageSize]);
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

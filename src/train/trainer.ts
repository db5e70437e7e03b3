/**
 * The epoch loop: one run of one method on one task. Host-agnostic (worker, Node, tests): it
 * takes parameters, data and callbacks, and reports everything through `emit`.
 *
 * `train` reads as the method's phases, each set up (`setUpPhase`), trained epoch by epoch
 * (`trainPhase`, `trainEpoch`, one `trainStep` per batch) and frozen; the pieces it uses live in
 * their own files: step.ts, evaluate.ts, checkpoint.ts, recovery.ts, control.ts.
 *
 * Memory discipline: every step runs in tf.tidy or disposes explicitly; trainable parameters and
 * optimizer slots are variables that are assigned in place, so the live tensor count is the same
 * after step 2 and after step 50 (tested).
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, GradCamSample, ResumeState, TestResult } from '../domain/run';
import type { HostTensor } from '../domain/tensor';
import { LabError } from '../domain/errors';
import { kernelsFor } from '../kernels';
import type { ViTConfig } from '../model/config';
import type { Kernels } from '../model/ops';
import { initHead, initPrompts, type ParamSet, type PromptInit } from '../model/params';
import type { ForwardOptions, ViT } from '../model/vit';
import { mulberry32, permutation } from '../data/rng';
import { checkpointBytes, paramsFromCheckpoint, readCheckpoint } from './checkpoint';
import { RunControl } from './control';
import type { TrainData } from '../data/trainData';
import { accuracy, evaluate, gradCamSamples } from './evaluate';
import type { MethodSpec, Phase } from './methods';
import { effectiveLr, promptLayers, scheduledLr } from './methods';
import { Optimizer } from './optimizer';
import { isOutOfMemory, restoreSnapshot, snapshot } from './recovery';
import { checkFiniteLoss } from './guards';
import { trainStep } from './step';
import { memoryBudget } from './budget';
import { planMemory, phaseShape, type MemoryBudget, type MemoryPlan, type RecomputeChoice } from './memory';
import { releaseAbandonedTape } from '../model/recompute';

export type TrainerEvent =
  | { type: 'step'; epoch: number; phase: number; step: number; stepsPerEpoch: number; loss: number; imagesPerSec: number }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'gradcam'; epoch: number; samples: GradCamSample[] }
  | { type: 'checkpoint'; state: ResumeState }
  | { type: 'notice'; message: string };

export interface Hyper {
  epochs: number;
  batchSize: number;
  /** Micro-batch for gradient accumulation; default = the memory plan's (the batch when it fits). */
  microBatch?: number;
  /** Activation recomputation: 'auto' (default) turns it on only when one image does not fit without it. */
  recompute?: RecomputeChoice;
  /** The memory to plan against (default: the running backend's, see budget.ts). */
  memoryBudget?: MemoryBudget;
  /** Overrides of the method's recipe. */
  lr?: number;
  weightDecay?: number;
  promptLength: number;
  seed: number;
  /** Read the loss back every this many steps (a GPU→CPU sync). */
  lossEvery?: number;
  /**
   * Investigation controls for prompt methods (defaults = the reference recipe): how fresh prompts
   * start, prompts kept at their initial values (only the head trains), the prompt dropout rate,
   * and the prompts' learning rate as a multiple of the base rate (the reference uses one rate).
   */
  promptInit?: PromptInit;
  freezePrompts?: boolean;
  promptDropout?: number;
  promptLrScale?: number;
}

export interface TrainOptions {
  cfg: ViTConfig;
  /** Pretrained parameters (compute layout). Never modified; disposed only with `consumeBackbone`. */
  backbone: ParamSet;
  /**
   * The caller hands the backbone over: a weight that trains replaces its pretrained tensor instead
   * of living beside it (ViT-B/16 FT on WASM: 344 MB of weights and XNNPACK's 344 MB packing of
   * them). The caller must not use the backbone after the run.
   */
  consumeBackbone?: boolean;
  /** The kernels to run on (default: the lab's kernels for the active backend). */
  kernels?: Kernels;
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
   * Called after every epoch; returning true ends training there (the remaining epochs are
   * skipped, the test split is still evaluated). The paper protocol stops diverged search runs.
   */
  stopAfterEpoch?: (metrics: EpochMetrics) => boolean;
  /**
   * Trained parameters imported from an earlier run (canonical names, compute layout): prompts
   * and head for VPT, every weight for FT. They replace the fresh head/prompts (and any backbone
   * weight they name) of the last phase, so a run can continue, or with 0 epochs only evaluate.
   */
  initial?: ParamSet;
  /** Emit a resumable checkpoint after each epoch (default true; a speed probe needs none). */
  checkpoints?: boolean;
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

/** Count parameters a method trains and holds, without building anything. */
export function countParams(
  cfg: ViTConfig,
  backbone: ParamSet,
  method: MethodSpec,
  numClasses: number,
  promptLength: number,
): { trainable: number; total: number } {
  const last = method.phases[method.phases.length - 1];
  const names = new Set<string>();
  let total = 0,
    trainable = 0;
  const consider = (name: string, size: number) => {
    if (names.has(name)) return;
    names.add(name);
    total += size;
    if (method.phases.some((p: Phase) => p.trains(name))) trainable += size;
  };
  for (const [n, t] of Object.entries(backbone)) if (!n.startsWith('head.') && !n.startsWith('pre_logits.') && !n.startsWith('prompts.')) consider(n, t.size);
  consider('head.weight', cfg.hiddenSize * numClasses);
  consider('head.bias', numClasses);
  for (let i = 0; i < promptLayers(last.promptMode, cfg.numLayers); i++) consider(`prompts.${i}`, promptLength * cfg.hiddenSize);
  return { trainable, total };
}

/**
 * The run's current parameters: the caller's backbone tensors (shared, never disposed here) and
 * the ones this run made (fresh heads and prompts, variables, restored values), which it owns.
 */
class RunParams {
  readonly params: ParamSet = {};
  private readonly owned = new Set<tf.Tensor>();
  /** Backbone tensors the caller handed over: released (not kept beside) when replaced. */
  private readonly handedOver = new Set<tf.Tensor>();

  /** Starts as the pretrained backbone without its head and prompts. */
  constructor(backbone: ParamSet, consume = false) {
    for (const [n, t] of Object.entries(backbone)) {
      if (n.startsWith('head.') || n.startsWith('prompts.')) continue;
      this.params[n] = t;
      if (consume) this.handedOver.add(t);
    }
  }

  /** Put `fresh` (now owned by the run) in place of what the names held. */
  replace(fresh: ParamSet): void {
    for (const [n, t] of Object.entries(fresh)) {
      this.release(this.params[n]);
      this.params[n] = t;
      this.owned.add(t);
    }
  }

  remove(which: (name: string) => boolean): void {
    for (const n of Object.keys(this.params).filter(which)) {
      this.release(this.params[n]);
      delete this.params[n];
    }
  }

  /** What `trains` names becomes trainable variables, in name order. */
  makeTrainable(trains: (name: string) => boolean): Record<string, tf.Variable> {
    const vars: Record<string, tf.Variable> = {};
    for (const n of Object.keys(this.params).filter(trains).sort()) {
      vars[n] = tf.variable(this.params[n], true);
      this.replace({ [n]: vars[n] });
    }
    return vars;
  }

  /** What trained becomes plain tensors: the next phase (or the caller) sees it frozen. */
  freeze(vars: Record<string, tf.Variable>): void {
    for (const [n, v] of Object.entries(vars)) this.replace({ [n]: tf.clone(v) });
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.clear();
  }

  private release(t: tf.Tensor | undefined): void {
    if (t && (this.owned.delete(t) || this.handedOver.delete(t))) t.dispose();
  }
}

/** A run's options once `train` has filled in what a caller may leave out. */
type RunOptions = TrainOptions & Required<Pick<TrainOptions, 'control' | 'emit'>>;

/** Run every phase of the method; returns the trained model and the test result. */
export async function train(options: TrainOptions): Promise<TrainOutcome> {
  const o: RunOptions = {
    ...options,
    method: tunedMethod(options.method, options.hyper),
    control: options.control ?? new RunControl(),
    emit: options.emit ?? (() => {}),
  };
  const { cfg, method, data, hyper } = o;
  const run = new RunParams(o.backbone, o.consumeBackbone);
  const model: ViT = { cfg, params: run.params, kernels: o.kernels ?? kernelsFor(tf.getBackend()) };
  const resume = o.resume ? { epochsDone: o.resume.epochsDone, tensors: readCheckpoint(o.resume) } : null;
  const epochs: EpochMetrics[] = o.resume ? [...o.resume.epochs] : [];
  let trainable: string[] = [];
  let evalBatch = hyper.batchSize;
  try {
    for (const [index, phase] of method.phases.entries()) {
      const span: PhaseSpan = { index, first: index * hyper.epochs, end: (index + 1) * hyper.epochs };
      const lastPhase = index === method.phases.length - 1;
      if (resume && resume.epochsDone >= span.end && !lastPhase) {
        // The whole phase finished before the interruption; its weights are in the checkpoint.
        run.replace(paramsFromCheckpoint(resume.tensors, phase.trains));
        continue;
      }
      const from = resume && resume.epochsDone > span.first ? resume : null;
      setUpPhase(run, phase, span, o, lastPhase ? o.initial : undefined, from?.tensors);
      const vars = run.makeTrainable(phase.trains);
      trainable = Object.keys(vars);
      // Only the tuned (last) phase may stop early: the test evaluation needs its prompt layout.
      const done = await trainPhase(model, vars, phase, span, lastPhase ? o : { ...o, stopAfterEpoch: undefined }, from, epochs);
      evalBatch = done.evalBatch;
      run.freeze(vars);
      if (done.stopped) break;
    }
    const last = method.phases[method.phases.length - 1];
    const test = await evaluate(model, data.test, { promptMode: last.promptMode, training: false }, evalBatch, data.numClasses);
    const counts = countParams(cfg, o.backbone, method, data.numClasses, hyper.promptLength);
    // Hand the trained model over: backbone tensors stay the caller's, owned ones move out.
    return { epochs, test, trainableParams: counts.trainable, totalParams: counts.total, params: run.params, trainable };
  } catch (err) {
    run.dispose();
    throw err;
  }
}

/**
 * The phase the run tunes (the method's last) with the run's overrides: learning rate and weight
 * decay (what the paper protocol searches), and the prompt investigation controls. Earlier phases
 * (FT-then-PT's fine-tuning) keep their own recipe: a prompt learning rate would wreck AdamW.
 */
export function tunedPhase(phase: Phase, hyper: Hyper): Phase {
  const frozen = hyper.freezePrompts ? (n: string) => phase.trains(n) && !n.startsWith('prompts.') : phase.trains;
  return {
    ...phase,
    trains: frozen,
    promptDropout: hyper.promptDropout ?? phase.promptDropout,
    recipe: { ...phase.recipe, baseLr: hyper.lr ?? phase.recipe.baseLr, weightDecay: hyper.weightDecay ?? phase.recipe.weightDecay },
  };
}

/** The method as a run trains it: its last phase tuned by the run's overrides (see tunedPhase). */
export function tunedMethod(method: MethodSpec, hyper: Hyper): MethodSpec {
  return { ...method, phases: method.phases.map((p, i) => (i === method.phases.length - 1 ? tunedPhase(p, hyper) : p)) };
}

/** Which epochs of the run a phase covers: [first, end). */
interface PhaseSpan {
  index: number;
  first: number;
  end: number;
}

/**
 * A phase's starting parameters: a fresh seeded head and prompts where the phase wants them,
 * imported parameters for the last phase, and the checkpoint's values when resuming inside it.
 */
function setUpPhase(
  run: RunParams,
  phase: Phase,
  span: PhaseSpan,
  o: RunOptions,
  imported: ParamSet | undefined,
  resumed: Map<string, HostTensor> | undefined,
): void {
  const { cfg, hyper } = o;
  const seedBase = hyper.seed * 1000 + span.index * 100;
  if (phase.freshHead) run.replace(initHead(cfg, o.data.numClasses, seedBase + 1));
  if (phase.promptMode === 'none') run.remove((n) => n.startsWith('prompts.'));
  const layers = promptLayers(phase.promptMode, cfg.numLayers);
  if (phase.freshPrompts && layers > 0) run.replace(initPrompts(cfg, hyper.promptLength, layers, seedBase + 2, hyper.promptInit));
  if (imported) {
    for (const [n, t] of Object.entries(imported)) {
      const here = run.params[n];
      if (here && here.shape.join() !== t.shape.join()) {
        throw new LabError(
          'checkpoint/shape-mismatch',
          `Imported parameter ${n} is [${t.shape}] but this run expects [${here.shape}].`,
          'Import parameters trained with the same model, task (classes) and prompt length.',
        );
      }
    }
    run.replace(Object.fromEntries(Object.entries(imported).map(([n, t]) => [n, tf.clone(t)])));
  }
  if (resumed) run.replace(paramsFromCheckpoint(resumed, (n) => phase.trains(n) || n.startsWith('prompts.') || n.startsWith('head.')));
}

/** How a phase's batches are cut: the batch, the micro-batch (from the memory plan), the steps. */
interface Batching {
  batchSize: number;
  microBatch: number;
  recompute: boolean;
  stepsPerEpoch: number;
}

/**
 * The memory plan of a phase: the largest micro-batch that fits the backend's budget (the batch
 * when it fits), with recomputation when one image needs it, decided before the phase's first
 * step; throws `run/does-not-fit` when not even one image fits.
 */
export function planPhase(cfg: ViTConfig, phase: Phase, numClasses: number, hyper: Hyper, batchSize: number, backboneCopy = true): MemoryPlan {
  return planMemory(phaseShape(cfg, phase, numClasses, hyper.promptLength, backboneCopy), {
    batch: batchSize,
    budget: hyper.memoryBudget ?? memoryBudget(),
    recompute: hyper.recompute,
  });
}

/**
 * The phase's epochs, each followed by validation, Grad-CAM and a checkpoint. The micro-batch is
 * planned before the first step; should an epoch still run out of memory (an estimate is not a
 * guarantee), it restarts from its beginning with half the micro-batch. Returns whether
 * `stopAfterEpoch` ended the phase early, and the evaluation batch size the plan allows.
 */
async function trainPhase(
  model: ViT,
  vars: Record<string, tf.Variable>,
  phase: Phase,
  span: PhaseSpan,
  o: RunOptions,
  resume: { epochsDone: number; tensors: Map<string, HostTensor> } | null,
  epochs: EpochMetrics[],
): Promise<{ stopped: boolean; evalBatch: number }> {
  const { data, hyper, emit } = o;
  const batchSize = Math.min(hyper.batchSize, data.train.size);
  const plan = planPhase(model.cfg, phase, data.numClasses, hyper, batchSize, !o.consumeBackbone);
  if (plan.notice) emit({ type: 'notice', message: plan.notice });
  const batching: Batching = {
    batchSize,
    microBatch: Math.min(hyper.microBatch ?? plan.microBatch, plan.microBatch),
    recompute: plan.recompute,
    stepsPerEpoch: Math.max(1, Math.floor(data.train.size / batchSize)),
  };
  const recipe = phase.recipe;
  const promptLrScale = hyper.promptLrScale ?? 1;
  const optimizer = new Optimizer({
    kind: recipe.optimizer,
    weightDecay: recipe.weightDecay,
    momentum: recipe.momentum,
    lrScale: (n) => (n.startsWith('prompts.') ? promptLrScale : 1),
  });
  try {
    if (resume) optimizer.loadSlots(resume.tensors, Object.keys(vars), (resume.epochsDone - span.first) * batching.stepsPerEpoch);
    const evalOpts: ForwardOptions = { promptMode: phase.promptMode, training: false };
    let epoch = Math.max(span.first, resume?.epochsDone ?? 0);
    let start = await snapshot(vars, optimizer);
    while (epoch < span.end) {
      const t0 = performance.now();
      let totals: EpochTotals;
      try {
        totals = await trainEpoch({ model, phase, span, epoch, batching, optimizer, run: o });
      } catch (err) {
        if (!isOutOfMemory(err) || batching.microBatch <= 1) throw err;
        releaseAbandonedTape(); // what the failed step's tape saved
        batching.microBatch = Math.max(1, Math.floor(batching.microBatch / 2));
        restoreSnapshot(start, vars, optimizer);
        emit({
          type: 'notice',
          message: `Out of memory at micro-batch ${batching.microBatch * 2}: halved the micro-batch to ${batching.microBatch} (the effective batch stays ${batchSize} through gradient accumulation) and restarted epoch ${epoch + 1} from its beginning.`,
        });
        continue;
      }
      const mem = tf.memory();
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        phase: span.index + 1,
        trainLoss: totals.lossSum / Math.max(1, totals.lossReads),
        trainAcc: (100 * totals.correct) / Math.max(1, totals.seen),
        valAcc: await accuracy(model, data.val, evalOpts, plan.evalBatch),
        seconds: (performance.now() - t0) / 1000,
        lr: totals.lr,
        numTensors: mem.numTensors,
        numBytes: mem.numBytes,
      };
      epochs.push(metrics);
      emit({ type: 'epoch', metrics });
      if (o.gradcamIndices?.length) emit({ type: 'gradcam', epoch: epoch + 1, samples: await gradCamSamples(model, data, o.gradcamIndices, evalOpts) });
      start = await snapshot(vars, optimizer);
      if (o.checkpoints !== false)
        emit({
          type: 'checkpoint',
          state: { epochsDone: epoch + 1, checkpoint: await checkpointBytes(vars, model.cfg, optimizer, start), epochs: [...epochs] },
        });
      epoch++;
      if (o.stopAfterEpoch?.(metrics)) return { stopped: true, evalBatch: plan.evalBatch };
    }
    return { stopped: false, evalBatch: plan.evalBatch };
  } finally {
    optimizer.dispose();
  }
}

/** What an epoch's read-back steps add up to. */
interface EpochTotals {
  lossSum: number;
  lossReads: number;
  correct: number;
  seen: number;
  /** The learning rate of the epoch's last step. */
  lr: number;
}

/** One epoch of a phase, as `trainEpoch` runs it. */
interface EpochJob {
  model: ViT;
  /** The phase (tuned): what trains, its prompt layout, and its learning-rate schedule. */
  phase: Phase;
  span: PhaseSpan;
  /** The epoch's index in the whole run, from 0. */
  epoch: number;
  batching: Batching;
  optimizer: Optimizer;
  run: RunOptions;
}

/** One pass over the shuffled training split, one `trainStep` per batch. */
async function trainEpoch({ model, phase, span, epoch, batching: b, optimizer, run: o }: EpochJob): Promise<EpochTotals> {
  const { data, hyper, control, emit } = o;
  const { baseLr, warmupFraction } = phase.recipe;
  const lossEvery = hyper.lossEvery ?? 1;
  const peakLr = effectiveLr(baseLr, b.batchSize);
  const totalSteps = b.stepsPerEpoch * hyper.epochs;
  const order = permutation(data.train.size, mulberry32(hyper.seed * 7919 + epoch));
  const totals: EpochTotals = { lossSum: 0, lossReads: 0, correct: 0, seen: 0, lr: 0 };
  for (let s = 0; s < b.stepsPerEpoch; s++) {
    await control.checkpoint();
    const phaseStep = (epoch - span.first) * b.stepsPerEpoch + s;
    if (o.faultAt && o.faultAt.step === phaseStep + span.first * b.stepsPerEpoch) {
      const e = o.faultAt.error;
      o.faultAt = undefined;
      throw e;
    }
    const stepT0 = performance.now();
    const indices = order.slice(s * b.batchSize, (s + 1) * b.batchSize);
    const batch = await data.train.batch(indices);
    totals.lr = scheduledLr(peakLr, phaseStep, totalSteps, warmupFraction);
    const { loss, correct } = trainStep(model, batch, phase, optimizer, {
      lr: totals.lr,
      seed: hyper.seed * 1_000_003 + phaseStep * 31,
      microBatch: b.microBatch,
      recompute: b.recompute,
    });
    // Loss and accuracy of the steps that are read back (every step by default).
    const read = s % lossEvery === 0 || s === b.stepsPerEpoch - 1 ? await Promise.all([loss.data(), correct.data()]) : null;
    tf.dispose([loss, correct]);
    if (read) {
      const [l, c] = read;
      // A loss that is not finite means the weights no longer are: stop, naming the step and the
      // fix, rather than report accuracies computed from NaN.
      checkFiniteLoss(l[0], { epoch: epoch + 1, step: s + 1, phase: span.index + 1 });
      totals.lossSum += l[0];
      totals.lossReads++;
      totals.correct += c[0];
      totals.seen += indices.length;
      const dt = (performance.now() - stepT0) / 1000;
      emit({
        type: 'step',
        epoch: epoch + 1,
        phase: span.index + 1,
        step: s + 1,
        stepsPerEpoch: b.stepsPerEpoch,
        loss: l[0],
        imagesPerSec: indices.length / Math.max(dt, 1e-6),
      });
    }
  }
  return totals;
}

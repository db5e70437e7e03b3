/**
 * npm run pretrain -- [options]
 *
 * Pretrains the small ViTs the lab ships (public/models/) from random weights on the procedural
 * scenes of src/data/pretraining.ts, with the lab's own model code (forward, loss, AdamW) in Node
 * on WASM (or a GPU, --backend webgpu). Two objectives: `classes`, the 50 shape × texture classes
 * of tiny_pretrained; `scenes`, seven heads on one image (src/data/sceneObjective.ts) of
 * scenes_vit. Every step draws fresh images from the endless training stream (or cycles a fixed
 * pool with --train-size), so the model never sees an image twice.
 *
 * A run survives a stop: every --checkpoint-minutes (or --checkpoint-steps), and on Ctrl-C or
 * SIGTERM, it saves the weights, the optimizer's moments and step, and the schedule and
 * data-stream position (both follow the step count), and `--resume <dir>` continues from there;
 * with --steps the resumed run ends with the same weights to the bit as one never stopped.
 *
 * Writes, under --out-dir:
 *   <name>.partial.safetensors + <name>.partial.json  the resume checkpoint
 *   <name>.log           progress and held-out accuracy, appended as the run goes
 *   <name>.safetensors   timm layout via toCheckpointFile, config in the metadata, with the
 *                        50-class pretraining head as head.* (so held-out accuracy can be re-checked)
 *   <name>.md            the model card: architecture, data, objective, steps, images seen, wall
 *                        time, machine, held-out accuracy, and the exact command.
 */
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { NORM_HALF, preprocessImage } from '../data/preprocess';
import {
  PRETRAIN_CLASSES,
  PRETRAIN_IMAGE_SIZE,
  PRETRAIN_NUM_CLASSES,
  pretrainItems,
  pretrainingSplits,
  renderSynthScene,
  samplePretrainScene,
  SHAPE_KINDS,
  TEXTURES,
} from '../data/pretraining';
import type { DataItem } from '../data/types';
import { HeadAccuracy, SCENE_CHANCE, SCENE_HEAD_SIZES, SCENE_HEADS, SCENE_LOGITS, sampleLabelledScene } from '../data/sceneObjective';
import { kernelsFor, KERNEL_CHOICES } from '../kernels';
import { type ViTConfig, checkConfig, numTokens, parameterCount } from '../model/config';
import { canonicalFromParams, randomParams, toComputeTensor } from '../model/params';
import { forward, type ViT } from '../model/vit';
import { lrAtProgress } from '../train/methods';
import { Optimizer } from '../train/optimizer';
import { trainStep } from '../train/step';
import { readAll } from '../weights/formats/archive';
import { parseSafetensors, writeSafetensors } from '../weights/formats/safetensors';
import { toCheckpointFile } from '../weights/load';
import type { HostTensor } from '../domain/tensor';
import { clip, LabError, quoted } from '../domain/errors';
import { checkFiniteLoss } from '../train/guards';
import { enumArg, intArg, numArg, parseArgs, runMain, THREADS_USAGE, threadsArg, usageError } from './args';
import { backendArg, backendUsage, startBackend } from './backend';
import { readUserFile, readUserJson } from './files';
import { describeAdapter } from '../backend/dawn';
import { endProgress, progressBar } from './progress';
import { formatBytes } from '../domain/progress';

const OBJECTIVES = ['classes', 'scenes'] as const;
type Objective = (typeof OBJECTIVES)[number];

const USAGE = `usage: npm run pretrain -- [options]
       npm run pretrain -- --resume <dir> [--steps N | --minutes X]

Pretrains a small ViT from random weights on the lab's procedural scenes (src/data/pretraining.ts)
in Node, on WASM or a GPU.

  --objective classes|scenes  classes: one 50-way label, ${SHAPE_KINDS.length} shape kinds x ${TEXTURES.length} textures (tiny_pretrained);
                          scenes: ${SCENE_HEADS.length} heads on each image (${SCENE_HEADS.map((h) => h.name).join(', ')};
                          src/data/sceneObjective.ts, scenes_vit) (default classes)
  --out-dir <dir>         where the weights, model card, log and checkpoints go (default public/models)
  --name <name>           file stem: <name>.safetensors, <name>.md, <name>.log (default tiny_pretrained,
                          or scenes_vit for --objective scenes)
  --minutes X             wall-clock budget; the cosine schedule follows elapsed time (default 40)
  --steps N               a fixed number of steps instead of --minutes (the schedule follows steps)
  --batch N               images per step (default 64)
  --lr X                  peak AdamW learning rate after linear warm-up (default 0.0005)
  --wd X                  decoupled weight decay (default 0.05)
  --warmup X              fraction of the run spent warming up (default 0.05)
  --clip X                clip the global gradient norm to X; 0 = off (default 1)
  --curriculum X          fraction of the run over which the training images go from easy (centred,
                          upright, big, flat background, no distractors) to the full distribution
                          linearly; 0 = off (default 0.3). Held-out checks always use the full one.
  --seed N                seed for the data streams and initialisation (default 0)
  --width N               token width D (default 128)
  --depth N               transformer blocks (default 4)
  --heads N               attention heads; width must divide by it (default 2)
  --mlp N                 MLP hidden width (default 4 x width)
  --patch N               patch side in pixels (default 12)
  --image-size N          input resolution (default 48)
  --train-size N          0 = a fresh image every time (endless stream, default); N = cycle N images
  --eval-size N           held-out images for the final accuracy (default 2000)
  --val-size N            held-out images checked at each checkpoint (default 250; 0 = none)
  --checkpoint-minutes X  minutes between resumable checkpoints (default 3)
  --checkpoint-steps N    steps between resumable checkpoints instead of minutes
  ${backendUsage(24)}
  --kernels lab|stock     the lab's kernels for the backend (default) or plain tfjs ops, to compare
${THREADS_USAGE}
  --resume <dir>          continue the run whose checkpoint is in <dir> (<name>.partial.*): weights,
                          optimizer state, schedule and data-stream position; model, data and
                          schedule options come from the checkpoint (--minutes/--steps may extend
                          it). Ctrl-C saves a checkpoint first, so a stopped run resumes where it was.`;

/** Everything that defines a run; saved with each checkpoint so --resume continues the same run. */
interface PretrainOptions {
  cfg: ViTConfig;
  /** Absent in checkpoints written before the scenes objective: 'classes'. */
  objective?: Objective;
  minutes: number | null;
  steps: number | null;
  batch: number;
  lr: number;
  wd: number;
  warmup: number;
  clip: number;
  /** Fraction of the run over which the scene difficulty ramps from 0 to 1 (0 = full from the start). */
  curriculum?: number;
  seed: number;
  trainSize: number;
  evalSize: number;
  valSize: number;
  checkpointMinutes: number;
  /** Checkpoint every this many steps instead of by minutes (0 or absent: by minutes). */
  checkpointSteps?: number;
}

/** Resume state, written next to the partial weights. */
interface PretrainState {
  version: 1;
  options: PretrainOptions;
  step: number;
  imagesSeen: number;
  /** Wall seconds spent by earlier sessions of this run (training, checks, checkpoints). */
  seconds: number;
  optimizerStep: number;
  /** Every command that worked on this run, in order. */
  commands: string[];
  valHistory: Array<{ step: number; valAcc: number; loss: number }>;
}

const PHASE_SPLIT = 'train' as const;

/**
 * Items rendered at the model resolution and normalised, [B, 3, S, S], with their labels: one per
 * image for `classes`, one per head ([B, H] row-major) for `scenes`.
 */
function batchOf(objective: Objective, items: DataItem[], size: number, difficulty = 1): { pixels: Float32Array; labels: Int32Array } {
  const plane = 3 * size * size;
  const pixels = new Float32Array(items.length * plane);
  const perImage = objective === 'scenes' ? SCENE_HEADS.length : 1;
  const labels = new Int32Array(items.length * perImage);
  items.forEach((it, k) => {
    if (objective === 'scenes') {
      const { scene, labels: l } = sampleLabelledScene(it.label, it.seed!, difficulty);
      labels.set(l, k * perImage);
      preprocessImage(renderSynthScene(scene, { size }), size, NORM_HALF, pixels, k * plane);
    } else {
      labels[k] = it.label;
      preprocessImage(renderSynthScene(samplePretrainScene(it.label, it.seed!, difficulty), { size }), size, NORM_HALF, pixels, k * plane);
    }
  });
  return { pixels, labels };
}

/** Training items of step `step`: fresh from the endless stream, or cycling a fixed pool. */
function stepItems(o: PretrainOptions, step: number): DataItem[] {
  const start = step * o.batch;
  if (o.trainSize <= 0) return pretrainItems(o.seed, PHASE_SPLIT, start, o.batch);
  const out: DataItem[] = [];
  for (let i = 0; i < o.batch; i++) out.push(pretrainItems(o.seed, PHASE_SPLIT, (start + i) % o.trainSize, 1)[0]!);
  return out;
}

/** Held-out accuracy: the headline number and the card's tables. */
interface HeldOut {
  /** `classes`: top-1 over the 50 classes; `scenes`: the mean of the heads' accuracies. */
  acc: number;
  /** `classes`: shape kind and texture read from the 50-way prediction; `scenes`: per head. */
  tables: Array<{ title: string; rows: Array<[string, number]> }>;
  /** `scenes`: shape and texture both right (the first model's 50-way label, for comparison). */
  shapeTexture?: number;
}

async function accuracyOn(objective: Objective, model: ViT, items: DataItem[], batch = 100): Promise<HeldOut> {
  if (objective === 'scenes') return sceneAccuracyOn(model, items, batch);
  let correct = 0;
  const shapeHits = new Array<number>(SHAPE_KINDS.length).fill(0);
  const shapeN = new Array<number>(SHAPE_KINDS.length).fill(0);
  const texHits = new Array<number>(TEXTURES.length).fill(0);
  const texN = new Array<number>(TEXTURES.length).fill(0);
  const { cfg } = model;
  for (let s = 0; s < items.length; s += batch) {
    const part = items.slice(s, s + batch);
    const x = batchOf('classes', part, cfg.imageSize).pixels;
    const pred = tf.tidy(() => tf.argMax(forward(model, tf.tensor4d(x, [part.length, 3, cfg.imageSize, cfg.imageSize])), -1));
    const p = await pred.data();
    pred.dispose();
    part.forEach((it, i) => {
      const T = TEXTURES.length;
      const [ls, lt, ps, pt] = [Math.floor(it.label / T), it.label % T, Math.floor(p[i]! / T), p[i]! % T];
      if (p[i] === it.label) correct++;
      shapeN[ls]!++;
      texN[lt]!++;
      if (ls === ps) shapeHits[ls]!++;
      if (lt === pt) texHits[lt]!++;
    });
  }
  const ratio = (h: number[], n: number[]) => h.map((x, i) => (n[i] ? (100 * x) / n[i]! : NaN));
  const rows = (labels: readonly string[], accs: number[]) => labels.map((l, i) => [l, accs[i]!] as [string, number]);
  return {
    acc: (100 * correct) / Math.max(1, items.length),
    tables: [
      { title: 'shape kind', rows: rows(SHAPE_KINDS, ratio(shapeHits, shapeN)) },
      { title: 'texture', rows: rows(TEXTURES, ratio(texHits, texN)) },
    ],
  };
}

async function sceneAccuracyOn(model: ViT, items: DataItem[], batch: number): Promise<HeldOut> {
  const { cfg } = model;
  const counter = new HeadAccuracy();
  const H = SCENE_HEADS.length;
  for (let s = 0; s < items.length; s += batch) {
    const part = items.slice(s, s + batch);
    const { pixels, labels } = batchOf('scenes', part, cfg.imageSize);
    const logits = tf.tidy(() => forward(model, tf.tensor4d(pixels, [part.length, 3, cfg.imageSize, cfg.imageSize]))); // [b, ΣK]
    const values = await logits.data();
    logits.dispose();
    for (let i = 0; i < part.length; i++)
      counter.add(values.subarray(i * SCENE_LOGITS, (i + 1) * SCENE_LOGITS), Array.from(labels.subarray(i * H, (i + 1) * H)));
  }
  const a = counter.accuracy();
  return {
    acc: a.mean,
    shapeTexture: a.shapeTexture,
    tables: [{ title: 'head', rows: SCENE_HEADS.map((h, i) => [`${h.name} (${h.question}, ${h.classes.length} classes)`, a.perHead[i]!] as [string, number]) }],
  };
}

async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

/** The one run a checkpoint folder holds: <dir>/<name>.partial.json, with --name or the only one there. */
async function resumeTarget(dir: string, name: string | undefined): Promise<{ outDir: string; name: string }> {
  const outDir = path.resolve(dir);
  if (name) return { outDir, name };
  let found: string[] = [];
  try {
    found = (await readdir(outDir)).filter((f) => f.endsWith('.partial.json')).map((f) => f.slice(0, -'.partial.json'.length));
  } catch (e) {
    throw new LabError(
      'checkpoint/unreadable',
      `--resume: cannot read the folder ${quoted(dir, 120)} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`,
      'Give the --out-dir of the run to continue.',
    );
  }
  if (found.length === 1) return { outDir, name: found[0]! };
  throw new LabError(
    'checkpoint/unreadable',
    found.length
      ? `--resume: ${quoted(dir, 120)} holds ${found.length} runs (${found.map((f) => quoted(f, 40)).join(', ')}).`
      : `--resume: ${quoted(dir, 120)} holds no resume checkpoint (<name>.partial.json).`,
    found.length ? 'Name the one to continue with --name.' : 'Give the --out-dir of a run that saved a checkpoint.',
  );
}

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), {
    values: [
      'objective',
      'out-dir',
      'name',
      'minutes',
      'steps',
      'batch',
      'lr',
      'wd',
      'warmup',
      'clip',
      'curriculum',
      'seed',
      'width',
      'depth',
      'heads',
      'mlp',
      'patch',
      'image-size',
      'train-size',
      'eval-size',
      'val-size',
      'checkpoint-minutes',
      'checkpoint-steps',
      'backend',
      'kernels',
      'threads',
      'resume',
    ],
  });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const resuming = args.values.has('resume');
  if (resuming && args.values.has('out-dir')) throw usageError('Give --resume <dir> or --out-dir, not both: --resume continues the run in <dir>.');
  const objectiveArg = enumArg(args, 'objective', OBJECTIVES, 'classes');
  const { outDir, name } = resuming
    ? await resumeTarget(args.values.get('resume')!, args.values.get('name'))
    : {
        outDir: path.resolve(args.values.get('out-dir') ?? 'public/models'),
        name: args.values.get('name') ?? (objectiveArg === 'scenes' ? 'scenes_vit' : 'tiny_pretrained'),
      };
  if (!/^[\w.-]+$/.test(name)) throw usageError(`--name may hold letters, digits, '.', '_' and '-' only, got ${quoted(name, 60)}.`);
  const backend = backendArg(args);
  const kernelChoice = enumArg(args, 'kernels', KERNEL_CHOICES, 'lab');
  const partialWeights = path.join(outDir, `${name}.partial.safetensors`);
  const partialState = path.join(outDir, `${name}.partial.json`);
  const logFile = path.join(outDir, `${name}.log`);
  const command = `npm run pretrain -- ${process.argv.slice(2).join(' ')}`.trim();

  const stepsArg = args.values.has('steps') ? intArg(args, 'steps', 0, 1) : null;
  const minutesArg = numArg(args, 'minutes', { positive: true }) ?? null;
  if (stepsArg !== null && minutesArg !== null) throw usageError('Give --minutes or --steps, not both.');

  let state: PretrainState;
  let resumeTensors: Map<string, HostTensor> | null = null;
  if (resuming) {
    try {
      state = await readUserJson<PretrainState>(partialState, '--resume', 16 * 2 ** 20);
      const bytes = await readUserFile(partialWeights, '--resume', 4 * 2 ** 30, 'checkpoint/unreadable');
      resumeTensors = readAll(parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path.basename(partialWeights)));
    } catch (e) {
      if (e instanceof LabError) throw e;
      throw new LabError(
        'checkpoint/unreadable',
        `--resume needs ${partialWeights} and ${partialState} from an earlier run: ${clip((e as NodeJS.ErrnoException).code ?? (e as Error).message, 120)}.`,
        'Start without --resume, or point --resume (and --name) at the run to continue.',
      );
    }
    const kept = ['resume', 'name', 'backend', 'kernels', 'threads', 'minutes', 'steps'];
    const ignored = [...args.values.keys()].filter((k) => !kept.includes(k));
    if (ignored.length) console.error(`note: --resume keeps the checkpoint's options; ignoring ${ignored.map((k) => `--${k}`).join(', ')}.`);
    if (stepsArg !== null) [state.options.steps, state.options.minutes] = [stepsArg, null];
    if (minutesArg !== null) [state.options.minutes, state.options.steps] = [minutesArg, null];
    state.commands.push(command);
  } else {
    const width = intArg(args, 'width', 128, 8, 4096);
    const cfg: ViTConfig = {
      imageSize: intArg(args, 'image-size', PRETRAIN_IMAGE_SIZE, 8, 1024),
      patchSize: intArg(args, 'patch', 12, 1, 256),
      channels: 3,
      hiddenSize: width,
      numLayers: intArg(args, 'depth', 4, 1, 64),
      numHeads: intArg(args, 'heads', 2, 1, 256),
      mlpDim: intArg(args, 'mlp', 4 * width, 1, 65536),
      numClasses: objectiveArg === 'scenes' ? SCENE_LOGITS : PRETRAIN_NUM_CLASSES,
      layerNormEps: 1e-6,
      mean: NORM_HALF.mean,
      std: NORM_HALF.std,
    };
    try {
      checkConfig(cfg);
    } catch (e) {
      throw usageError((e as Error).message);
    }
    const options: PretrainOptions = {
      cfg,
      objective: objectiveArg,
      minutes: stepsArg === null ? (minutesArg ?? 40) : null,
      steps: stepsArg,
      batch: intArg(args, 'batch', 64, 1, 4096),
      lr: numArg(args, 'lr') ?? 5e-4,
      wd: numArg(args, 'wd') ?? 0.05,
      warmup: Math.min(0.5, numArg(args, 'warmup') ?? 0.05),
      clip: numArg(args, 'clip') ?? 1,
      curriculum: Math.min(1, numArg(args, 'curriculum') ?? 0.3),
      seed: intArg(args, 'seed', 0, 0),
      trainSize: intArg(args, 'train-size', 0, 0),
      evalSize: intArg(args, 'eval-size', 2000, 1, 100000),
      valSize: intArg(args, 'val-size', 250, 0, 100000),
      checkpointMinutes: numArg(args, 'checkpoint-minutes', { positive: true }) ?? 3,
      checkpointSteps: intArg(args, 'checkpoint-steps', 0, 0),
    };
    state = { version: 1, options, step: 0, imagesSeen: 0, seconds: 0, optimizerStep: 0, commands: [command], valHistory: [] };
  }
  const o = state.options;
  const objective: Objective = o.objective ?? 'classes';
  const cfg = o.cfg;
  await mkdir(outDir, { recursive: true });
  const started = await startBackend(backend, { kernels: kernelChoice, threads: threadsArg(args) });
  const log = (line: string) => appendFile(logFile, `${new Date().toISOString()} ${line}\n`);

  // Parameters: random init (timm-like N(0, 0.02), LayerNorm 1/0, the objective's head), or the checkpoint.
  const init = randomParams(cfg, o.seed);
  const vars: Record<string, tf.Variable> = {};
  for (const [n, t] of Object.entries(init)) {
    const saved = resumeTensors?.get(n);
    const value = saved ? toComputeTensor(n, saved) : t;
    vars[n] = tf.variable(value, true, `pretrain_${n}`);
    if (value !== t) value.dispose();
    t.dispose();
  }
  const names = Object.keys(vars).sort();
  // Decay only matrices (weights of linear layers, patch projection); not biases, norms, tokens.
  const optimizer = new Optimizer({ kind: 'adamw', weightDecay: o.wd, momentum: 0.9, decays: (n) => /\.weight$/.test(n) && !/norm/.test(n) });
  if (resumeTensors) {
    optimizer.loadSlots(resumeTensors, names, state.optimizerStep);
    resumeTensors = null;
  }
  const model: ViT = { cfg, params: vars, kernels: kernelsFor(tf.getBackend(), kernelChoice) };
  const nParams = parameterCount(cfg);
  const valItems = pretrainingSplits({ seed: o.seed, valSize: o.valSize, testSize: 0 }).val;
  const heads = objective === 'scenes' ? SCENE_HEAD_SIZES : undefined;
  const banner =
    `pretrain: ViT ${cfg.imageSize}px/${cfg.patchSize} D=${cfg.hiddenSize} L=${cfg.numLayers} H=${cfg.numHeads} MLP=${cfg.mlpDim} (${numTokens(cfg)} tokens, ${nParams.toLocaleString('en')} parameters, ${formatBytes(nParams * 4)}) | ` +
    `${objective === 'scenes' ? `${SCENE_HEADS.length} heads, ${SCENE_LOGITS} outputs` : `${PRETRAIN_NUM_CLASSES} classes`} | batch ${o.batch} | AdamW lr ${o.lr} wd ${o.wd} | ${o.steps !== null ? `${o.steps} steps` : `${o.minutes} min`} | backend ${tf.getBackend()}${state.step ? ` | resuming at step ${state.step}` : ''}`;
  console.error(banner);
  await log(`${command}\n${banner}`);

  // Ctrl-C, SIGTERM or SIGHUP: finish the step under way, save a checkpoint, exit (resume continues).
  let stopSignal: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(130); // a second Ctrl-C: stop now, the last checkpoint stays
    stopSignal = signal;
    endProgress();
    console.error(`${signal}: saving a checkpoint after this step (Ctrl-C again to stop without it)...`);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);

  const sessionStart = performance.now();
  const elapsed = () => state.seconds + (performance.now() - sessionStart) / 1000;
  const progressOf = (step: number) => (o.steps !== null ? step / o.steps : elapsed() / (60 * o.minutes!));
  let lastCheckpoint = performance.now();
  let lossEma = NaN;
  let rate = 0; // images per second, smoothed
  let lastPrint = 0;
  let lastLog = performance.now();

  const saveCheckpoint = async () => {
    const tensors = new Map([...(await canonicalFromParams(vars, cfg)), ...(await optimizer.slotTensors())]);
    const saved: PretrainState = { ...state, seconds: elapsed(), optimizerStep: optimizer.step };
    await writeAtomic(partialWeights, writeSafetensors(tensors, { pretrain_state: 'see .partial.json' }));
    await writeAtomic(partialState, JSON.stringify(saved, null, 2));
  };

  let nextTensorCheck = -1;
  for (;;) {
    const progress = progressOf(state.step);
    if (progress >= 1) break;
    const lr = lrAtProgress(o.lr, progress, o.warmup);
    const difficulty = o.curriculum ? Math.min(1, progress / o.curriculum) : 1;
    const stepT0 = performance.now();
    const items = stepItems(o, state.step);
    const batch = { ...batchOf(objective, items, cfg.imageSize, difficulty), size: items.length };
    const { loss, correct } = trainStep(model, batch, { promptMode: 'none', promptDropout: 0 }, optimizer, { lr, seed: state.step, clipNorm: o.clip, heads });
    correct.dispose();
    const l = (await loss.data())[0]!;
    loss.dispose();
    checkFiniteLoss(l, { step: state.step + 1 }, 'Lower --lr or raise --warmup; resume from the last checkpoint with --resume.');
    state.step++;
    state.imagesSeen += items.length;
    const dt = (performance.now() - stepT0) / 1000;
    const r = items.length / dt;
    rate = rate ? 0.9 * rate + 0.1 * r : r;
    lossEma = Number.isNaN(lossEma) ? l : 0.98 * lossEma + 0.02 * l;
    // The tensor count must stay flat across steps (everything above is tidied or disposed).
    if (state.step === 3) nextTensorCheck = tf.memory().numTensors;
    else if (nextTensorCheck >= 0 && state.step % 100 === 0 && tf.memory().numTensors !== nextTensorCheck) {
      throw new Error(`Tensor leak: ${tf.memory().numTensors} live tensors at step ${state.step}, ${nextTensorCheck} at step 3.`);
    }

    const p = progressOf(state.step);
    const now = performance.now();
    const status = () =>
      `loss ${lossEma.toFixed(3)}  lr ${lr.toExponential(2)}${difficulty < 1 ? `  difficulty ${difficulty.toFixed(2)}` : ''}  ${rate.toFixed(1)} img/s`;
    if (process.stderr.isTTY || now - lastPrint > 15000 || state.step <= 3) {
      lastPrint = now;
      const eta = o.steps !== null ? (o.steps - state.step) * (o.batch / rate) : 60 * o.minutes! - elapsed();
      const total = o.steps ?? Math.max(state.step, Math.round(state.step / Math.max(p, 1e-9)));
      progressBar('pretrain', state.step, total, `${status()}  ETA ${fmtTime(eta)}`);
    }
    if (now - lastLog > 60000) {
      lastLog = now;
      await log(`step ${state.step}, ${state.imagesSeen} images, ${fmtTime(elapsed())} elapsed, ${status()}`);
    }
    const due = o.checkpointSteps ? state.step % o.checkpointSteps === 0 : now - lastCheckpoint > o.checkpointMinutes * 60000;
    if ((due || stopSignal) && p < 1) {
      lastCheckpoint = now;
      let note = '';
      if (valItems.length && !stopSignal) {
        const { acc } = await accuracyOn(objective, model, valItems);
        state.valHistory.push({ step: state.step, valAcc: acc, loss: lossEma });
        note = `, held-out val ${acc.toFixed(1)}%${objective === 'scenes' ? ` (mean of heads, chance ${SCENE_CHANCE.toFixed(1)}%)` : ''} on ${valItems.length}`;
      }
      await saveCheckpoint();
      endProgress();
      const line = `checkpoint: step ${state.step}, ${state.imagesSeen.toLocaleString('en')} images, ${fmtTime(elapsed())} elapsed, loss ${lossEma.toFixed(3)}${note} -> ${path.relative(process.cwd(), partialWeights)}`;
      console.error(line);
      await log(line);
      if (stopSignal) {
        const resume = `npm run pretrain -- --resume ${path.relative(process.cwd(), outDir) || '.'}${args.values.has('name') ? ` --name ${name}` : ''}`;
        console.error(`stopped at step ${state.step}; continue with: ${resume}`);
        await log(`stopped by ${stopSignal} at step ${state.step}`);
        return 130;
      }
    }
  }
  endProgress();
  const trainSeconds = elapsed();
  optimizer.dispose();

  // Held-out accuracy on the test split (seeds disjoint from the training stream).
  const evalItems = pretrainingSplits({ seed: o.seed, testSize: o.evalSize }).test;
  console.error(`evaluating on ${evalItems.length} held-out images...`);
  const evalT0 = performance.now();
  const heldOut = await accuracyOn(objective, model, evalItems);
  const evalSeconds = (performance.now() - evalT0) / 1000;
  const headline =
    objective === 'scenes'
      ? `held-out accuracy ${heldOut.acc.toFixed(2)}% (mean of ${SCENE_HEADS.length} heads, chance ${SCENE_CHANCE.toFixed(1)}%: ${heldOut.tables[0]!.rows.map(([n, a]) => `${n.split(' ')[0]} ${a.toFixed(1)}`).join(', ')}; shape and texture both right ${heldOut.shapeTexture!.toFixed(1)}%, chance 2%)`
      : `held-out accuracy ${heldOut.acc.toFixed(2)}% (chance ${(100 / PRETRAIN_NUM_CLASSES).toFixed(1)}%)`;
  console.error(`${headline}, ${(evalItems.length / evalSeconds).toFixed(1)} img/s inference`);
  await log(headline);

  const tensors = await canonicalFromParams(vars, cfg);
  for (const v of Object.values(vars)) v.dispose();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const summary = {
    steps: state.step,
    imagesSeen: state.imagesSeen,
    wallSeconds: Math.round(trainSeconds),
    imagesPerSecond: Number((state.imagesSeen / trainSeconds).toFixed(1)),
    heldOutAccuracy: Number(heldOut.acc.toFixed(2)),
    heldOutImages: evalItems.length,
    seed: o.seed,
    batch: o.batch,
    machine: `${cpu}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}, tfjs ${tf.version.tfjs} ${tf.getBackend()} backend${started.adapter ? ` (Dawn on ${describeAdapter(started.adapter)})` : ''}${kernelChoice === 'stock' ? ' with stock tfjs kernels' : ''}, 1 process`,
    commands: state.commands,
  };
  const file = toCheckpointFile(
    { layout: 'timm', config: cfg, tensors, ignoredKeys: [] },
    objective === 'scenes'
      ? { pretraining: JSON.stringify(summary), heads: JSON.stringify(SCENE_HEADS.map((h) => ({ name: h.name, classes: h.classes }))) }
      : { pretraining: JSON.stringify(summary), classes: JSON.stringify(PRETRAIN_CLASSES) },
  );
  const weightsPath = path.join(outDir, `${name}.safetensors`);
  await writeAtomic(weightsPath, file);
  const card = await modelCard(name, cfg, o, summary, heldOut, state, evalSeconds, file.byteLength);
  await writeAtomic(path.join(outDir, `${name}.md`), card);
  await rm(partialWeights, { force: true });
  await rm(partialState, { force: true });
  console.log(
    `wrote ${path.relative(process.cwd(), weightsPath)} (${formatBytes(file.byteLength)}) and ${name}.md: ${state.step} steps, ${state.imagesSeen.toLocaleString('en')} images, ${fmtTime(trainSeconds)}, held-out accuracy ${heldOut.acc.toFixed(2)}%`,
  );
  return 0;
}, USAGE);

/** The model card: src/cli/model-card.md and the objective's model-card-<objective>.md, with the run's numbers filled in. */
async function modelCard(
  name: string,
  cfg: ViTConfig,
  o: PretrainOptions,
  s: {
    steps: number;
    imagesSeen: number;
    wallSeconds: number;
    imagesPerSecond: number;
    heldOutAccuracy: number;
    heldOutImages: number;
    machine: string;
    commands: string[];
  },
  heldOut: HeldOut,
  state: PretrainState,
  evalSeconds: number,
  bytes: number,
): Promise<string> {
  const objective: Objective = o.objective ?? 'classes';
  const g = cfg.imageSize / cfg.patchSize;
  const validationTable = state.valHistory.length
    ? `\nHeld-out validation accuracy during the run (${o.valSize} images, checked at each checkpoint${objective === 'scenes' ? '; mean of the heads' : ''}):\n\n| step | loss (EMA) | val acc % |\n|---:|---:|---:|\n${state.valHistory.map((v) => `| ${v.step} | ${v.loss.toFixed(3)} | ${v.valAcc.toFixed(1)} |`).join('\n')}\n`
    : '';
  const easy =
    objective === 'scenes'
      ? 'upright, on a flat background without grain or other objects; position and size as drawn) to the full distribution (`sampleLabelledScene(label, seed, difficulty)`)'
      : 'object centred, upright, at the largest size, on a flat background without grain or distractors) to the full distribution (`samplePretrainScene(label, seed, difficulty)`)';
  const curriculum = o.curriculum
    ? `over the first ${Math.round(o.curriculum * 100)}% of the run the training scenes go linearly from easy (${easy}; the rest of the run and every held-out check use the full distribution`
    : 'none (the full distribution throughout)';
  const tables = heldOut.tables
    .map((t) => `| ${t.title} | acc % |\n|---|---:|\n${t.rows.map(([l, a]) => `| ${l} | ${a.toFixed(1)} |`).join('\n')}`)
    .join('\n\n');
  const heldOutSection =
    objective === 'scenes'
      ? `**${heldOut.acc.toFixed(2)}%**, the mean of the ${SCENE_HEADS.length} heads' top-1 accuracies (chance ${SCENE_CHANCE.toFixed(1)}%) on ${s.heldOutImages} held-out pretraining images, measured at the end of the run with the included \`head.*\` (${(s.heldOutImages / evalSeconds).toFixed(0)} images/s inference). Shape kind and texture both right: **${heldOut.shapeTexture!.toFixed(1)}%** (the first model's 50-way label; chance 2%).\n\n${tables}`
      : `**${heldOut.acc.toFixed(2)}%** top-1 on ${s.heldOutImages} held-out pretraining images (chance ${(100 / PRETRAIN_CLASSES.length).toFixed(0)}%), measured at the end of the run with the included \`head.*\` (${(s.heldOutImages / evalSeconds).toFixed(0)} images/s inference). Shape kind and texture read separately from the 50-way prediction:\n\n${tables}`;
  const values: Record<string, string | number> = {
    name,
    fileSize: formatBytes(bytes),
    imageSize: cfg.imageSize,
    patchSize: cfg.patchSize,
    grid: g,
    patches: g * g,
    tokens: numTokens(cfg),
    width: cfg.hiddenSize,
    depth: cfg.numLayers,
    heads: cfg.numHeads,
    headDim: cfg.hiddenSize / cfg.numHeads,
    mlp: cfg.mlpDim,
    layerNormEps: cfg.layerNormEps,
    numClasses: cfg.numClasses,
    headRow:
      objective === 'scenes'
        ? `linear on the final-norm CLS token, ${cfg.numClasses} outputs = ${SCENE_HEADS.length} heads (${SCENE_HEADS.map((h) => `${h.name} ${h.classes.length}`).join(', ')}); the lab replaces it for every task`
        : `linear on the final-norm CLS token, ${cfg.numClasses} classes (the pretraining classes; the lab replaces it for every task)`,
    headCount: SCENE_HEADS.length,
    headRows: SCENE_HEADS.map((h) => `| ${h.name} | ${h.question} | ${h.classes.length} |`).join('\n'),
    parameters: parameterCount(cfg).toLocaleString('en'),
    mlpRatio: cfg.mlpDim / cfg.hiddenSize,
    shapeKinds: SHAPE_KINDS.join(', '),
    textures: TEXTURES.join(', '),
    classes: PRETRAIN_CLASSES.length,
    chance: (100 / PRETRAIN_CLASSES.length).toFixed(0),
    trainImages: o.trainSize > 0 ? `here cycling a pool of ${o.trainSize}` : 'a fresh image every time, none repeated',
    seed: o.seed,
    steps: s.steps.toLocaleString('en'),
    batch: o.batch,
    imagesSeen: s.imagesSeen.toLocaleString('en'),
    lr: o.lr,
    warmupPercent: (o.warmup * 100).toFixed(0),
    scheduleBy: o.steps !== null ? 'by step' : `by elapsed wall time, budget ${o.minutes} min`,
    weightDecay: o.wd,
    clip: o.clip || 'off',
    curriculum,
    wallMinutes: Math.floor(s.wallSeconds / 60),
    wallSeconds: s.wallSeconds % 60,
    imagesPerSecond: s.imagesPerSecond,
    machine: s.machine,
    validationTable,
    heldOutSection,
    commands: s.commands.join('\n'),
  };
  const read = (file: string) => readFile(new URL(file, import.meta.url), 'utf8');
  values.design = fillTemplate(await read(`./model-card-${objective}.md`), values);
  return fillTemplate(await read('./model-card.md'), values);
}

/** `{{key}}` -> values[key]; a key without a value is an error, never a silent blank. */
function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`The model card template names {{${key}}}, which has no value.`);
    return String(values[key]);
  });
}

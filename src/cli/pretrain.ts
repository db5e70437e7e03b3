/**
 * npm run pretrain -- [options]
 *
 * Pretrains the small ViT the lab ships (public/models/tiny_pretrained.safetensors) from random
 * weights on the procedural 50-class scenes of src/data/pretraining.ts, with the lab's own model
 * code (forward, loss, AdamW) in Node on WASM (or a GPU, --backend webgpu). Every step draws fresh images from the
 * endless training stream (or cycles a fixed pool with --train-size), so the model never sees an
 * image twice and held-out accuracy tracks training accuracy.
 *
 * Writes, under --out-dir:
 *   <name>.partial.safetensors + <name>.partial.json  every --checkpoint-minutes (for --resume)
 *   <name>.safetensors   timm layout via toCheckpointFile, config in the metadata, with the
 *                        50-class pretraining head as head.* (so held-out accuracy can be re-checked)
 *   <name>.md            the model card: architecture, data, objective, steps, images seen, wall
 *                        time, machine, held-out accuracy, and the exact command.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
import { clip, LabError } from '../domain/errors';
import { checkFiniteLoss } from '../train/guards';
import { enumArg, intArg, numArg, parseArgs, runMain, THREADS_USAGE, threadsArg, usageError } from './args';
import { backendArg, backendUsage, startBackend } from './backend';
import { describeAdapter } from '../backend/dawn';
import { endProgress, formatBytes, progressBar } from './progress';

const USAGE = `usage: npm run pretrain -- [options]

Pretrains a small ViT from random weights on the lab's procedural 50-class scenes
(${SHAPE_KINDS.length} shape kinds x ${TEXTURES.length} textures, src/data/pretraining.ts) in Node, on WASM or a GPU.

  --out-dir <dir>         where the weights, model card and checkpoints go (default public/models)
  --name <name>           file stem: <name>.safetensors, <name>.md (default tiny_pretrained)
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
  ${backendUsage(24)}
  --kernels lab|stock     the lab's kernels for the backend (default) or plain tfjs ops, to compare
${THREADS_USAGE}
  --resume                continue from <out-dir>/<name>.partial.* (model, data and schedule
                          options come from the checkpoint; --minutes/--steps may extend it)`;

/** Everything that defines a run; saved with each checkpoint so --resume continues the same run. */
interface PretrainOptions {
  cfg: ViTConfig;
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

/** Images of a list of items, rendered at the model resolution and normalised: [B, 3, S, S]. */
function pixelsOf(items: DataItem[], size: number, difficulty = 1): Float32Array {
  const plane = 3 * size * size;
  const out = new Float32Array(items.length * plane);
  items.forEach((it, k) => preprocessImage(renderSynthScene(samplePretrainScene(it.label, it.seed!, difficulty), { size }), size, NORM_HALF, out, k * plane));
  return out;
}

/** Training items of step `step`: fresh from the endless stream, or cycling a fixed pool. */
function stepItems(o: PretrainOptions, step: number): DataItem[] {
  const start = step * o.batch;
  if (o.trainSize <= 0) return pretrainItems(o.seed, PHASE_SPLIT, start, o.batch);
  const out: DataItem[] = [];
  for (let i = 0; i < o.batch; i++) out.push(pretrainItems(o.seed, PHASE_SPLIT, (start + i) % o.trainSize, 1)[0]!);
  return out;
}

async function accuracyOn(model: ViT, items: DataItem[], batch = 100): Promise<{ acc: number; perShape: number[]; perTexture: number[] }> {
  let correct = 0;
  const shapeHits = new Array<number>(SHAPE_KINDS.length).fill(0);
  const shapeN = new Array<number>(SHAPE_KINDS.length).fill(0);
  const texHits = new Array<number>(TEXTURES.length).fill(0);
  const texN = new Array<number>(TEXTURES.length).fill(0);
  const { cfg } = model;
  for (let s = 0; s < items.length; s += batch) {
    const part = items.slice(s, s + batch);
    const x = pixelsOf(part, cfg.imageSize);
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
  return { acc: (100 * correct) / Math.max(1, items.length), perShape: ratio(shapeHits, shapeN), perTexture: ratio(texHits, texN) };
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

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), {
    values: [
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
      'backend',
      'kernels',
      'threads',
    ],
    flags: ['resume'],
  });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length) throw usageError(`Unexpected argument '${args.positional[0]}'.`);
  const outDir = path.resolve(args.values.get('out-dir') ?? 'public/models');
  const name = args.values.get('name') ?? 'tiny_pretrained';
  if (!/^[\w.-]+$/.test(name)) throw usageError(`--name may hold letters, digits, '.', '_' and '-' only, got '${name}'.`);
  const backend = backendArg(args);
  const kernelChoice = enumArg(args, 'kernels', KERNEL_CHOICES, 'lab');
  const partialWeights = path.join(outDir, `${name}.partial.safetensors`);
  const partialState = path.join(outDir, `${name}.partial.json`);
  const command = `npm run pretrain -- ${process.argv.slice(2).join(' ')}`.trim();

  const stepsArg = args.values.has('steps') ? intArg(args, 'steps', 0, 1) : null;
  const minutesArg = numArg(args, 'minutes') ?? null;
  if (stepsArg !== null && minutesArg !== null) throw usageError('Give --minutes or --steps, not both.');

  let state: PretrainState;
  let resumeTensors: Map<string, HostTensor> | null = null;
  if (args.flags.has('resume')) {
    try {
      state = JSON.parse(await readFile(partialState, 'utf8')) as PretrainState;
      const bytes = await readFile(partialWeights);
      resumeTensors = readAll(parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path.basename(partialWeights)));
    } catch (e) {
      if (e instanceof LabError) throw e;
      throw new LabError(
        'checkpoint/unreadable',
        `--resume needs ${partialWeights} and ${partialState} from an earlier run: ${clip((e as NodeJS.ErrnoException).code ?? (e as Error).message, 120)}.`,
        'Start without --resume, or point --out-dir and --name at the run to continue.',
      );
    }
    const ignored = [...args.values.keys()].filter((k) => !['out-dir', 'name', 'backend', 'kernels', 'minutes', 'steps'].includes(k));
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
      numClasses: PRETRAIN_NUM_CLASSES,
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
      checkpointMinutes: numArg(args, 'checkpoint-minutes') ?? 3,
    };
    state = { version: 1, options, step: 0, imagesSeen: 0, seconds: 0, optimizerStep: 0, commands: [command], valHistory: [] };
  }
  const o = state.options;
  const cfg = o.cfg;
  await mkdir(outDir, { recursive: true });
  const started = await startBackend(backend, { kernels: kernelChoice, threads: threadsArg(args) });

  // Parameters: random init (timm-like N(0, 0.02), LayerNorm 1/0, 50-class head), or the checkpoint.
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
  console.error(
    `pretrain: ViT ${cfg.imageSize}px/${cfg.patchSize} D=${cfg.hiddenSize} L=${cfg.numLayers} H=${cfg.numHeads} MLP=${cfg.mlpDim} (${numTokens(cfg)} tokens, ${nParams.toLocaleString('en')} parameters, ${formatBytes(nParams * 4)}) | ` +
      `${PRETRAIN_NUM_CLASSES} classes | batch ${o.batch} | AdamW lr ${o.lr} wd ${o.wd} | ${o.steps !== null ? `${o.steps} steps` : `${o.minutes} min`} | backend ${tf.getBackend()}${state.step ? ` | resuming at step ${state.step}` : ''}`,
  );

  const sessionStart = performance.now();
  const elapsed = () => state.seconds + (performance.now() - sessionStart) / 1000;
  const progressOf = (step: number) => (o.steps !== null ? step / o.steps : elapsed() / (60 * o.minutes!));
  let lastCheckpoint = performance.now();
  let lossEma = NaN;
  let rate = 0; // images per second, smoothed
  let lastPrint = 0;

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
    const batch = { pixels: pixelsOf(items, cfg.imageSize, difficulty), labels: Int32Array.from(items.map((it) => it.label)), size: items.length };
    const { loss, correct } = trainStep(model, batch, { promptMode: 'none', promptDropout: 0 }, optimizer, { lr, seed: state.step, clipNorm: o.clip });
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
    if (process.stderr.isTTY || now - lastPrint > 15000 || state.step <= 3) {
      lastPrint = now;
      const eta = o.steps !== null ? (o.steps - state.step) * (o.batch / rate) : 60 * o.minutes! - elapsed();
      const total = o.steps ?? Math.max(state.step, Math.round(state.step / Math.max(p, 1e-9)));
      progressBar(
        'pretrain',
        state.step,
        total,
        `loss ${lossEma.toFixed(3)}  lr ${lr.toExponential(2)}${difficulty < 1 ? `  difficulty ${difficulty.toFixed(2)}` : ''}  ${rate.toFixed(1)} img/s  ETA ${fmtTime(eta)}`,
      );
    }
    if (now - lastCheckpoint > o.checkpointMinutes * 60000 && p < 1) {
      lastCheckpoint = now;
      let note = '';
      if (valItems.length) {
        const { acc } = await accuracyOn(model, valItems);
        state.valHistory.push({ step: state.step, valAcc: acc, loss: lossEma });
        note = `, held-out val ${acc.toFixed(1)}% on ${valItems.length}`;
      }
      await saveCheckpoint();
      endProgress();
      console.error(
        `checkpoint: step ${state.step}, ${state.imagesSeen.toLocaleString('en')} images, ${fmtTime(elapsed())} elapsed, loss ${lossEma.toFixed(3)}${note} -> ${path.relative(process.cwd(), partialWeights)}`,
      );
    }
  }
  endProgress();
  const trainSeconds = elapsed();
  optimizer.dispose();

  // Held-out accuracy on the test split (seeds disjoint from the training stream).
  const evalItems = pretrainingSplits({ seed: o.seed, testSize: o.evalSize }).test;
  console.error(`evaluating on ${evalItems.length} held-out images...`);
  const evalT0 = performance.now();
  const heldOut = await accuracyOn(model, evalItems);
  const evalSeconds = (performance.now() - evalT0) / 1000;
  console.error(
    `held-out accuracy ${heldOut.acc.toFixed(2)}% (chance ${(100 / PRETRAIN_NUM_CLASSES).toFixed(1)}%), ${(evalItems.length / evalSeconds).toFixed(1)} img/s inference`,
  );

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
    { pretraining: JSON.stringify(summary), classes: JSON.stringify(PRETRAIN_CLASSES) },
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

/** The model card: src/cli/model-card.md with the run's numbers filled in. */
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
  heldOut: { acc: number; perShape: number[]; perTexture: number[] },
  state: PretrainState,
  evalSeconds: number,
  bytes: number,
): Promise<string> {
  const g = cfg.imageSize / cfg.patchSize;
  const per = (labels: readonly string[], accs: number[]) => labels.map((l, i) => `| ${l} | ${accs[i]!.toFixed(1)} |`).join('\n');
  const validationTable = state.valHistory.length
    ? `\nHeld-out validation accuracy during the run (${o.valSize} images, checked at each checkpoint):\n\n| step | loss (EMA) | val acc % |\n|---:|---:|---:|\n${state.valHistory.map((v) => `| ${v.step} | ${v.loss.toFixed(3)} | ${v.valAcc.toFixed(1)} |`).join('\n')}\n`
    : '';
  const curriculum = o.curriculum
    ? `over the first ${Math.round(o.curriculum * 100)}% of the run the training scenes go linearly from easy (object centred, upright, at the largest size, on a flat background without grain or distractors) to the full distribution (\`samplePretrainScene(label, seed, difficulty)\`); the rest of the run and every held-out check use the full distribution`
    : 'none (the full distribution throughout)';
  const template = await readFile(new URL('./model-card.md', import.meta.url), 'utf8');
  return fillTemplate(template, {
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
    heldOutAccuracy: heldOut.acc.toFixed(2),
    heldOutImages: s.heldOutImages,
    inferenceRate: (s.heldOutImages / evalSeconds).toFixed(0),
    perShapeRows: per(SHAPE_KINDS, heldOut.perShape),
    perTextureRows: per(TEXTURES, heldOut.perTexture),
    commands: s.commands.join('\n'),
  });
}

/** `{{key}}` -> values[key]; a key without a value is an error, never a silent blank. */
function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`The model card template names {{${key}}}, which has no value.`);
    return String(values[key]);
  });
}

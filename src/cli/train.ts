/**
 * npm run train -- --model <name|path> --task <id> --method <m> [options] --out results.json
 *
 * Trains one method on one task with the same engine as the lab, in Node, and writes a JSON
 * results file: config, backend, parameter counts, one row per epoch, test accuracy per class.
 */
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { PROCEDURAL_TASKS, getTask, listTaskIds } from '../data/catalog';
import { isMethodId, METHOD_IDS } from '../train/methods';
import { modelSpecFor, NAMED_MODELS } from '../train/models';
import { nodeHost } from '../train/host.node.js';
import { disposeSession, exportTrained, runSession, summaryConfig } from '../train/session';
import { RunControl } from '../train/control';
import type { DataSpec, PromptControls, RunConfig } from '../domain/run';
import { parseSeeds, resolveGrid } from '../train/paper';
import { runPaperSession, type PaperSettings } from '../train/paperSession';
import { LabError, quoted } from '../domain/errors';
import { describePlan, formatBytes as formatMemory, type MemoryPlan } from '../train/memory';
import { wasmHeapBytes } from '../kernels/wasm/heap';
import { enumArg, intArg, numArg, parseArgs, runMain, THREADS_USAGE, threadsArg, usageError, type ParsedArgs } from './args';
import { backendArg, backendUsage, gpuMemoryArg, startBackend } from './backend';
import { checkWritable, readUserFile } from './files';
import { endProgress, formatBytes, progressBar } from './progress';
import { LossRiseWatch, lossRiseText, rerunLr } from '../train/divergence';

const USAGE = `usage: npm run train -- --model <name|path> --task <id> --method <method> [options]

  --model <name|path>   ${NAMED_MODELS.map((m) => m.name).join(' | ')}
                        or a checkpoint file in any supported layout (.safetensors hub/timm, Google .npz)
  --task <id>           a VTAB-1k task id (cifar100, dtd, ..., see README) or a procedural task
                        (${PROCEDURAL_TASKS.map((t) => t.id).join(', ')})
  --method <m>          ${METHOD_IDS.join(' | ')}
  --data <src>          procedural (default) | a vtab-1k folder | a .zip | an http(s) base URL
  --train-size N        training images (default 800; VTAB-1k: 800 train + 200 val)
  --val-size N          validation images (default train-size / 4)
  --test-size N         cap on test images (default: procedural 500, files: the whole test list)
  --epochs N            epochs per phase (default 10; ft_then_pt runs two phases)
  --batch N             batch size (default 32)
  --lr X                base learning rate (effective = lr x batch / 256; default: the method's)
  --wd X                weight decay (default: the method's)
  --prompt-length N     prompt tokens (default: the paper's length for the task x the model's
                        patches / 196, at least 1: the paper's own on ViT-B/16 at 224 px)
  --seed N              seed for splits, initialisation, shuffling and dropout (default 0)
  --protocol quick|paper
                        quick (default): one run, train / val / test. paper: the VTAB-1k protocol of
                        both papers: search --grid on train (800) / val (200), pick by val accuracy,
                        train --seeds runs on train + val (1000), report test mean ± std
  --seeds N|LIST        paper: final runs, a count from --seed (default 3) or a list (0,1,2)
  --grid G              paper: reduced (default: lr one per decade of the reference grid, 3 runs) |
                        reference (KMnP/vpt tune_vtab.py: 40 runs for prompts and linear, 16 for FT) |
                        explicit, e.g. 'lr=0.5,0.05;wd=0.0001,0'
  --no-early-stop       paper: let diverged search runs finish (default: stop them after the epoch)
  --prompt-init random|zero   how fresh prompts start (default random, as the reference)
  --freeze-prompts      keep prompts at their initial values; only the head trains (a control)
  --prompt-dropout X    dropout on prompt tokens (default: the method's, 0.1 deep, 0 shallow)
  --prompt-lr-scale X   the prompts' learning rate as a multiple of --lr (default 1, as the reference)
  --image-size N        input resolution (default: the checkpoint's; pos. embeddings are resized)
  ${backendUsage(22, { gpuMemory: true })}
${THREADS_USAGE}
  --recompute auto|on|off  activation recomputation: keep only each block's input and run the block
                        again in the backward pass (about 1/3 more time, a fraction of the memory);
                        auto (default) uses it only when one image does not fit without it. The memory
                        plan (printed before training) picks the largest micro-batch that fits and keeps
                        --batch through gradient accumulation.
  --skip-bad            leave out bad images and list them instead of stopping
  --save-params <file>  write the trained parameters (VPT: prompts + head; FT: the whole model)
  --load-params <file>  start from parameters saved by --save-params (with --epochs 0: evaluate only)
  --out <file>          results JSON (default results.json), rewritten after every epoch`;

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), {
    values: [
      'model',
      'task',
      'method',
      'data',
      'train-size',
      'val-size',
      'test-size',
      'epochs',
      'batch',
      'lr',
      'wd',
      'prompt-length',
      'seed',
      'image-size',
      'backend',
      'gpu-memory',
      'out',
      'save-params',
      'load-params',
      'recompute',
      'protocol',
      'seeds',
      'grid',
      'prompt-init',
      'prompt-dropout',
      'prompt-lr-scale',
      'threads',
    ],
    flags: ['skip-bad', 'no-early-stop', 'freeze-prompts'],
  });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const modelArg = args.values.get('model');
  const taskId = args.values.get('task');
  const method = args.values.get('method');
  if (!modelArg || !taskId || !method) throw usageError('--model, --task and --method are required.');
  if (!isMethodId(method)) throw usageError(`--method must be one of ${METHOD_IDS.join(', ')}, got ${quoted(method, 40)}.`);
  if (!listTaskIds().includes(taskId)) throw usageError(`Unknown task ${quoted(taskId, 40)}. Tasks: ${listTaskIds().join(', ')}.`);
  const task = getTask(taskId);
  const backend = backendArg(args);
  const gpuMemoryBytes = gpuMemoryArg(args, backend);
  const threads = threadsArg(args);
  const dataArg = args.values.get('data') ?? 'procedural';
  const data: DataSpec = dataArg === 'procedural' ? { kind: 'procedural' } : { kind: 'path', path: dataArg };
  const trainSize = intArg(args, 'train-size', 800, 1, 20000);
  const config: RunConfig = {
    runId: `cli-${Date.now().toString(36)}`,
    modelLabel: modelArg,
    model: modelSpecFor(modelArg),
    taskId,
    data,
    method,
    trainSize,
    valSize: intArg(args, 'val-size', Math.max(1, Math.floor(trainSize / 4)), 0, 20000),
    testSize: intArg(args, 'test-size', task.source === 'procedural' ? 500 : 0, 0),
    epochs: intArg(args, 'epochs', 10, 0, 1000),
    batchSize: intArg(args, 'batch', 32, 1, 4096),
    lr: numArg(args, 'lr', { positive: true }),
    weightDecay: numArg(args, 'wd'),
    promptLength: args.values.has('prompt-length') ? intArg(args, 'prompt-length', 0, 0, 1000) : undefined,
    seed: intArg(args, 'seed', 0, 0),
    imageSize: intArg(args, 'image-size', 0, 0, 1024),
    gradcamSamples: 0,
    skipBad: args.flags.has('skip-bad'),
    recompute: enumArg(args, 'recompute', ['auto', 'on', 'off'] as const, 'auto'),
    promptControls: promptControlsOf(args),
    importParams: args.values.has('load-params')
      ? {
          file: new Blob([
            (await readUserFile(args.values.get('load-params')!, '--load-params', 4 * 2 ** 30, 'checkpoint/unreadable')) as Uint8Array<ArrayBuffer>,
          ]),
          name: args.values.get('load-params')!,
        }
      : undefined,
  };
  const protocol = enumArg(args, 'protocol', ['quick', 'paper'] as const, 'quick');
  for (const only of ['seeds', 'grid']) if (protocol === 'quick' && args.values.has(only)) throw usageError(`--${only} belongs to --protocol paper.`);
  if (protocol === 'quick' && args.flags.has('no-early-stop')) throw usageError('--no-early-stop belongs to --protocol paper.');
  if (protocol === 'paper') {
    for (const fixed of ['lr', 'wd'])
      if (args.values.has(fixed))
        throw usageError(`--protocol paper searches the learning rate and weight decay: give them as --grid 'lr=...;wd=...', not --${fixed}.`);
    for (const no of ['save-params', 'load-params']) if (args.values.has(no)) throw usageError(`--${no} works with --protocol quick only.`);
  }
  const saveParams = args.values.get('save-params');
  const out = args.values.get('out') ?? 'results.json';
  // Outputs are proved writable before any time is spent: a run must not die after its work.
  await checkWritable(out, '--out');
  if (saveParams) await checkWritable(saveParams, '--save-params');
  const writeResults = (json: unknown) => {
    try {
      writeFileSync(out, JSON.stringify(json, null, 2));
    } catch (e) {
      throw new LabError(
        'output/unwritable',
        `--out ${quoted(out)} could not be written: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
        'Free disk space or give --out a path you can write to.',
      );
    }
  };

  if (protocol === 'paper') {
    let paper: PaperSettings;
    try {
      paper = {
        grid: resolveGrid(args.values.get('grid'), method),
        seeds: parseSeeds(args.values.get('seeds') ?? '3', config.seed),
        earlyStop: !args.flags.has('no-early-stop'),
      };
    } catch (e) {
      throw e instanceof LabError ? usageError(e.message) : e;
    }
    await startBackend(backend, { gpuMemoryBytes, threads });
    return runPaperCli(config, paper, out, writeResults);
  }

  const started = await startBackend(backend, { gpuMemoryBytes, threads });
  const t0 = performance.now();
  // Every finished epoch is on disk at once: a crash or Ctrl-C loses at most the epoch in flight.
  const partial = {
    config: summaryConfig(config),
    status: 'running',
    backend: '',
    trainableParams: 0,
    totalParams: 0,
    memory: [] as ReturnType<typeof planJson>[],
    epochs: [] as unknown[],
  };
  let stepsPerEpoch = 1;
  let lastStep = 0;
  const rise = new LossRiseWatch(); // the page's loss-rise guard, said as a warning line and `lossRise` in the JSON
  const result = await runSession({ ...config, imageSize: config.imageSize || 0 }, nodeHost, new RunControl(), {
    onProgress: (p) => {
      if (p.kind === 'progress' && p.unit === 'bytes' && p.total) progressBar(`download ${p.what}`, p.done, p.total, formatBytes(p.done));
    },
    onStarted: (s) => {
      stepsPerEpoch = s.stepsPerEpoch;
      Object.assign(partial, { backend: s.backend, trainableParams: s.trainableParams, totalParams: s.totalParams, memory: s.memory.map(planJson) });
      console.error(
        `train: ${method} on ${taskId} | ${config.modelLabel} | backend ${s.backend} | ${s.trainableParams.toLocaleString('en')} of ${s.totalParams.toLocaleString('en')} parameters train | ${stepsPerEpoch} steps/epoch`,
      );
      s.memory.forEach((p, i) => console.error(`${s.memory.length > 1 ? `phase ${i + 1} ` : ''}${describePlan(p)}`));
    },
    onEvent: (e) => {
      if (e.type === 'step') rise.step(e.loss, e);
      if (e.type === 'epoch') rise.epoch(e.metrics);
      if (e.type === 'step') {
        lastStep = e.step;
        progressBar(
          `epoch ${e.epoch}${e.phase > 1 ? ` (phase ${e.phase})` : ''}`,
          e.step,
          e.stepsPerEpoch,
          `loss ${e.loss.toFixed(4)}  ${e.imagesPerSec.toFixed(1)} img/s`,
        );
      } else if (e.type === 'epoch') {
        endProgress();
        const m = e.metrics;
        partial.epochs.push({ epoch: m.epoch, phase: m.phase, trainLoss: m.trainLoss, trainAcc: m.trainAcc, valAcc: m.valAcc, seconds: m.seconds });
        writeResults(partial);
        console.error(
          `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)}  train acc ${m.trainAcc.toFixed(1)}%  val acc ${m.valAcc.toFixed(1)}%  ${m.seconds.toFixed(1)} s`,
        );
      } else if (e.type === 'notice') console.error(`notice: ${e.message}`);
    },
  });
  void lastStep;
  const { summary } = result;
  const results = {
    config: summary.config,
    backend: summary.backend,
    ...(started.adapter ? { adapter: started.adapter } : {}),
    trainableParams: summary.trainableParams,
    totalParams: summary.totalParams,
    epochs: summary.epochs.map((m) => ({ epoch: m.epoch, phase: m.phase, trainLoss: m.trainLoss, trainAcc: m.trainAcc, valAcc: m.valAcc, seconds: m.seconds })),
    test: summary.test,
    notices: summary.notices,
    lossRise: rise.found ? { ...rise.found, lr: summary.config.lr } : null,
    // The plan, and what the run measured against it: the WASM heap only grows, so its size now is the run's high-water mark.
    memory: { plan: partial.memory, heapHighWaterBytes: wasmHeapBytes() ?? undefined },
    seconds: (performance.now() - t0) / 1000,
  };
  if (saveParams) {
    await writeFile(saveParams, await exportTrained(result, config));
    console.error(`trained parameters (${result.outcome.trainable.length} tensors) in ${saveParams}`);
  }
  disposeSession(result);
  writeResults({ ...results, status: 'done' });
  if (results.lossRise) console.error(`warning: ${lossRiseText(results.lossRise)} Rerun with --lr ${rerunLr(results.lossRise.lr ?? summary.config.lr ?? 0)}.`);
  const heap = results.memory.heapHighWaterBytes;
  if (heap !== undefined)
    console.error(
      `memory: WASM heap high-water ${formatMemory(heap)} (planned ${partial.memory.map((p) => formatMemory(p.estimateBytes)).join(' / ')} per step)`,
    );
  console.log(`test accuracy ${summary.test!.testAcc.toFixed(2)}% on ${summary.test!.numTest} images; results in ${out}`);
  return 0;
}, USAGE);

/** A phase's memory plan as the results JSON keeps it. */
function planJson(p: MemoryPlan) {
  return {
    microBatch: p.microBatch,
    accumulation: p.accumulation,
    recompute: p.recompute,
    evalBatch: p.evalBatch,
    estimateBytes: p.estimate.totalBytes,
    tensorBytes: p.estimate.tensorBytes,
    budgetBytes: p.budget.bytes,
    budget: p.budget.source,
  };
}

/** The prompt investigation controls from the command line (undefined when none is given). */
function promptControlsOf(args: ParsedArgs): PromptControls | undefined {
  const c: PromptControls = {
    init: args.values.has('prompt-init') ? enumArg(args, 'prompt-init', ['random', 'zero'] as const, 'random') : undefined,
    freeze: args.flags.has('freeze-prompts') || undefined,
    dropout: numArg(args, 'prompt-dropout'),
    lrScale: numArg(args, 'prompt-lr-scale'),
  };
  if (c.dropout !== undefined && c.dropout >= 1) throw usageError(`--prompt-dropout must be below 1, got ${c.dropout}.`);
  return Object.values(c).some((v) => v !== undefined) ? c : undefined;
}

/** --protocol paper: the search, the seeds, one results file with every run. */
async function runPaperCli(config: RunConfig, paper: PaperSettings, out: string, writeResults: (json: unknown) => void): Promise<number> {
  const t0 = performance.now();
  const points = paper.grid.lrs.length * paper.grid.wds.length;
  console.error(
    `train: paper protocol, ${config.method} on ${config.taskId} | ${config.modelLabel} | search ${points} point(s) (lr ${paper.grid.lrs.join(', ')} × wd ${paper.grid.wds.join(', ')}) on train ${config.trainSize} / val ${config.valSize}, then ${paper.seeds.length} seed(s) (${paper.seeds.join(', ')}) on train + val`,
  );
  let stage = '';
  const result = await runPaperSession(config, paper, nodeHost, new RunControl(), {
    onProgress: (p) => {
      if (p.kind === 'progress' && p.unit === 'bytes' && p.total) progressBar(`download ${p.what}`, p.done, p.total, formatBytes(p.done));
    },
    onPaperEvent: (e) => {
      if (e.type === 'run-start') {
        stage = e.stage === 'search' ? `search ${e.index + 1}/${e.of} lr ${e.lr} wd ${e.wd}` : `final ${e.index + 1}/${e.of} seed ${e.seed}`;
      } else {
        endProgress();
        const val = e.valAcc !== undefined && Number.isFinite(e.valAcc) ? `val ${e.valAcc.toFixed(1)}%` : 'no val accuracy';
        const what = e.stage === 'search' ? `${val}${e.stoppedEarly ? ' (stopped: diverged)' : ''}` : `test ${e.testAcc?.toFixed(1)}%`;
        console.error(`${stage}: ${what} (${e.seconds.toFixed(0)} s)`);
      }
    },
    onEvent: (e) => {
      if (e.type === 'step') progressBar(`${stage} epoch ${e.epoch}`, e.step, e.stepsPerEpoch, `loss ${e.loss.toFixed(4)}`);
      else if (e.type === 'notice') console.error(`notice: ${e.message}`);
    },
  });
  const p = result.paper;
  writeResults({
    status: 'done',
    config: result.config,
    backend: result.backend,
    trainableParams: result.trainableParams,
    totalParams: result.totalParams,
    ...p,
    why: result.why,
    seconds: (performance.now() - t0) / 1000,
  });
  for (const n of p.notices) console.error(`notice: ${n}`);
  const std = Number.isFinite(p.std) ? ` ± ${p.std.toFixed(2)}` : '';
  console.log(
    `chosen lr ${p.chosen.lr}, wd ${p.chosen.wd} (val ${p.chosen.valAcc.toFixed(1)}%); test accuracy ${p.mean.toFixed(2)}%${std} over ${p.final.length} seed(s), trained on ${p.finalTrainSize} images, ${p.numTest} test images (chance ${p.chance.toFixed(1)}%${p.nearChance ? ', within noise of chance' : ''}); results in ${out}`,
  );
  return 0;
}

/**
 * npm run train -- --model <name|path> --task <id> --method <m> [options] --out results.json
 *
 * Trains one method on one task through the lab's engine (the page's queue, run record, cancel and
 * restart from a checkpoint), in Node, and writes a JSON results file: config, backend, parameter
 * counts, one row per epoch, test accuracy per class. Ctrl-C stops the run after its current step
 * and keeps its last epoch's checkpoint beside --out; --resume continues from it.
 */
import { PROCEDURAL_TASKS, getTask, listTaskIds } from '../data/catalog';
import { isMethodId, METHOD_IDS, METHODS } from '../train/methods';
import { modelSpecFor, NAMED_MODELS } from '../train/models';
import { resolveHyperDefaults, summaryConfig, type SessionResult } from '../train/session';
import type { DataSpec, EpochMetrics, PromptControls, RunConfig, RunInfo } from '../domain/run';
import type { PaperSessionResult } from '../train/paperSession';
import { LabError, clip, quoted } from '../domain/errors';
import { EngineRunner } from '../engine/runner.node.js';
import { removeIfEmpty } from '../engine/files.node.js';
import { describePlan, formatBytes as formatMemory, type MemoryPlan } from '../train/memory';
import { wasmHeapBytes } from '../kernels/wasm/heap';
import { enumArg, gridArg, intArg, MAX_INT_ARG, numArg, parseArgs, runMain, seedsArg, THREADS_USAGE, threadsArg, usageError, type ParsedArgs } from './args';
import { backendArg, backendUsage, gpuMemoryArg, type CliBackend } from './backend';
import { checkOutputs, checkWritable, readUserFile, writeFileAtomic, writeFileAtomicAsync } from './files';
import { downloadBar, endProgress, progressBar } from './progress';
import { checkStateDir, cliPersistence, configChanges, runFailure, engineBackend, stateDirOf, stopOnSignal } from './runs';
import { lossRiseText, rerunLr } from '../train/divergence';

const USAGE = `usage: npm run train -- --model <name|path> --task <id> --method <method> [options]

  --model <name|path>   ${NAMED_MODELS.map((m) => m.name).join(' | ')}
                        or a checkpoint file in any supported layout (.safetensors hub/timm, Google .npz)
  --task <id>           a VTAB-1k task id (cifar100, dtd, ..., see README) or a procedural task
                        (${PROCEDURAL_TASKS.map((t) => t.id).join(', ')})
  --method <m>          ${METHOD_IDS.join(' | ')}
  --data <src>          procedural (default) | a vtab-1k folder | a .zip | an http(s) base URL
  --train-size N        training images, 1 to 20,000 (default 800; VTAB-1k: 800 train + 200 val)
  --val-size N          validation images, 1 to 20,000 (default train-size / 4)
  --test-size N         cap on test images, 0 to 100,000 (default: procedural 500, files: 0, the
                        whole test list)
  --epochs N            epochs per phase, 0 to 1,000 (default 10; ft_then_pt runs two phases)
  --batch N             batch size, 1 to 4,096 (default 32)
  --lr X                base learning rate, a number > 0 (effective = lr x batch / 256; default:
                        the method's)
  --wd X                weight decay, a number >= 0 (default: the method's)
  --prompt-length N     prompt tokens, 1 to 1,000, for the methods with prompts (default: the
                        paper's length for the task x the model's patches / 196, at least 1: the
                        paper's own on ViT-B/16 at 224 px)
  --seed N              seed for splits, initialisation, shuffling and dropout, 0 to 2,147,483,647
                        (default 0)
                        (integers are decimal digits; every option is given at most once)
  --protocol quick|paper
                        quick (default): one run, train / val / test. paper: the VTAB-1k protocol of
                        both papers: search --grid on train (800) / val (200), pick by val accuracy,
                        train --seeds runs on train + val (1000), report test mean ± std
  --seeds N|LIST        paper: final runs, a count from --seed (1 to 100; default 3) or a list of
                        up to 100 seeds (0,1,2)
  --grid G              paper: reduced (default: lr one per decade of the reference grid, 3 runs) |
                        reference (KMnP/vpt tune_vtab.py: 40 runs for prompts and linear, 16 for FT) |
                        explicit, e.g. 'lr=0.5,0.05;wd=0.0001,0' (at most 200 points)
  --no-early-stop       paper: let diverged search runs finish (default: stop them after the epoch)
  --prompt-init random|zero   how fresh prompts start (default random, as the reference)
  --freeze-prompts      keep prompts at their initial values; only the head trains (a control)
  --prompt-dropout X    dropout on prompt tokens, from 0 to below 1 (default: the method's, 0.1 deep,
                        0 shallow)
  --prompt-lr-scale X   the prompts' learning rate as a multiple of --lr, a number >= 0 (default 1,
                        as the reference)
  --image-size N        input resolution, 0 to 1,024 (default 0: the checkpoint's; pos. embeddings
                        are resized)
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
  --out <file>          results JSON (default results.json), rewritten after every epoch
                        (no output may be an input: --model, --load-params or a file in --data)
  --resume              continue the quick run that Ctrl-C (or a failure) stopped, from the checkpoint
                        of its last finished epoch, kept in <out>.resume/ until the run ends; give the
                        options it was started with. It ends with the weights an uninterrupted run has`;

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
    flags: ['skip-bad', 'no-early-stop', 'freeze-prompts', 'resume'],
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
  // The list of names first: 'constructor' or '__proto__' are in every object, and a lookup by
  // `in` alone would find them (then fail deep inside the run as an internal error).
  if (!(METHOD_IDS as readonly string[]).includes(method) || !isMethodId(method))
    throw usageError(`--method must be one of ${METHOD_IDS.join(', ')}, got ${quoted(method, 40)}.`);
  const prompted = METHODS[method].phases.some((p) => p.promptMode !== 'none');
  if (!listTaskIds().includes(taskId)) throw usageError(`Unknown task ${quoted(taskId, 40)}. Tasks: ${listTaskIds().join(', ')}.`);
  const task = getTask(taskId);
  const backend = backendArg(args);
  const gpuMemoryBytes = gpuMemoryArg(args, backend);
  const threads = threadsArg(args);
  const dataArg = args.values.get('data') ?? 'procedural';
  const data: DataSpec = dataArg === 'procedural' ? { kind: 'procedural' } : { kind: 'path', path: dataArg };
  const trainSize = intArg(args, 'train-size', 800, 1, 20000);
  // A prompt method with no prompts is a linear probe under another name; a run without
  // validation images would print "val acc NaN%" every epoch. Both are refused here.
  if (args.values.has('prompt-length') && !prompted) throw usageError(`--prompt-length applies to the methods with prompts; ${method} has none.`);
  const config: RunConfig = {
    runId: `cli-${Date.now().toString(36)}`,
    modelLabel: modelArg,
    model: modelSpecFor(modelArg),
    taskId,
    data,
    method,
    trainSize,
    valSize: intArg(args, 'val-size', Math.max(1, Math.floor(trainSize / 4)), 1, 20000),
    testSize: intArg(args, 'test-size', task.source === 'procedural' ? 500 : 0, 0, 100_000),
    epochs: intArg(args, 'epochs', 10, 0, 1000),
    batchSize: intArg(args, 'batch', 32, 1, 4096),
    lr: numArg(args, 'lr', { positive: true }),
    weightDecay: numArg(args, 'wd'),
    promptLength: args.values.has('prompt-length') ? intArg(args, 'prompt-length', 0, 1, 1000) : undefined,
    seed: intArg(args, 'seed', 0, 0, MAX_INT_ARG),
    imageSize: intArg(args, 'image-size', 0, 0, 1024),
    gradcamSamples: 0,
    skipBad: args.flags.has('skip-bad'),
    recompute: enumArg(args, 'recompute', ['auto', 'on', 'off'] as const, 'auto'),
    promptControls: promptControlsOf(args),
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
  const resume = args.flags.has('resume');
  if (resume && protocol === 'paper')
    throw usageError('--resume continues a quick run from its last finished epoch; a paper-protocol run starts again: run it without --resume.');
  if (protocol === 'paper')
    config.protocol = {
      kind: 'paper',
      grid: gridArg(args.values.get('grid'), config.method),
      seeds: seedsArg(args, '3', config.seed),
      earlyStop: !args.flags.has('no-early-stop'),
    };
  const saveParams = args.values.get('save-params');
  const out = args.values.get('out') ?? 'results.json';
  const state = stateDirOf(out);
  // Outputs are proved writable, and proved not to be inputs, before any time is spent: a run
  // must not die after its work, nor replace the checkpoint or a list file it reads.
  await checkWritable(out, '--out');
  if (saveParams) await checkWritable(saveParams, '--save-params');
  await checkOutputs(
    [{ path: out, option: '--out' }, ...(saveParams ? [{ path: saveParams, option: '--save-params' }] : [])],
    [
      { path: modelArg, option: '--model' },
      ...(args.values.has('load-params') ? [{ path: args.values.get('load-params')!, option: '--load-params' }] : []),
      ...(dataArg !== 'procedural' && !/^https?:\/\//i.test(dataArg) ? [{ path: dataArg, option: '--data' }] : []),
    ],
  );
  await checkStateDir(state, '--out');
  if (args.values.has('load-params')) {
    const file = args.values.get('load-params')!;
    const bytes = await readUserFile(file, '--load-params', 4 * 2 ** 30, 'checkpoint/unreadable');
    config.importParams = { file: new Blob([bytes as Uint8Array<ArrayBuffer>]), name: file };
  }
  // Written whole or not at all (a crash mid-write keeps the previous epoch's file).
  const writeResults = (json: unknown) => writeFileAtomic(out, JSON.stringify(json, null, 2), '--out');

  // The run goes through the engine, stored beside --out until it ends: Ctrl-C keeps its last
  // epoch's checkpoint there, and --resume continues from it.
  const host = { backend, gpuMemoryBytes, threads };
  return config.protocol ? runPaperCli(config, out, writeResults, host) : runQuickCli(config, { out, saveParams, resume, writeResults }, host);
}, USAGE);

/** The backend a CLI run is on. */
interface CliHost {
  backend: CliBackend;
  gpuMemoryBytes?: number;
  threads?: number;
}

/**
 * The stored run this command continues (--resume), or none after checking that starting afresh
 * loses nothing: a run with a checkpoint is only ever continued or deleted by the user.
 */
async function storedRun(runner: EngineRunner, config: RunConfig, state: string, resume: boolean): Promise<RunInfo | undefined> {
  const stored = await runner.restore();
  const unfinished = stored.find((r) => r.hasCheckpoint) ?? stored.find((r) => r.summary.status !== 'done');
  if (!resume) {
    if (unfinished?.hasCheckpoint)
      throw new LabError(
        'output/unwritable',
        `--out: ${quoted(state)} holds the checkpoint of an unfinished run (${epochsText(unfinished)}).`,
        'Continue it with the same command and --resume, or delete that folder to start again.',
      );
    for (const r of stored) await runner.forget(r.runId);
    return undefined;
  }
  if (!unfinished)
    throw new LabError('storage/missing', `--resume: ${quoted(state)} holds no unfinished run to continue.`, 'Run the command without --resume to start one.');
  const changes = configChanges(unfinished.summary.config, summaryConfig(resolveHyperDefaults({ ...config, runId: unfinished.runId })));
  if (unfinished.importedFrom !== config.importParams?.name)
    changes.push(`load-params ${clip(unfinished.importedFrom ?? 'none', 80)} → ${clip(config.importParams?.name ?? 'none', 80)}`);
  if (changes.length)
    throw new LabError(
      'config/invalid',
      `--resume: the unfinished run in ${quoted(state)} was started with other settings (${changes.join('; ')}).`,
      'Give the options it was started with, or delete that folder to start again.',
    );
  return unfinished;
}

/** "epoch 2 of 6 done": how far a stored run got. */
function epochsText(r: RunInfo): string {
  const planned = r.summary.config.epochs * METHODS[r.summary.config.method].phases.length;
  return `epoch ${r.summary.epochs.length} of ${planned} done`;
}

/** --protocol quick: one run, its epochs printed and kept in --out as they end. */
async function runQuickCli(
  config: RunConfig,
  o: { out: string; saveParams?: string; resume: boolean; writeResults: (json: unknown) => void },
  host: CliHost,
): Promise<number> {
  const { out, saveParams, writeResults } = o;
  const state = stateDirOf(out);
  const backend = engineBackend(host.backend, host);
  // The trained parameters are written to --save-params as the engine exports them (once); a
  // write that fails is this command's error, reported after the run.
  const saved: { tensors?: number; error?: unknown } = {};
  const persistence = cliPersistence(state, async (t) => {
    if (!saveParams) return;
    try {
      await writeFileAtomicAsync(saveParams, new Uint8Array(await t.blob.arrayBuffer()), '--save-params');
      saved.tensors = t.trainable.length;
    } catch (e) {
      saved.error = e;
    }
  });
  // Every finished epoch is on disk at once: a crash loses at most the epoch in flight.
  const partial = {
    config: summaryConfig(config),
    status: 'running',
    backend: '',
    trainableParams: 0,
    totalParams: 0,
    memory: [] as ReturnType<typeof planJson>[],
    epochs: [] as ReturnType<typeof epochJson>[],
  };
  let session: SessionResult | undefined;
  // Epochs already reported: a resumed run's earlier ones were printed by the process that trained them.
  const reported = new Set<string>();
  const epochKey = (m: EpochMetrics) => `${m.phase}:${m.epoch}`;
  const runner = new EngineRunner({
    persistence,
    initBackend: backend.initBackend,
    resetBackend: backend.resetBackend,
    observe: {
      started: (_runId, s) => {
        Object.assign(partial, { backend: s.backend, trainableParams: s.trainableParams, totalParams: s.totalParams, memory: s.memory.map(planJson) });
        console.error(
          `train: ${config.method} on ${config.taskId} | ${clip(config.modelLabel)} | backend ${s.backend} | ${s.trainableParams.toLocaleString('en')} of ${s.totalParams.toLocaleString('en')} parameters train | ${s.stepsPerEpoch} steps/epoch`,
        );
        s.memory.forEach((p, i) => console.error(`${s.memory.length > 1 ? `phase ${i + 1} ` : ''}${describePlan(p)}`));
      },
      finished: (_runId, r) => {
        if (r.protocol === 'quick') session = r.session;
      },
    },
    onEvent: (e) => {
      if (e.type === 'progress') downloadBar(e.progress);
      else if (e.type === 'step') {
        progressBar(
          `epoch ${e.epoch}${e.phase > 1 ? ` (phase ${e.phase})` : ''}`,
          e.step,
          e.stepsPerEpoch,
          `loss ${e.loss.toFixed(4)}  ${e.imagesPerSec.toFixed(1)} img/s`,
        );
      } else if (e.type === 'notice') console.error(`notice: ${e.message}`);
      else if (e.type === 'run') {
        const fresh = e.run.summary.epochs.filter((m) => !reported.has(epochKey(m)));
        if (!fresh.length) return;
        endProgress();
        partial.epochs = e.run.summary.epochs.map(epochJson);
        writeResults(partial);
        for (const m of fresh) {
          reported.add(epochKey(m));
          console.error(
            `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)}  train acc ${m.trainAcc.toFixed(1)}%  val acc ${m.valAcc.toFixed(1)}%  ${m.seconds.toFixed(1)} s`,
          );
        }
      }
    },
  });
  const previous = await storedRun(runner, config, state, o.resume);
  const started = await backend.start();
  const t0 = performance.now();
  for (const m of previous?.summary.epochs ?? []) reported.add(epochKey(m));
  if (previous)
    console.error(
      previous.hasCheckpoint
        ? `resume: ${epochsText(previous)}; continuing from the checkpoint in ${state}`
        : `resume: no epoch had finished; starting from the beginning`,
    );
  const interrupt = stopOnSignal(
    () => runner.cancel(),
    (signal) => {
      endProgress();
      console.error(`${signal}: stopping after this step; the last finished epoch's checkpoint stays in ${state} (Ctrl-C again to quit at once)`);
    },
  );
  let info: RunInfo;
  try {
    info = previous
      ? await runner.restart(previous.runId, { model: config.model, data: config.data, importParams: config.importParams })
      : await runner.run(config, 'npm run train');
  } finally {
    interrupt.dispose();
  }
  if (info.summary.status !== 'done') {
    endProgress();
    const cancelled = info.summary.status === 'cancelled';
    // What the run trained stays for --resume; a run stopped before its first epoch leaves nothing.
    if (info.hasCheckpoint) console.error(`${cancelled ? 'interrupted' : 'notice'}: ${epochsText(info)}; --resume continues from the checkpoint in ${state}`);
    else {
      if (cancelled) console.error('interrupted before the first epoch ended: nothing to keep');
      await runner.forget(info.runId);
      await removeIfEmpty(state);
    }
    if (!cancelled) throw runFailure(info);
    writeResults({ ...partial, status: 'cancelled' });
    return interrupt.exitCode || SIGINT_EXIT;
  }
  await runner.forget(info.runId);
  await removeIfEmpty(state);
  if (saved.error) throw saved.error;
  const { summary, data } = session!;
  // The sizes the run really had: a list shorter than asked (train800.txt with 16 lines) or a
  // smaller pool gives fewer images than the options say, and the record must not claim more.
  const sizes = { train: data.train.size, val: data.val.size, test: data.test.size };
  const results = {
    config: { ...summary.config, trainSize: sizes.train, valSize: sizes.val, requested: { trainSize: config.trainSize, valSize: config.valSize } },
    backend: summary.backend,
    ...(started.adapter ? { adapter: started.adapter } : {}),
    trainableParams: summary.trainableParams,
    totalParams: summary.totalParams,
    epochs: summary.epochs.map(epochJson),
    test: summary.test,
    notices: summary.notices,
    // The page's loss-rise guard, kept by the engine in the run's record: a warning line below.
    lossRise: info.summary.lossRise ?? null,
    // The plan, and what the run measured against it: the WASM heap only grows, so its size now is the run's high-water mark.
    memory: { plan: partial.memory, heapHighWaterBytes: wasmHeapBytes() ?? undefined },
    seconds: (performance.now() - t0) / 1000,
  };
  if (saveParams) console.error(`trained parameters (${saved.tensors} tensors) in ${saveParams}`);
  writeResults({ ...results, status: 'done' });
  if (results.lossRise) console.error(`warning: ${lossRiseText(results.lossRise)} Rerun with --lr ${rerunLr(results.lossRise.lr ?? summary.config.lr ?? 0)}.`);
  const heap = results.memory.heapHighWaterBytes;
  if (heap !== undefined)
    console.error(
      `memory: WASM heap high-water ${formatMemory(heap)} (planned ${partial.memory.map((p) => formatMemory(p.estimateBytes)).join(' / ')} per step)`,
    );
  console.log(`test accuracy ${summary.test!.testAcc.toFixed(2)}% on ${summary.test!.numTest} images; results in ${out}`);
  return 0;
}

/** The exit code of a run stopped by Ctrl-C. */
const SIGINT_EXIT = 130;

/** An epoch as the results JSON keeps it. */
function epochJson(m: EpochMetrics) {
  return { epoch: m.epoch, phase: m.phase, trainLoss: m.trainLoss, trainAcc: m.trainAcc, valAcc: m.valAcc, seconds: m.seconds };
}

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
async function runPaperCli(config: RunConfig, out: string, writeResults: (json: unknown) => void, host: CliHost): Promise<number> {
  const paper = config.protocol!;
  const state = stateDirOf(out);
  const backend = engineBackend(host.backend, host);
  const points = paper.grid.lrs.length * paper.grid.wds.length;
  let stage = '';
  let result: PaperSessionResult | undefined;
  const runner = new EngineRunner({
    persistence: cliPersistence(state),
    initBackend: backend.initBackend,
    resetBackend: backend.resetBackend,
    observe: {
      paperEvent: (_runId, e) => {
        if (e.type === 'run-start') {
          stage = e.stage === 'search' ? `search ${e.index + 1}/${e.of} lr ${e.lr} wd ${e.wd}` : `final ${e.index + 1}/${e.of} seed ${e.seed}`;
        } else {
          endProgress();
          const val = e.valAcc !== undefined && Number.isFinite(e.valAcc) ? `val ${e.valAcc.toFixed(1)}%` : 'no val accuracy';
          const what = e.stage === 'search' ? `${val}${e.stoppedEarly ? ' (stopped: diverged)' : ''}` : `test ${e.testAcc?.toFixed(1)}%`;
          console.error(`${stage}: ${what} (${e.seconds.toFixed(0)} s)`);
        }
      },
      finished: (_runId, r) => {
        if (r.protocol === 'paper') result = r.session;
      },
    },
    onEvent: (e) => {
      if (e.type === 'progress') downloadBar(e.progress);
      else if (e.type === 'step') progressBar(`${stage} epoch ${e.epoch}`, e.step, e.stepsPerEpoch, `loss ${e.loss.toFixed(4)}`);
      else if (e.type === 'notice') console.error(`notice: ${e.message}`);
    },
  });
  await storedRun(runner, config, state, false);
  await backend.start();
  const t0 = performance.now();
  console.error(
    `train: paper protocol, ${config.method} on ${config.taskId} | ${config.modelLabel} | search ${points} point(s) (lr ${paper.grid.lrs.join(', ')} × wd ${paper.grid.wds.join(', ')}) on train ${config.trainSize} / val ${config.valSize}, then ${paper.seeds.length} seed(s) (${paper.seeds.join(', ')}) on train + val`,
  );
  const interrupt = stopOnSignal(
    () => runner.cancel(),
    (signal) => {
      endProgress();
      console.error(`${signal}: stopping after this step (a paper-protocol run starts again when run again; Ctrl-C again to quit at once)`);
    },
  );
  let info: RunInfo;
  try {
    info = await runner.run(config, 'npm run train --protocol paper');
  } finally {
    interrupt.dispose();
  }
  // Nothing of an unfinished protocol is kept: its search runs are not resumable one by one.
  await runner.forget(info.runId);
  await removeIfEmpty(state);
  if (info.summary.status === 'failed') throw runFailure(info);
  if (info.summary.status === 'cancelled') return interrupt.exitCode || SIGINT_EXIT;
  const r = result!;
  const p = r.paper;
  writeResults({
    status: 'done',
    config: r.config,
    backend: r.backend,
    trainableParams: r.trainableParams,
    totalParams: r.totalParams,
    ...p,
    why: r.why,
    seconds: (performance.now() - t0) / 1000,
  });
  for (const n of p.notices) console.error(`notice: ${n}`);
  const std = Number.isFinite(p.std) ? ` ± ${p.std.toFixed(2)}` : '';
  console.log(
    `chosen lr ${p.chosen.lr}, wd ${p.chosen.wd} (val ${p.chosen.valAcc.toFixed(1)}%); test accuracy ${p.mean.toFixed(2)}%${std} over ${p.final.length} seed(s), trained on ${p.finalTrainSize} images, ${p.numTest} test images (chance ${p.chance.toFixed(1)}%${p.nearChance ? ', within noise of chance' : ''}); results in ${out}`,
  );
  return 0;
}

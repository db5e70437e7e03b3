/**
 * npm run study -- [--model scenes_vit] [--tasks a,b] [--methods ft,vpt_deep,linear]
 *                  [--sizes 400,2000] [--seeds 3] [--epochs 10,5] [--protocol quick|paper]
 *                  [--grid reduced] [--out study.json] [--shard i/n]
 *
 * The miniature of the paper with the bundled model: each method on each offline task at each
 * train size, each run through the lab's engine as in `npm run train`, plus the Fréchet distance of
 * each task's CLS features from the model's pretraining data (the lab's "When does VPT win?"
 * computation). With --protocol paper each task × size × method is the VTAB-1k protocol (search
 * on train / val, final runs on train + val per seed, test) and the output adds the "why" table.
 * Prints Markdown tables and writes every run's results as JSON. Ctrl-C stops the study after the
 * current step; run again, it goes on from there (the stopped cell from its last epoch's checkpoint).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROCEDURAL_TASKS } from '../data/catalog';
import { pretrainingReference } from '../data/sceneObjective';
import { DEFAULT_BUNDLED_ID, pretrainObjectiveOf } from '../train/dims';
import { splitGaussian } from '../analysis/features';
import { frechetDistance } from '../analysis/frechet';
import { disposeParams } from '../model/params';
import { METHOD_IDS } from '../train/methods';
import type { MethodId, RunConfig, RunInfo } from '../domain/run';
import { modelSpecFor } from '../train/models';
import { nodeHost } from '../train/host.node.js';
import { loadModel, openSplits, resolveHyperDefaults, summaryConfig } from '../train/session';
import { trainDataFromSplits } from '../data/fromSplits';
import { LabError, clip, quoted } from '../domain/errors';
import { compileSchema } from './schemas';
import { expectationOf, pathOf } from '../data/schema';
import { enumArg, gridArg, intArg, listArg, numArg, parseArgs, runMain, seedsArg, THREADS_USAGE, threadsArg, usageError } from './args';
import { resolveGrid } from '../train/paper';
import type { PaperEvent, PaperSessionResult } from '../train/paperSession';
import { EngineRunner } from '../engine/runner.node.js';
import { removeIfEmpty } from '../engine/files.node.js';
import { backendArg, backendUsage, gpuMemoryArg } from './backend';
import { checkStateDir, cliPersistence, configChanges, engineBackend, runFailure, stateDirOf, stopOnSignal } from './runs';
import { checkOutputs, checkWritable, readUserJson, writeFileAtomicAsync } from './files';
import { miniatureStudyOf, paperRowOf } from './studyReport';
import { sideBySideTable, type MiniatureStudy } from '../analysis/miniature';
import { mergeStudyFiles, readStudyFile, readStudySources, studyTables, type StudyFile, type StudyRow } from './studyFile';

const USAGE = `usage: npm run study -- [options]

  --model <name|path>   default ${DEFAULT_BUNDLED_ID} (the page's default bundled model)
  --tasks LIST          default: every offline task (${PROCEDURAL_TASKS.map((t) => t.id).join(', ')})
  --methods LIST        default ft,vpt_deep,linear
  --sizes LIST          train sizes, 1 to 20,000 each, at most 100 (default 400,2000; validation =
                        a quarter)
  --val-sizes LIST      validation images per train size instead of a quarter, 1 to 20,000 each
                        (--sizes 800,100 --val-sizes 200,100: VTAB-1k's 800 + 200 and a small 100 + 100)
  --epochs LIST         epochs per size, 0 to 1,000 each (default 10,5)
  --seeds N|LIST        a count from seed 0 (1 to 100; 3 = seeds 0, 1, 2) or a list of up to 100;
                        default 1 (quick), 3 (paper)
  --protocol quick|paper
                        quick (default): one run per seed on train / val / test at the method's
                        defaults. paper: search --grid on train / val, choose on val, then one final
                        run per seed on train + val, test mean ± std (see npm run train -- --help)
  --grid G              paper: reduced (default) | reference | 'lr=...;wd=...' (at most 200 points)
  --no-early-stop       paper: let diverged search runs finish
  --analysis N          paper: test images for the why analyses, 0 to 100,000 (CKA per layer;
                        default 64; 0 = skip)
  --test-size N         test images per task, 1 to 100,000 (default 500)
  --batch N             1 to 4,096 (default 32)
  --frechet N           images per set for the Fréchet distance, 0 to 100,000 (default 500; 0 = skip)
  --lr X                quick: base learning rate for these runs (default: each method's); runs at
                        several rates can share one results file: the table keeps, per task, size and
                        method, the rate with the best final validation accuracy
  ${backendUsage(22, { gpuMemory: true })}
  --shard i/n           run only every n-th job starting at i (to use several cores)
                        (integers are decimal digits; every option is given at most once)
${THREADS_USAGE}
  --out FILE            results JSON (default study.json; an existing file is extended, not redone:
                        a cell that Ctrl-C stopped continues from its checkpoint in FILE.resume/)
  --findings FILE       with --table: keep the paper-protocol numbers the page's teaching text reads
                        in FILE (src/data/miniature-studies.json), under the results' model
  --table PATH...       only print the tables from results files, a sweep's results folder, or a
                        sweep's merged Playwright JSON report (npm run sweep; README)`;

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), {
    values: [
      'model',
      'tasks',
      'methods',
      'sizes',
      'val-sizes',
      'epochs',
      'seeds',
      'test-size',
      'batch',
      'frechet',
      'shard',
      'out',
      'lr',
      'protocol',
      'grid',
      'analysis',
      'backend',
      'gpu-memory',
      'threads',
      'findings',
    ],
    flags: ['table', 'no-early-stop'],
  });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.flags.has('table')) {
    if (args.positional.length === 0) throw usageError('--table needs one or more results files (written by --out).');
    const { merged, conflicts } = mergeStudyFiles(await readStudySources(args.positional, '--table'));
    for (const c of conflicts) console.error(`warning: ${c}`);
    console.log(studyTables(merged));
    if (args.values.has('findings')) await writeFindings(args.values.get('findings')!, merged, args.positional);
    return 0;
  }
  if (args.values.has('findings')) throw usageError('--findings goes with --table <results files>.');
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)} (results files go after --table).`);
  const modelName = args.values.get('model') ?? DEFAULT_BUNDLED_ID;
  const tasks = listArg(
    args,
    'tasks',
    PROCEDURAL_TASKS.map((t) => t.id),
    PROCEDURAL_TASKS.map((t) => t.id),
  );
  const methods = listArg(args, 'methods', METHOD_IDS, ['ft', 'vpt_deep', 'linear']);
  const ints = (name: string, fallback: number[], min: number, max: number): number[] => {
    const raw = args.values.get(name);
    if (raw === undefined) return fallback;
    if (raw.length > 1000) throw usageError(`--${name} is ${raw.length.toLocaleString('en')} characters long; give a short list of integers.`);
    const xs = raw.split(',').map((x) => x.trim());
    if (xs.length > 100) throw usageError(`--${name} lists ${xs.length} values; at most 100.`);
    for (const x of xs) {
      const v = /^\d{1,9}$/.test(x) ? Number(x) : NaN;
      if (!Number.isInteger(v) || v < min || v > max)
        throw usageError(`--${name} takes a comma-separated list of integers from ${min} to ${max}, got ${quoted(x, 40)}.`);
    }
    return xs.map(Number);
  };
  const sizes = ints('sizes', [400, 2000], 1, 20000);
  const epochs = ints('epochs', [10, 5], 0, 1000);
  if (epochs.length !== sizes.length) throw usageError('--epochs needs one value per train size.');
  const valSizes = ints(
    'val-sizes',
    sizes.map((n) => Math.floor(n / 4)),
    1,
    20000,
  );
  if (valSizes.length !== sizes.length) throw usageError('--val-sizes needs one value per train size.');
  const valSizeOf = (trainSize: number) => valSizes[sizes.indexOf(trainSize)]!;
  const protocol = enumArg(args, 'protocol', ['quick', 'paper'] as const, 'quick');
  const seeds = seedsArg(args, protocol === 'paper' ? '3' : '1', 0);
  if (protocol === 'quick') for (const only of ['grid', 'analysis']) if (args.values.has(only)) throw usageError(`--${only} belongs to --protocol paper.`);
  if (protocol === 'paper' && args.values.has('lr'))
    throw usageError("--protocol paper searches the learning rate: give the rates as --grid 'lr=...', not --lr.");
  const gridSpec = args.values.get('grid');
  for (const m of methods) gridArg(gridSpec, m);
  const analysisImages = intArg(args, 'analysis', 64, 0, 100000);
  const testSize = intArg(args, 'test-size', 500, 1, 100000);
  const batch = intArg(args, 'batch', 32, 1, 4096);
  const frechetCount = intArg(args, 'frechet', 500, 0, 100000);
  const shard = /^(\d{1,6})\/(\d{1,6})$/.exec(args.values.get('shard') ?? '0/1');
  const [shardIndex, shardCount] = shard ? [Number(shard[1]), Number(shard[2])] : [NaN, NaN];
  if (!shard || shardCount < 1 || shardIndex >= shardCount)
    throw usageError(`--shard must be i/n with 0 <= i < n, got ${quoted(args.values.get('shard') ?? '', 40)}.`);
  const out = args.values.get('out') ?? 'study.json';
  const lr = numArg(args, 'lr', { positive: true });
  const backend = backendArg(args);
  const gpuMemoryBytes = gpuMemoryArg(args, backend);

  // --out is read and extended (by design); no other input may be written over.
  await checkOutputs([{ path: out, option: '--out' }], [{ path: modelName, option: '--model' }]);
  const file: StudyFile = existsSync(out) ? await readStudyFile(out, '--out') : { model: modelName, rows: [], frechet: {} };
  await checkWritable(out, '--out');
  const state = stateDirOf(out);
  await checkStateDir(state, '--out');
  const engineBackendOf = engineBackend(backend, { gpuMemoryBytes, threads: threadsArg(args) });
  // Each run goes through the engine, stored beside --out until its row is saved: a cell that
  // Ctrl-C stopped continues from its last epoch's checkpoint when the study is run again.
  const paperResults = new Map<string, PaperSessionResult>();
  let onPaperEvent: ((e: PaperEvent) => void) | undefined;
  const runner = new EngineRunner({
    // A cell's trained parameters are not kept: its row is what the study keeps.
    persistence: cliPersistence(state),
    initBackend: engineBackendOf.initBackend,
    resetBackend: engineBackendOf.resetBackend,
    observe: {
      paperEvent: (_runId, e) => onPaperEvent?.(e),
      finished: (runId, r) => {
        if (r.protocol === 'paper') paperResults.set(runId, r.session);
      },
    },
  });
  const stored = new Map((await runner.restore()).map((r) => [r.runId, r]));
  await engineBackendOf.start();
  // Whole or not at all: a study killed mid-save keeps every run it had finished.
  const save = () => writeFileAtomicAsync(out, JSON.stringify(file, null, 2), '--out');
  const model = modelSpecFor(modelName);
  const interrupt = stopOnSignal(
    () => runner.cancel(),
    (signal) =>
      console.error(`${signal}: stopping after this step; the study goes on from there when run again with the same --out (Ctrl-C again to quit at once)`),
  );

  /**
   * One cell through the engine: continued from its stored checkpoint when the study was stopped
   * in it with the same settings, else run from its beginning (a paper-protocol cell always is).
   * Resolves with its record once done; throws its error when it failed.
   */
  const runCell = async (config: RunConfig, label: string): Promise<RunInfo | null> => {
    const prev = stored.get(config.runId);
    stored.delete(config.runId);
    const same = prev?.hasCheckpoint && !configChanges(prev.summary.config, summaryConfig(resolveHyperDefaults(config))).length;
    if (prev && !same) await runner.forget(prev.runId);
    if (same) console.error(`${label}: continuing from the checkpoint of epoch ${prev.summary.epochs.length}`);
    const info = same ? await runner.restart(config.runId, { model: config.model, data: config.data }) : await runner.run(config, 'npm run study');
    if (info.summary.status === 'failed') throw runFailure(info);
    if (info.summary.status !== 'done') return null;
    return info;
  };
  const stopped = () => {
    console.error(`interrupted: ${file.rows.length + (file.paper?.length ?? 0)} result(s) in ${out}; run the same command again to go on`);
    return interrupt.exitCode;
  };

  // Prompt lengths: the catalog's rule (the paper's length × patches / 196), applied by the session.
  const loaded = await loadModel(model, { host: nodeHost });
  // Fréchet distance of each task from the pretraining data, with the frozen backbone.
  if (frechetCount > 0 && shardIndex === 0) {
    try {
      const norm = { mean: loaded.cfg.mean, std: loaded.cfg.std };
      const ref = await splitGaussian(
        loaded,
        trainDataFromSplits(pretrainingReference(pretrainObjectiveOf(model), { count: frechetCount, seed: 12345 }), {
          imageSize: loaded.cfg.imageSize,
          normalization: norm,
        }).test,
        frechetCount,
      );
      for (const taskId of tasks) {
        if (interrupt.signal) break;
        if (file.frechet[taskId] !== undefined) continue;
        const splits = await openSplits(
          { taskId, data: { kind: 'procedural' }, trainSize: 8, valSize: 2, testSize: frechetCount, seed: 777 },
          { host: nodeHost },
        );
        const g = await splitGaussian(loaded, trainDataFromSplits(splits, { imageSize: loaded.cfg.imageSize, normalization: norm }).test, frechetCount);
        file.frechet[taskId] = frechetDistance(ref, g);
        console.error(`frechet ${taskId}: ${file.frechet[taskId].toFixed(2)}`);
        await save();
      }
    } finally {
      disposeParams(loaded.params);
    }
  } else disposeParams(loaded.params);
  if (interrupt.signal) return stopped();

  /** A study cell's run: everything but its id, seed and protocol is the study's. */
  const cellConfig = (job: { taskId: string; method: MethodId; trainSize: number; epochs: number }): Omit<RunConfig, 'runId' | 'seed'> => ({
    modelLabel: modelName,
    model,
    taskId: job.taskId,
    data: { kind: 'procedural' },
    method: job.method,
    trainSize: job.trainSize,
    valSize: valSizeOf(job.trainSize),
    testSize,
    epochs: job.epochs,
    batchSize: batch,
    imageSize: 0,
    gradcamSamples: 0,
  });

  if (protocol === 'paper') {
    file.paper ??= [];
    const paperJobs = tasks.flatMap((taskId) =>
      sizes.flatMap((trainSize, si) => methods.map((method) => ({ taskId, trainSize, epochs: epochs[si], method: method as MethodId }))),
    );
    for (const [index, job] of paperJobs.entries()) {
      if (index % shardCount !== shardIndex) continue;
      if (file.paper.some((r) => r.taskId === job.taskId && r.method === job.method && r.trainSize === job.trainSize)) continue;
      const config: RunConfig = {
        ...cellConfig(job),
        runId: `study-paper-${job.taskId}-${job.method}-n${job.trainSize}`,
        seed: 0,
        protocol: { kind: 'paper', grid: resolveGrid(gridSpec, job.method), seeds, earlyStop: !args.flags.has('no-early-stop'), analysisImages },
      };
      const t0 = performance.now();
      const label = `[${index + 1}/${paperJobs.length}] ${job.taskId} ${job.method} n=${job.trainSize}`;
      onPaperEvent = (e) => {
        if (e.type === 'run-end')
          console.error(
            `${label} ${e.stage} ${e.index + 1}/${e.of} lr ${e.lr} wd ${e.wd} seed ${e.seed}: ${e.stage === 'search' ? `val ${fmtPct(e.valAcc)}${e.stoppedEarly ? ' (diverged)' : ''}` : `test ${fmtPct(e.testAcc)}`} (${e.seconds.toFixed(0)} s)`,
          );
      };
      const done = await runCell(config, label);
      if (!done) return stopped();
      const r = paperResults.get(config.runId)!;
      paperResults.delete(config.runId);
      const p = r.paper;
      file.paper.push(
        paperRowOf(p, {
          taskId: job.taskId,
          method: job.method,
          epochs: job.epochs,
          promptLength: r.config.promptLength ?? 0,
          why: r.why,
          trainableParams: r.trainableParams,
          seconds: (performance.now() - t0) / 1000,
        }),
      );
      await save();
      await runner.forget(config.runId);
      console.error(
        `${label}: chosen lr ${p.chosen.lr} wd ${p.chosen.wd}; test ${p.mean.toFixed(1)} ± ${Number.isFinite(p.std) ? p.std.toFixed(1) : '—'} over ${p.final.length} seed(s) (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      );
    }
    interrupt.dispose();
    await removeIfEmpty(state);
    console.log(studyTables(file));
    return 0;
  }

  const jobs = tasks.flatMap((taskId) =>
    sizes.flatMap((trainSize, si) =>
      seeds.flatMap((seed) => methods.map((method) => ({ taskId, trainSize, epochs: epochs[si], seed, method: method as MethodId }))),
    ),
  );
  let index = -1;
  for (const job of jobs) {
    index++;
    if (index % shardCount !== shardIndex) continue;
    if (file.rows.some((r) => r.taskId === job.taskId && r.method === job.method && r.trainSize === job.trainSize && r.seed === job.seed && r.lr === lr))
      continue;
    const config: RunConfig = {
      // One id per row of the results: a stopped cell is found again by what it is.
      ...cellConfig(job),
      runId: `study-${job.taskId}-${job.method}-n${job.trainSize}-seed${job.seed}${lr === undefined ? '' : `-lr${lr}`}`,
      seed: job.seed,
      lr,
    };
    const t0 = performance.now();
    const label = `[${index + 1}/${jobs.length}] ${job.taskId} ${job.method} n=${job.trainSize} seed ${job.seed}`;
    const done = await runCell(config, label);
    if (!done) return stopped();
    const s = done.summary;
    const row: StudyRow = {
      taskId: job.taskId,
      method: job.method,
      trainSize: job.trainSize,
      seed: job.seed,
      testAcc: s.test!.testAcc,
      valAcc: s.epochs.at(-1)!.valAcc,
      epochs: job.epochs,
      seconds: (performance.now() - t0) / 1000,
      trainableParams: s.trainableParams,
      lr,
    };
    file.rows.push(row);
    await save();
    await runner.forget(config.runId);
    console.error(`${label}: test ${row.testAcc.toFixed(1)}% (${row.seconds.toFixed(0)} s)`);
  }
  interrupt.dispose();
  await removeIfEmpty(state);
  console.log(studyTables(file));
  return 0;
}, USAGE);

const fmtPct = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(1)}%` : '—');

const validateFindings = compileSchema<{ studies: MiniatureStudy[] }>({
  type: 'object',
  required: ['studies'],
  properties: {
    studies: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        required: ['model', 'sources', 'rows'],
        properties: {
          model: { type: 'string', maxLength: 200 },
          sources: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 500 } },
          rows: { type: 'array', maxItems: 10000, items: { type: 'object' } },
        },
      },
    },
  },
});

/** The page's teaching text reads each bundled model's study from FILE: replace this model's entry. */
async function writeFindings(file: string, merged: StudyFile, sources: readonly string[]): Promise<void> {
  if (!merged.paper?.length) throw usageError('--findings needs paper-protocol results (npm run study -- --protocol paper).');
  await checkWritable(file, '--findings');
  let kept: MiniatureStudy[] = [];
  if (existsSync(file)) {
    const json = await readUserJson<unknown>(file, '--findings', 4 * 2 ** 20);
    if (!validateFindings(json))
      throw new LabError(
        'config/invalid',
        `--findings: ${quoted(file, 120)} is not a findings file (at ${clip(pathOf(validateFindings.errors![0]), 80) || 'the top level'}: ${expectationOf(validateFindings.errors![0])}).`,
        'Give the path of src/data/miniature-studies.json, or a new file.',
      );
    kept = json.studies;
  }
  const entry = miniatureStudyOf(
    merged.model,
    sources.map((s) => path.relative(process.cwd(), s)),
    merged.paper,
  );
  const studies = [...kept.filter((s) => s.model !== entry.model), entry].sort((a, b) => a.model.localeCompare(b.model));
  await writeFileAtomicAsync(file, `${JSON.stringify({ studies }, null, 1)}\n`);
  console.error(`${file}: the findings of ${merged.model} (${entry.rows.length} rows). The README's side-by-side table:`);
  console.log(`\n${sideBySideTable(studies)}`);
}

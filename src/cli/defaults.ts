/**
 * npm run defaults -- --model <bundled id> [--methods ft,vpt_deep,...] [--seeds 3] [--out file]
 *
 * Measures a bundled model's default learning rates and records them, with every run it made, in
 * src/train/defaults.json (train/defaults.ts reads it; defaults.test.ts checks it):
 *   1. search: every learning rate of the method's reference grid (KMnP/vpt tune_vtab.py) at the
 *      reference config's weight decay, on the page's one-click run (train/defaults.ts
 *      DEFAULT_QUICK_RUN), once per seed; a seed whose epoch-mean loss rises above 1.1 × its first
 *      epoch's ends that learning rate (it cannot be a default), and its other seeds are not run;
 *   2. choice: among the learning rates every seed of which was stable, the best mean validation
 *      accuracy (a tie goes to the smaller rate); no test image is read for it;
 *   3. check: the choice on every other offline task at the same sizes, every seed; a rise there
 *      rejects it and the best stable rate below it is checked instead.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROCEDURAL_TASKS } from '../data/catalog';
import { LabError, quoted } from '../domain/errors';
import type { MethodId, RunConfig } from '../domain/run';
import { RunControl } from '../train/control';
import { chooseDefaultLr, DEFAULT_QUICK_RUN, runUnstable, type DefaultsFile, type MethodDefault, type RecordedRun, type SearchPoint } from '../train/defaults';
import { LossRiseWatch } from '../train/divergence';
import { REPO_ROOT, nodeHost } from '../train/host.node.js';
import { METHOD_IDS, METHODS } from '../train/methods';
import { NAMED_MODELS } from '../train/models';
import { REDUCED_GRIDS, REFERENCE_GRIDS, gridFamily, parseSeeds } from '../train/paper';
import { disposeSession, runSession } from '../train/session';
import { intArg, listArg, parseArgs, runMain, THREADS_USAGE, threadsArg, usageError } from './args';
import { startBackend } from './backend';
import { checkWritable, readUserJson, writeFileAtomic } from './files';
import { endProgress, progressBar } from './progress';

const BUNDLED = NAMED_MODELS.filter((m) => m.spec.kind === 'bundled').map((m) => m.name);
const DEFAULT_OUT = path.join(REPO_ROOT, 'src', 'train', 'defaults.json');

const USAGE = `usage: npm run defaults -- --model <bundled model> [options]

  --model <id>          ${BUNDLED.join(' | ')}
  --methods <list>      methods to measure (default all: ${METHOD_IDS.join(',')})
  --seeds N|LIST        seeds per learning rate (default 3, from the page's seed ${DEFAULT_QUICK_RUN.seed})
  --epochs N            epochs per run (default ${DEFAULT_QUICK_RUN.epochs}, the page's one-click run)
  --out <file>          the defaults file to update (default src/train/defaults.json); the model's
                        entry for each measured method is replaced, everything else is kept
${THREADS_USAGE}

Searches each method's reference learning rates (KMnP/vpt tune_vtab.py) at the reference config's
weight decay on ${DEFAULT_QUICK_RUN.taskId} (${DEFAULT_QUICK_RUN.trainSize} train / ${DEFAULT_QUICK_RUN.valSize} val), keeps the rates whose loss never rose (nor ran above 2 × chance-level
loss),
picks the best validation accuracy, and checks it on every offline task.`;

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['model', 'methods', 'seeds', 'epochs', 'out', 'threads'] });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const model = args.values.get('model');
  if (!model || !BUNDLED.includes(model)) throw usageError(`--model must be a bundled model: ${BUNDLED.join(', ')}.`);
  const methods = listArg(args, 'methods', METHOD_IDS, METHOD_IDS);
  let seeds: number[];
  try {
    seeds = parseSeeds(args.values.get('seeds') ?? '3', DEFAULT_QUICK_RUN.seed);
  } catch (e) {
    throw e instanceof LabError ? usageError(e.message) : e;
  }
  const epochs = intArg(args, 'epochs', DEFAULT_QUICK_RUN.epochs, 1, 100);
  const out = args.values.get('out') ?? DEFAULT_OUT;
  // The file is read (a regular file of bounded size, valid JSON) and proved writable before the
  // first run: an unreadable or corrupt one is a named error, never replaced by a file holding
  // only this model (the other models' entries would be lost).
  await checkWritable(out, '--out');
  const file: DefaultsFile = existsSync(out) ? await readUserJson<DefaultsFile>(out, '--out', 16 * 2 ** 20) : { about: '', models: {} };
  if (typeof file !== 'object' || file === null || typeof file.models !== 'object' || file.models === null)
    throw new LabError(
      'config/invalid',
      `--out ${quoted(out, 200)} is not a defaults file (it has no "models" object).`,
      'Give --out a defaults file written by this tool, or a new path.',
    );
  const started = await startBackend('wasm', { threads: threadsArg(args) });
  const command = ['npm run defaults --', ...process.argv.slice(2).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out')].join(' ');
  const setup = { ...DEFAULT_QUICK_RUN, epochs };

  /** One run of the default setup at `lr` on `taskId`; stops at the epoch where its loss rises. */
  const runOnce = async (method: MethodId, taskId: string, lr: number, wd: number, seed: number): Promise<RecordedRun> => {
    const config: RunConfig = {
      runId: `defaults-${method}-${taskId}-${lr}-${seed}`,
      modelLabel: model,
      model: { kind: 'bundled', id: model },
      taskId,
      data: { kind: 'procedural' },
      method,
      trainSize: setup.trainSize,
      valSize: setup.valSize,
      testSize: setup.testSize,
      epochs: setup.epochs,
      batchSize: setup.batchSize,
      lr,
      weightDecay: wd,
      seed,
      imageSize: 0,
      gradcamSamples: 0,
    };
    const control = new RunControl();
    const watch = new LossRiseWatch(lr);
    const losses: number[][] = [];
    let valAcc: number | null = null;
    let stoppedEarly = false;
    const t0 = performance.now();
    try {
      const r = await runSession(config, nodeHost, control, {
        onEvent: (e) => {
          if (e.type === 'step')
            progressBar(`${method} ${taskId} lr ${lr} seed ${seed} epoch ${e.epoch}`, e.step, e.stepsPerEpoch, `loss ${e.loss.toFixed(3)}`);
          if (e.type !== 'epoch') return;
          const m = e.metrics;
          (losses[m.phase - 1] ??= []).push(m.trainLoss);
          valAcc = m.valAcc;
          // The rules the defaults are held to end a run early: the epoch rise, and a loss far above chance.
          if (watch.epoch(m)?.kind === 'epoch' || runUnstable({ taskId, trainLoss: losses, valAcc: m.valAcc })) control.cancel();
        },
      });
      disposeSession(r);
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
      if (e.code === 'run/cancelled') stoppedEarly = true;
      else if (e.code === 'run/diverged') valAcc = null;
      else throw e;
    }
    endProgress();
    const run: RecordedRun = { taskId, seed, lr, trainLoss: losses, valAcc, stoppedEarly, seconds: Math.round((performance.now() - t0) / 100) / 10 };
    console.error(
      `${method} ${taskId} lr ${lr} seed ${seed}: loss ${losses.map((p) => p.map((l) => l.toFixed(3)).join(' ')).join(' | ')}; val ${valAcc === null ? 'n/a' : `${(valAcc as number).toFixed(1)}%`}${runUnstable(run) ? ' — UNSTABLE' : ''} (${run.seconds} s)`,
    );
    return run;
  };

  for (const method of methods) {
    const family = gridFamily(method);
    const wd = REDUCED_GRIDS[family].wds[0];
    const lrs = [...REFERENCE_GRIDS[family].lrs].sort((a, b) => b - a);
    console.error(`\n${METHODS[method].label}: ${lrs.length} learning rates × ${seeds.length} seeds at wd ${wd} on ${setup.taskId}`);
    const search: SearchPoint[] = [];
    for (const lr of lrs) {
      const point: SearchPoint = { lr, runs: [] };
      for (const seed of seeds) {
        const run = await runOnce(method, setup.taskId, lr, wd, seed);
        point.runs.push(run);
        if (runUnstable(run)) break; // this rate cannot be a default: its other seeds are not needed
      }
      search.push(point);
    }
    const rejected: MethodDefault['rejected'] = [];
    let chosen = chooseDefaultLr(search, seeds.length);
    let check: RecordedRun[] = [];
    while (chosen !== null) {
      check = [];
      let failed: RecordedRun | null = null;
      for (const task of PROCEDURAL_TASKS.filter((t) => t.id !== setup.taskId)) {
        for (const seed of seeds) {
          const run = await runOnce(method, task.id, chosen, wd, seed);
          check.push(run);
          if (runUnstable(run)) failed = run;
          if (failed) break;
        }
        if (failed) break;
      }
      if (!failed) break;
      rejected.push({
        lr: chosen,
        because: `the loss rose or ran above chance level on ${failed.taskId}, seed ${failed.seed}: ${failed.trainLoss.map((p) => p.map((l) => l.toFixed(3)).join(' ')).join(' | ')}`,
      });
      chosen = chooseDefaultLr(search, seeds.length, chosen);
    }
    if (chosen === null)
      throw new LabError(
        'run/diverged',
        `${METHODS[method].label}: no learning rate of the grid was stable on every seed and task.`,
        'Search smaller learning rates.',
      );
    const prompted = METHODS[method].phases.some((p) => p.promptMode !== 'none');
    const entry: MethodDefault = { lr: chosen, promptLr: prompted ? chosen : null, weightDecay: wd, search, check, rejected };
    record(out, file, model, { command, backend: started.label, setup, seeds, method, entry });
    console.error(
      `${METHODS[method].label}: default base lr ${chosen} (wd ${wd})${rejected.length ? `, after rejecting ${rejected.map((r) => r.lr).join(', ')}` : ''}; written to ${out}`,
    );
  }
  return 0;
}, USAGE);

/** Replace one method's entry of one model in the defaults file, keeping the rest. */
function record(
  out: string,
  file: DefaultsFile,
  model: string,
  o: { command: string; backend: string; setup: DefaultsFile['models'][string]['setup']; seeds: number[]; method: MethodId; entry: MethodDefault },
): void {
  file.about =
    'Default learning rates of the bundled models, measured by the command in each entry (src/cli/defaults.ts); read by src/train/defaults.ts, checked by src/train/defaults.test.ts.';
  const prev = file.models[model];
  file.models[model] = {
    command: o.command,
    measuredAt: new Date().toISOString().slice(0, 10),
    backend: o.backend,
    setup: o.setup,
    seeds: o.seeds,
    grid: "each method's reference learning rates (KMnP/vpt tune_vtab.py get_lrwd_range) at the reference config's weight decay only (prompt and linear 1e-4, fine-tuning 0.01): the reference grid's other weight decays were not searched, to keep the measurement to one machine-hour",
    rule: 'keep the learning rates at which no seed’s epoch-mean training loss rose above 1.1 × its first epoch’s (per phase) or ran above 2 × ln(classes), chance-level cross-entropy; choose the best mean validation accuracy among them (a tie goes to the smaller rate); check it on every other offline task at the same sizes and every seed, stepping down to the next stable rate below it when a loss rises there. Prompt methods train prompts and head at one rate, as the reference does; FT-then-PT’s fine-tuning phase keeps the AdamW recipe (base lr 0.001).',
    methods: { ...(prev?.methods ?? {}), [o.method]: o.entry },
  };
  writeFileAtomic(out, JSON.stringify(file, null, 1) + '\n', '--out');
}

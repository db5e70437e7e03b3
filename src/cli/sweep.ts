/**
 * npm run sweep -- <sweep file> [--shard i/n] [--results DIR] [--blob DIR] [--model M] [--data D]
 *                  [--grep TEXT] [--port N] [--no-build] [--list]
 *
 * The full study as a sweep of Playwright tests, one per cell (e2e/sweep/sweep.spec.ts): checks
 * the sweep file (every problem named before a browser starts), builds the page, runs the cells of
 * this shard in headless Chromium on the lab's own engine, writes each cell's result to the
 * results folder, skips cells already there, and prints the study table of what the folder holds.
 * Every process it starts (the build, Playwright, its preview server and browsers) is stopped when
 * it ends, however it ends (processes.ts).
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LabError, quoted } from '../domain/errors';
import type { BenchMode, BenchRow } from '../bench/bench';
import type { MethodId } from '../domain/run';
import { METHODS } from '../train/methods';
import { intArg, parseArgs, runMain, usageError, type ParsedArgs } from './args';
import { checkOutputs, readUserJson } from './files';
import { runChild } from './processes';
import { mergeStudyFiles, studyTables, type StudyFile } from './studyFile';
import { cellWork, loadSweep, readCellResults, type Sweep, type SweepOverrides } from './sweepPlan';

const USAGE = `usage: npm run sweep -- <sweep file> [options]

  <sweep file>      the study as JSON (schema: src/cli/sweep.schema.json; example:
                    e2e/sweep/small.sweep.json); at most 16 MB and 100,000 cells, with at most 100
                    seeds, 100 sizes and 200 grid points
  --shard i/n       run only shard i of n (1-based, Playwright's sharding: cells are spread evenly)
  --results DIR     one JSON file per cell (default sweep-results/<sweep file name>); cells whose
                    result is already there are not run again
  --blob DIR        also write Playwright's blob report there (for playwright merge-reports)
  --model M         instead of the file's model: a model name, a checkpoint path or an http(s) URL
  --data D          instead of the file's data: procedural, a vtab-1k folder or zip, or a base URL
  --grep TEXT       run only the cells whose title contains TEXT (e.g. "synth_count ft")
  --workers N       cells run at once on this machine, 1 to 256, each in its own browser (default 1; on
                    WASM each takes a core, on one GPU they share it)
  --port N          port of the page's preview server, 0 to 65,535 (default 0: any free port)
  --no-build        use the existing dist/ instead of building the page first
  --list            print the cells, their hashes and whether each has a result; run nothing

  --estimate        run nothing: the sweep's cost, cells × seconds per cell, from benchmark speeds:
    --bench FILES     JSON files written by npm run bench, comma-separated (their lab-kernel rows), with
    --host H          the host of the rows to use (default chromium) and
    --backend B       their backend (default wasm), or instead
    --ips LIST        assumed images/s, e.g. forward=740,ft=175,vpt_deep=205 (a GPU's targets)
    --preset P        the benchmark preset the sweep's model is (default: from its name)
    --machines N      machines sharing the sweep, 1 to 100,000 (default 1)
    --test-images N   test images per task where testSize is 0, 1 to 10,000,000 (the whole list;
                      default 10000)

Then: npm run study -- --table <results folder | merged Playwright JSON report>`;

const REPO = resolve(import.meta.dirname, '..', '..');

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), {
    values: ['shard', 'results', 'blob', 'model', 'data', 'grep', 'port', 'workers', 'bench', 'host', 'backend', 'ips', 'preset', 'machines', 'test-images'],
    flags: ['no-build', 'list', 'estimate'],
  });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length !== 1)
    throw usageError(
      args.positional.length ? `Give one sweep file, got ${args.positional.length}.` : 'Give the sweep file, e.g. npm run sweep -- e2e/sweep/small.sweep.json.',
    );
  const file = resolve(args.positional[0]!);
  const shardText = args.values.get('shard');
  const shard = shardText === undefined ? null : /^(\d+)\/(\d+)$/.exec(shardText);
  if (shardText !== undefined && (!shard || Number(shard[1]) < 1 || Number(shard[1]) > Number(shard[2])))
    throw usageError(`--shard must be i/n with 1 <= i <= n (Playwright counts shards from 1), got ${quoted(shardText, 40)}.`);
  const port = intArg(args, 'port', 0, 0, 65535);
  const overrides: SweepOverrides = { model: args.values.get('model'), data: args.values.get('data') };
  const sweep = await loadSweep(file, overrides);
  // Files the cells will pick must exist: one named error now, not one failed test per cell.
  for (const [what, src] of [
    ['model', sweep.model],
    ['data', sweep.data],
  ] as const) {
    if ('path' in src && !existsSync(src.path))
      throw new LabError(
        'config/invalid',
        `The sweep's ${what} ${quoted(src.path)} does not exist${args.values.has(what) ? ` (from --${what})` : ''}.`,
        `Check the path (in the sweep file, paths are relative to the file; on the command line, to the current folder).`,
      );
  }
  const results = resolve(args.values.get('results') ?? join('sweep-results', basename(file).replace(/(\.sweep)?\.json$/, '')));
  // Results and blob reports go to folders of their own: never over the sweep file, the
  // checkpoint, or into the data folder.
  await checkOutputs(
    [{ path: results, option: '--results' }, ...(args.values.has('blob') ? [{ path: resolve(args.values.get('blob')!), option: '--blob' }] : [])],
    [
      { path: file, option: 'sweep' },
      ...('path' in sweep.model ? [{ path: sweep.model.path, option: 'model' }] : []),
      ...('path' in sweep.data ? [{ path: sweep.data.path, option: 'data' }] : []),
    ],
  );

  if (args.flags.has('estimate')) {
    console.log(await estimate(sweep, args));
    return 0;
  }
  const stored = await readCellResults<StudyFile>(results, sweep.cells);
  const done = stored.filter(Boolean).length;
  console.error(
    `sweep ${quoted(sweep.name)}: ${sweep.cells.length} cells (${sweep.protocol.kind} protocol), ${done} already in ${results}${shard ? `; this is shard ${shard[1]} of ${shard[2]}` : ''}`,
  );
  if (args.flags.has('list')) {
    for (const [i, c] of sweep.cells.entries()) console.log(`${stored[i] ? 'done   ' : 'missing'}  ${c.hash}  ${c.title}`);
    return 0;
  }

  const vite = await import('vite');
  if (!args.flags.has('no-build')) {
    console.error('building the page (vite build; --no-build reuses dist/)…');
    await vite.build({ root: REPO, logLevel: 'warn' });
  } else if (!existsSync(join(REPO, 'dist', 'index.html'))) {
    throw new LabError('config/invalid', 'There is no built page in dist/ to use with --no-build.', 'Run npx vite build first, or leave out --no-build.');
  }
  // The page's server runs in this process (not as Playwright's webServer, which a killed
  // Playwright leaves running): it cannot outlive the command, and port 0 lets the OS pick a free
  // port, so several shards can share a machine.
  const server = await vite.preview({ root: REPO, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true, open: false } });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new LabError('internal', 'The preview server did not report its port.');

  const blob = args.values.get('blob');
  const pwArgs = [join(REPO, 'node_modules', '@playwright', 'test', 'cli.js'), 'test', '--project', 'sweep', '--reporter', blob ? 'list,blob' : 'list'];
  if (shard) pwArgs.push('--shard', `${shard[1]}/${shard[2]}`);
  pwArgs.push('--workers', String(intArg(args, 'workers', 1, 1, 256)));
  const grep = args.values.get('grep');
  if (grep) pwArgs.push('--grep', grep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SWEEP_FILE: file,
    SWEEP_RESULTS: results,
    SWEEP_MODEL: overrides.model ?? '',
    SWEEP_DATA: overrides.data ?? '',
    E2E_PORT: String(address.port),
    SWEEP_SERVER: '1',
    ...(blob ? { PLAYWRIGHT_BLOB_OUTPUT_DIR: resolve(blob) } : {}),
  };
  const code = await runChild(process.execPath, pwArgs, { cwd: REPO, env, stdio: ['ignore', 'inherit', 'inherit'] }).finally(() => server.close());

  // The table of every cell of this sweep that has a result (this shard's and any other's).
  const all = (await readCellResults<StudyFile>(results, sweep.cells)).filter((x): x is StudyFile => x !== null);
  console.error(
    `\n${all.length} of ${sweep.cells.length} cells have results in ${results}${all.length < sweep.cells.length ? ' (the rest: other shards, or re-run this command)' : ''}.`,
  );
  if (all.length) console.log(studyTables(mergeStudyFiles(all).merged));
  return code === 0 ? 0 : 1;
}, USAGE);

/** The benchmark preset of each named model (the shape its speed is measured at). */
const PRESET_OF: Record<string, string> = {
  vit_b16: 'vit_b16',
  vit_b16_timm: 'vit_b16',
  random_vit_b16: 'vit_b16',
  vit_s16: 'vit_s16',
  vit_ti16: 'vit_ti16',
  random_vit_ti16: 'vit_ti16',
  random_tiny: 'fixture_tiny',
};

/**
 * The sweep's cost: per method, the images its cells train and evaluate, over images/s from a
 * benchmark (the lab's own kernels at the preset's resolution and batch) or assumed speeds.
 * Training images run at the speed of the method's step (a backbone-training method at the ft
 * step's, every other at the vpt_deep step's, an upper bound for the linear probe), evaluated
 * images at the forward pass's.
 */
async function estimate(sweep: Sweep, args: ParsedArgs): Promise<string> {
  const preset = args.values.get('preset') ?? ('name' in sweep.model ? PRESET_OF[sweep.model.name] : undefined);
  if (!preset) throw usageError(`--estimate needs --preset (fixture_tiny, vit_ti16, vit_s16, vit_b16): which benchmarked shape is ${sweep.modelText}?`);
  const speed: Partial<Record<BenchMode, number>> = {};
  let source: string;
  const ips = args.values.get('ips');
  if (ips) {
    for (const part of ips.split(',')) {
      const m = /^(forward|ft|vpt_deep)=(\d+(?:\.\d+)?)$/.exec(part.trim());
      if (!m || !(Number(m[2]) > 0))
        throw usageError(`--ips takes mode=images/s pairs (forward, ft, vpt_deep), e.g. forward=740,ft=175,vpt_deep=205; got ${quoted(part, 40)}.`);
      speed[m[1] as BenchMode] = Number(m[2]);
    }
    source = `assumed speeds (${ips} images/s)`;
  } else {
    const benches = args.values.get('bench')?.split(',').filter(Boolean) ?? [];
    if (!benches.length) throw usageError('--estimate needs --bench <files written by npm run bench, comma-separated> or --ips <assumed images/s>.');
    const host = args.values.get('host') ?? 'chromium',
      backend = args.values.get('backend') ?? 'wasm';
    const rows: BenchRow[] = [];
    const dates: string[] = [];
    for (const bench of benches) {
      const json = await readUserJson<{ rows?: BenchRow[]; date?: string }>(bench, '--bench');
      if (!Array.isArray(json?.rows))
        throw new LabError(
          'config/invalid',
          `--bench ${quoted(bench)} has no "rows": it is not a file npm run bench wrote.`,
          'Give --bench the JSON of npm run bench -- --out <file>.',
        );
      // The engine's own kernels ("wasm", "webgpu [adapter]"), not the stock tfjs rows beside them.
      rows.push(
        ...json.rows.filter((r) => r.host === host && r.preset === preset && !r.error && (r.backend === backend || r.backend.startsWith(`${backend} [`))),
      );
      if (json.date) dates.push(json.date.slice(0, 10));
    }
    for (const r of rows) speed[r.mode] = r.imagesPerSec;
    const batches = [...new Set(rows.map((r) => `${r.mode} batch ${r.batch}${r.recompute ? ' recomputed' : ''}`))].join(', ');
    source = `npm run bench (${host}, ${backend}, ${preset}: ${batches}${dates.length ? `; ${[...new Set(dates)].join(', ')}` : ''})`;
  }
  const needs = new Set<BenchMode>(['forward', ...sweep.cells.map((c) => modeOf(c.method))]);
  const missing = [...needs].filter((m) => !speed[m]);
  if (missing.length)
    throw new LabError(
      'config/invalid',
      `The speeds lack ${missing.join(', ')} for ${preset}.`,
      `Benchmark them: npm run bench -- --presets ${preset} --modes ${[...needs].join(',')} --hosts ${args.values.get('host') ?? 'chromium'} --backends ${args.values.get('backend') ?? 'wasm'} --kernels lab --out <file>.`,
    );
  const testImages = sweep.testSize || intArg(args, 'test-images', 10000, 1, 10_000_000);
  const machines = intArg(args, 'machines', 1, 1, 100000);
  const lines = [`| method | cells | runs per cell | images trained per cell | images evaluated per cell | s per cell |`, `|---|---:|---:|---:|---:|---:|`];
  let total = 0;
  for (const method of [...new Set(sweep.cells.map((c) => c.method))]) {
    const cells = sweep.cells.filter((c) => c.method === method);
    const work = cells.map((c) => cellWork(sweep, c, testImages));
    const seconds = work.map((w) => w.train / speed[modeOf(method)]! + w.forward / speed.forward!);
    const sum = seconds.reduce((a, b) => a + b, 0);
    total += sum;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    lines.push(
      `| ${method} | ${cells.length} | ${mean(work.map((w) => w.runs)).toFixed(0)} | ${mean(work.map((w) => w.train)).toLocaleString('en-US', { maximumFractionDigits: 0 })} | ${mean(work.map((w) => w.forward)).toLocaleString('en-US', { maximumFractionDigits: 0 })} | ${mean(seconds).toLocaleString('en-US', { maximumFractionDigits: 0 })} |`,
    );
  }
  const human = (s: number) =>
    s >= 86400 * 730
      ? `${(s / 86400 / 365).toFixed(1)} years`
      : s >= 86400 * 2
        ? `${(s / 86400).toFixed(1)} days`
        : s >= 7200
          ? `${(s / 3600).toFixed(1)} h`
          : `${(s / 60).toFixed(1)} min`;
  return [
    `sweep ${quoted(sweep.name)}: ${sweep.cells.length} cells, ${sweep.protocol.kind} protocol, at ${source}.`,
    '',
    ...lines,
    '',
    `total: ${Math.round(total).toLocaleString('en-US')} s = ${human(total)} of one machine; on ${machines} machine${machines > 1 ? 's' : ''}: ${human(total / machines)} (cells spread evenly; the slowest shard decides).`,
    `Speeds are per image at the benchmark's resolution and batch; a sweep at another resolution or batch runs at other speeds. Loading the model and data is not counted.`,
  ].join('\n');
}

/** The benchmark step a method's training runs at (FT-then-PT: its fine-tuning phase, an upper bound). */
function modeOf(method: MethodId): BenchMode {
  return method === 'ft_then_pt' || METHODS[method].grid === 'finetune' ? 'ft' : 'vpt_deep';
}

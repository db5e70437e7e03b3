/**
 * The sweep across machines, on one machine: the small sweep (2 procedural tasks × 2 methods ×
 * 2 seeds, quick protocol, the fixtures' tiny model, 2 epochs of 32 images) runs once unsharded
 * and once as Playwright shards 1/2 and 2/2 whose blob reports `playwright merge-reports` joins;
 * the study table from the merged report equals the unsharded one, and every cell's numbers
 * (test accuracy, and loss and accuracies per epoch) are bit-identical in both and when the cell
 * runs alone. Shard 2 is killed after its first cell and run again: it runs only the cells that
 * have no result, and the kill leaves no process behind. The kill lands at a point the shard is held
 * at (test/support/hold-results.cjs: its second result is never written), not at a moment raced
 * against the clock.
 */
import { expect, test } from '@playwright/test';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { numbersOf, type StudyFile } from '../src/cli/studyFile';
import { markedProcesses } from '../test/support/marked';

const REPO = new URL('..', import.meta.url).pathname;
const SWEEP = 'e2e/sweep/small.sweep.json';
const CELLS = 8;
const MARK = `sweep-shards-${process.pid}`;

/** This run's environment without what Playwright sets for its own workers, plus a marker to find stragglers by. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LAB_TEST_MARK: MARK };
  for (const [k, v] of Object.entries(process.env)) if (!/^(PW_|PLAYWRIGHT_|TEST_)/.test(k)) env[k] = v;
  return env;
}

function sweep(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/sweep.ts', SWEEP, '--no-build', ...args], {
    cwd: REPO,
    env: { ...childEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finish(p: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '',
    err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  return { code, out, err };
}

function cli(script: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, env: childEnv(), maxBuffer: 64 * 2 ** 20 }, (e, out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

const jsonFiles = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort();
const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as StudyFile;

interface ReportTest {
  title: string;
  annotations: { type: string }[];
  attachments: string[];
}
/** The tests of a Playwright JSON report: title, annotations, attachment names. */
function reportTests(report: string): ReportTest[] {
  const out: ReportTest[] = [];
  type Suite = { suites?: Suite[]; specs?: { title: string; tests: { annotations: { type: string }[]; results: { attachments: { name: string }[] }[] }[] }[] };
  const visit = (s: Suite) => {
    for (const spec of s.specs ?? [])
      for (const t of spec.tests)
        out.push({ title: spec.title, annotations: t.annotations, attachments: t.results.flatMap((r) => r.attachments.map((a) => a.name)) });
    for (const c of s.suites ?? []) visit(c);
  };
  for (const s of (JSON.parse(report) as { suites: Suite[] }).suites) visit(s);
  return out;
}

test('a sharded sweep, merged, equals the unsharded one; a killed shard resumes', async () => {
  test.setTimeout(20 * 60_000);
  const tmp = mkdtempSync(join(os.tmpdir(), 'lab-sweep-'));
  await test.info().attach('folder', { body: tmp });
  const whole = join(tmp, 'whole'),
    sharded = join(tmp, 'sharded'),
    alone = join(tmp, 'alone');

  // 1. Unsharded.
  const w = await finish(sweep(['--results', whole, '--blob', join(tmp, 'blob-whole')]));
  expect(w.code, w.err).toBe(0);
  expect(jsonFiles(whole)).toHaveLength(CELLS);

  // 2. Shard 1 of 2, whole.
  const s1 = await finish(sweep(['--results', sharded, '--blob', join(tmp, 'blob-1'), '--shard', '1/2']));
  expect(s1.code, s1.err).toBe(0);
  expect(jsonFiles(sharded)).toHaveLength(CELLS / 2);

  // 3. Shard 2 of 2, held once its first cell's result is written (the next result is never
  // written: test/support/hold-results.cjs, in every Node process of the shard), then killed.
  const held = join(tmp, 'held');
  const killed = sweep(['--results', sharded, '--blob', join(tmp, 'blob-2-killed'), '--shard', '2/2'], {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(REPO, 'test/support/hold-results.cjs')}`.trim(),
    HOLD_RESULTS_DIR: sharded,
    HOLD_RESULTS_AT: String(CELLS / 2 + 1),
    HOLD_RESULTS_SIGNAL: held,
  });
  const ended = finish(killed);
  // No deadline of its own: a loaded machine only makes the cells slower (the test's timeout bounds it).
  await expect.poll(() => existsSync(held), { timeout: 15 * 60_000, intervals: [200] }).toBe(true);
  killed.kill('SIGTERM');
  const k = await ended;
  expect(k.code, 'the killed shard did not finish').not.toBe(0);
  const before = new Map(jsonFiles(sharded).map((n) => [n, statSync(join(sharded, n)).mtimeMs]));
  const doneBeforeRerun = before.size - CELLS / 2;
  expect(doneBeforeRerun).toBe(1);
  // Nothing the killed shard started is left: not the runner, its preview server or a browser.
  await expect.poll(() => markedProcesses(MARK), { timeout: 15_000 }).toEqual([]);

  // 4. Shard 2 again: only the cells without a result run; the others are attached from the folder.
  const s2 = await finish(sweep(['--results', sharded, '--blob', join(tmp, 'blob-2'), '--shard', '2/2']));
  expect(s2.code, s2.err).toBe(0);
  expect(jsonFiles(sharded)).toHaveLength(CELLS);
  for (const [n, mtime] of before) expect(statSync(join(sharded, n)).mtimeMs, `${n} was not written again`).toBe(mtime);
  const rerun = await cli('node_modules/@playwright/test/cli.js', ['merge-reports', '--reporter', 'json', join(tmp, 'blob-2')]);
  expect(rerun.code, rerun.err).toBe(0);
  const rerunTests = reportTests(rerun.out);
  expect(rerunTests).toHaveLength(CELLS / 2);
  expect(rerunTests.filter((t) => t.annotations.some((a) => a.type === 'resumed'))).toHaveLength(doneBeforeRerun);

  // 5. Merge the shards' blob reports (the killed run left none) as CI does: gathered in one
  // folder, then playwright merge-reports; build the table from it and from the unsharded folder.
  const all = join(tmp, 'all-blob-reports');
  mkdirSync(all);
  for (const d of ['blob-1', 'blob-2'])
    for (const f of readdirSync(join(tmp, d)).filter((n) => n.endsWith('.zip'))) copyFileSync(join(tmp, d, f), join(all, f));
  expect(readdirSync(all)).toHaveLength(2);
  const merged = await cli('node_modules/@playwright/test/cli.js', ['merge-reports', '--reporter', 'json', all]);
  expect(merged.code, merged.err).toBe(0);
  const mergedTests = reportTests(merged.out);
  expect(mergedTests).toHaveLength(CELLS);
  for (const t of mergedTests) expect(t.attachments, t.title).toContain('sweep-cell');
  const reportFile = join(tmp, 'merged.json');
  writeFileSync(reportFile, merged.out);
  const tableSharded = await cli('src/cli/study.ts', ['--table', reportFile]);
  const tableWhole = await cli('src/cli/study.ts', ['--table', whole]);
  expect(tableSharded.code, tableSharded.err).toBe(0);
  expect(tableWhole.code, tableWhole.err).toBe(0);
  expect(tableWhole.out).toContain('| synth_count | count |');
  expect(tableWhole.out).toContain('| dsprites_location | position |');
  expect(tableSharded.out).toBe(tableWhole.out);
  console.log(tableWhole.out);

  // 6. Determinism: every cell's numbers, bit for bit, unsharded = sharded (one of them resumed after a kill).
  expect(jsonFiles(sharded)).toEqual(jsonFiles(whole));
  for (const n of jsonFiles(whole)) expect(numbersOf(read(join(sharded, n))), n).toEqual(numbersOf(read(join(whole, n))));

  // 7. ... and alone: the last cell of shard 2, as the only test of a run.
  const last = jsonFiles(whole).find((n) => n.startsWith('dsprites_location--vpt_deep') && n.includes('--s1--'))!;
  const a = await finish(sweep(['--results', alone, '--grep', read(join(whole, last)).sweep!.title]));
  expect(a.code, a.err).toBe(0);
  expect(jsonFiles(alone)).toEqual([last]);
  expect(numbersOf(read(join(alone, last)))).toEqual(numbersOf(read(join(whole, last))));
  expect(['wasm', 'webgpu']).toContain(read(join(whole, last)).sweep!.backend);
  rmSync(tmp, { recursive: true, force: true });
});

test('a sweep on the paper protocol: one cell runs its search and its seeds, and lands in the paper table', async () => {
  test.setTimeout(10 * 60_000);
  const tmp = mkdtempSync(join(os.tmpdir(), 'lab-sweep-paper-'));
  const run = (): ChildProcess =>
    spawn(process.execPath, ['--import', 'tsx', 'src/cli/sweep.ts', 'e2e/sweep/small-paper.sweep.json', '--no-build', '--results', tmp], {
      cwd: REPO,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const r = await finish(run());
  expect(r.code, r.err).toBe(0);
  const [name] = jsonFiles(tmp);
  expect(jsonFiles(tmp)).toHaveLength(1);
  const cell = read(join(tmp, name!));
  expect(cell.rows).toEqual([]);
  const p = cell.paper![0]!;
  // 2 learning rates searched on train / val, the chosen one among them, then seeds 0 and 1 on train + val.
  expect(p.search.map((s) => s.lr).sort()).toEqual([0.05, 0.5]);
  expect([0.05, 0.5]).toContain(p.chosen.lr);
  expect(p.final.map((f) => f.seed)).toEqual([0, 1]);
  expect(p.finalTrainSize).toBe(32 + 8);
  expect(cell.sweep!.curves.map((c) => c.stage)).toEqual(['search', 'search', 'final', 'final']);
  // The table: the paper protocol's, from the results folder, with the cell's mean ± std.
  const table = await cli('src/cli/study.ts', ['--table', tmp]);
  expect(table.code, table.err).toBe(0);
  expect(table.out).toContain('Paper protocol: test accuracy (%)');
  expect(table.out).toMatch(new RegExp(`\\| synth_count \\| count \\| — \\| 32 → 40 \\| ${p.mean.toFixed(1)} ± ${p.std.toFixed(1)}`));
  rmSync(tmp, { recursive: true, force: true });
});

test('a VTAB-1k task from a mounted folder, its zip and a URL: the same cell, the same numbers', async () => {
  test.setTimeout(10 * 60_000);
  const tmp = mkdtempSync(join(os.tmpdir(), 'lab-sweep-vtab-'));
  // A small generated eurosat folder in the vtab-1k layout (400 / 100 / 200 images) and its zip.
  const example = await cli('src/cli/data.ts', ['example', join(tmp, 'vtab'), '--task', 'eurosat', '--train', '400', '--zip']);
  expect(example.code, example.err).toBe(0);
  // The same folder over HTTP from another origin, as a data server with CORS would serve it.
  const server = createServer((req, res) => serve(req, res, () => void res.writeHead(404).end()));
  const serve = sirv(join(tmp, 'vtab'), { dev: true, setHeaders: (res) => res.setHeader('Access-Control-Allow-Origin', '*') });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const sweepFile = join(tmp, 'vtab.sweep.json');
  writeFileSync(
    sweepFile,
    JSON.stringify({
      model: { path: join(REPO, 'test/fixtures/timm_tiny_model.safetensors') },
      data: { path: 'vtab' },
      tasks: ['eurosat'],
      methods: ['linear'],
      sizes: [{ train: 400, epochs: 1 }],
      batch: 32,
      testSize: 0,
      cellTimeoutMinutes: 5,
    }),
  );
  try {
    const numbers: unknown[] = [];
    for (const [name, data] of [
      ['folder', join(tmp, 'vtab')],
      ['zip', join(tmp, 'vtab.zip')],
      ['url', url],
    ] as const) {
      const results = join(tmp, `results-${name}`);
      const r = await finish(
        spawn(process.execPath, ['--import', 'tsx', 'src/cli/sweep.ts', sweepFile, '--no-build', '--results', results, '--data', data], {
          cwd: REPO,
          env: childEnv(),
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      expect(r.code, `${name}: ${r.err}`).toBe(0);
      const [file] = jsonFiles(results);
      const cell = read(join(results, file!));
      expect(cell.rows[0]!.testAcc, name).toBeGreaterThanOrEqual(0);
      expect(cell.rows[0]!.testAcc, name).toBeLessThanOrEqual(100);
      // The published number of the linear probe on EuroSAT is beside it in the table.
      expect(r.out, name).toMatch(/\| eurosat \| remote-sensing classification \| — \| 400 \| [\d.]+ \[paper 87\.5\] \|/);
      numbers.push(numbersOf(cell));
    }
    expect(numbers[1]).toEqual(numbers[0]);
    expect(numbers[2]).toEqual(numbers[0]);
  } finally {
    server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

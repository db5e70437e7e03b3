/**
 * The sweep: one test per cell of the sweep file in SWEEP_FILE (`npm run sweep -- <file>` sets it),
 * so Playwright's `--shard i/n` spreads the cells over machines and `merge-reports` gathers them.
 *
 * Each test opens the lab in headless Chromium, sets the cell up through the URL and the page's
 * test API (`window.__lab`, src/ui/testApi.ts), picks the model and data files where the sweep
 * names files, starts the run on the lab's own engine (the backend the lab picks: WebGPU on a GPU,
 * WASM otherwise, unless the sweep forces one) and waits for it. Its result, in the schema of
 * `npm run study`, is written to the results folder (SWEEP_RESULTS) and attached to the report as
 * `sweep-cell`. A cell whose result is already in the folder under the same hash is not run again:
 * its stored result is attached instead, so a re-run shard finishes only what is missing and its
 * report still holds every cell.
 */
import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { LabPage } from '../pages/LabPage';
import { NAMED_MODELS } from '../../src/train/models';
import { CELL_ATTACHMENT, type StudyFile, type StudyRow } from '../../src/cli/studyFile';
import { paperRowOf } from '../../src/cli/studyReport';
import { RESULT_VERSION, loadSweep, overridesFromEnv, readCellResult, writeCellResult, type Cell, type Sweep } from '../../src/cli/sweepPlan';

const file = process.env.SWEEP_FILE;
const resultsDir = process.env.SWEEP_RESULTS ?? 'sweep-results';

if (!file) {
  test('sweep (no sweep file given)', () => {
    test.skip(true, 'Run a sweep with npm run sweep -- <sweep file> (it sets SWEEP_FILE).');
  });
} else {
  // Reading the file at collection time: the cells must be known before Playwright shards them.
  // A bad file fails the whole run here with the named error, before any browser starts.
  const sweep = await loadSweep(file, overridesFromEnv(process.env));
  test.describe.configure({ timeout: sweep.cellTimeoutMs });
  for (const cell of sweep.cells) {
    test(cell.title, async ({ page }, info) => {
      info.annotations.push({ type: 'cell', description: `${cell.hash} → ${join(resultsDir, cell.fileName)}` });
      const stored = await readCellResult<StudyFile>(resultsDir, cell);
      if (stored) {
        info.annotations.push({ type: 'resumed', description: 'result already in the results folder; not run again' });
        await info.attach(CELL_ATTACHMENT, { body: Buffer.from(JSON.stringify(stored)), contentType: 'application/json' });
        return;
      }
      const result = await runCell(page, sweep, cell);
      await writeCellResult(resultsDir, cell, result);
      await info.attach(CELL_ATTACHMENT, { body: Buffer.from(JSON.stringify(result)), contentType: 'application/json' });
    });
  }
}

/** Runs one cell in the page and returns its result (study schema + the sweep record). */
async function runCell(page: Page, sweep: Sweep, cell: Cell): Promise<StudyFile & { sweep: NonNullable<StudyFile['sweep']> }> {
  const lab = new LabPage(page);
  const t0 = Date.now();
  const named = 'name' in sweep.model ? pageModelChoice((sweep.model as { name: string }).name) : null;
  const setup: Record<string, string | number> = {
    task: cell.taskId,
    methods: cell.method,
    trainSize: cell.trainSize,
    epochs: cell.epochs,
    batch: sweep.batch,
    seed: cell.seeds[0]!,
    testSize: sweep.testSize,
    gradcam: 0,
    res: sweep.imageSize,
    // Blank = the method's default rate / the catalog's prompt length for the task and model.
    lr: sweep.lr ?? '',
    prompt: sweep.promptLength ?? '',
    ...(named ? { model: named } : {}),
    ...(sweep.backend !== 'auto' ? { backend: sweep.backend } : {}),
    // The paper protocol: final runs on seeds seed, seed + 1, ... (the sweep checked they are consecutive).
    ...(sweep.protocol.kind === 'paper' ? { protocol: 'paper', seeds: cell.seeds.length, grid: sweep.protocol.grid } : {}),
    ...('url' in sweep.data
      ? { data: 'url', dataUrl: sweep.data.url }
      : 'path' in sweep.data
        ? { data: sweep.data.path.endsWith('.zip') ? 'zip' : 'local' }
        : {}),
  };
  await lab.goto(setup);
  if ('path' in sweep.model) await lab.uploadModel(sweep.model.path);
  if ('url' in sweep.model) await lab.uploadModel(await downloadOnce(sweep.model.url));
  if ('path' in sweep.data) {
    if (sweep.data.path.endsWith('.zip')) await lab.id('setup.dataZip').setInputFiles(sweep.data.path);
    else await lab.id('setup.dataFolder').setInputFiles(sweep.data.path);
  }

  // The page clamps what it does not allow: a cell must run exactly as the sweep says.
  const asked = {
    taskId: cell.taskId,
    methods: [cell.method],
    trainSize: cell.trainSize,
    epochs: cell.epochs,
    batchSize: sweep.batch,
    seed: cell.seeds[0],
    testSize: sweep.testSize,
    ...(sweep.protocol.kind === 'paper' ? { protocol: 'paper', seeds: cell.seeds.length, grid: sweep.protocol.grid } : {}),
  };
  const got = (await lab.state()).setup;
  expect(got, 'the page took the cell’s setup as given').toMatchObject(asked);

  const ids = await page.evaluate(() => window.__lab!.startQueue());
  const state0 = await lab.state();
  expect(state0.errors, 'the page refused to start the run').toEqual([]);
  expect(ids).toHaveLength(1);
  try {
    // The run's own record says when it has ended (the queue may still read idle before it starts).
    await page.waitForFunction(
      (id) => ['done', 'failed', 'cancelled', 'interrupted'].includes(window.__lab!.getState().runs[id]?.summary.status ?? ''),
      ids[0],
      { timeout: sweep.cellTimeoutMs, polling: 500 },
    );
  } catch (e) {
    console.log(lab.logs.slice(-40).join('\n'));
    throw e;
  }
  const state = await lab.state();
  const run = state.runs[ids[0]!];
  const s = run?.summary;
  const paper = sweep.protocol.kind === 'paper';
  if (!s || s.status !== 'done' || (paper ? !s.paper : !s.test)) {
    throw new Error(
      `The cell's run ended ${s?.status ?? 'without a record'}: ${s?.error ? `[${s.error.code}] ${s.error.message}` : JSON.stringify(state.errors).slice(0, 500)}`,
    );
  }
  const seconds = (Date.now() - t0) / 1000;
  const record = {
    version: RESULT_VERSION,
    sweep: sweep.name,
    hash: cell.hash,
    title: cell.title,
    backend: s.backend,
    seconds,
    finishedAt: new Date().toISOString(),
  };
  const epochsOf = (curve: { epoch: number; trainLoss: number; trainAcc: number; heldOutAcc: number }[]) =>
    curve.map((c) => ({ epoch: c.epoch, trainLoss: c.trainLoss, trainAcc: c.trainAcc, valAcc: c.heldOutAcc }));
  if (paper) {
    const p = s.paper!;
    const row = paperRowOf(p, {
      taskId: cell.taskId,
      method: cell.method,
      epochs: cell.epochs,
      promptLength: s.config.promptLength ?? 0,
      why: p.why,
      trainableParams: s.trainableParams,
      seconds,
    });
    const curves = [
      ...p.search.map((r) => ({ seed: cell.seeds[0]!, stage: 'search' as const, lr: r.lr, wd: r.wd, epochs: epochsOf(r.curve) })),
      ...p.final.map((r) => ({ seed: r.seed, stage: 'final' as const, epochs: epochsOf(r.curve) })),
    ];
    return { model: sweep.modelText, rows: [], paper: [row], frechet: {}, sweep: { ...record, curves } };
  }
  const row: StudyRow = {
    taskId: cell.taskId,
    method: cell.method,
    trainSize: cell.trainSize,
    seed: cell.seeds[0]!,
    testAcc: s.test!.testAcc,
    valAcc: s.epochs.at(-1)?.valAcc ?? NaN,
    epochs: cell.epochs,
    seconds,
    trainableParams: s.trainableParams,
    lr: sweep.lr,
  };
  return {
    model: sweep.modelText,
    rows: [row],
    frechet: {},
    sweep: {
      ...record,
      curves: [{ seed: cell.seeds[0]!, epochs: s.epochs.map((e) => ({ epoch: e.epoch, trainLoss: e.trainLoss, trainAcc: e.trainAcc, valAcc: e.valAcc })) }],
    },
  };
}

/** The page's model choice for a model name of `npm run train -- --model` (bundled:…, hub:…, random:…). */
function pageModelChoice(name: string): string {
  const spec = NAMED_MODELS.find((m) => m.name === name)!.spec;
  if (spec.kind === 'random') return `random:${spec.preset}`;
  if (spec.kind === 'hub' || spec.kind === 'bundled') return `${spec.kind}:${spec.id}`;
  throw new Error(`Model ${name} has no choice in the page.`);
}

/**
 * A checkpoint at a URL, downloaded once per machine into SWEEP_CACHE (default: the system's temp
 * folder), named by the URL's hash; written to a temporary name first, so a cut download is
 * never taken for a whole one.
 */
async function downloadOnce(url: string): Promise<string> {
  const dir = process.env.SWEEP_CACHE ?? join(os.tmpdir(), 'lab-sweep-cache');
  const name = `${createHash('sha256').update(url).digest('hex').slice(0, 16)}-${
    url
      .split('/')
      .pop()
      ?.replace(/[^\w.-]/g, '_') || 'model'
  }`;
  const path = join(dir, name);
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  await mkdir(dir, { recursive: true });
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`Downloading the sweep's model from ${url} failed: HTTP ${res.status}.`);
  const tmp = `${path}.${process.pid}.part`;
  await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(tmp));
  await rename(tmp, path);
  return path;
}

/**
 * The whole lab, end to end, on a tiny checkpoint (64 px, 3 layers, width 48) and a procedural
 * task: FT and VPT-deep for 2 epochs each, then every view, the export, a reload and the URL.
 */
import { expect, test } from '@playwright/test';
import { writeFile } from 'node:fs/promises';
import { FIXTURE_MODEL, LabPage } from './pages/LabPage';

const SETUP = { task: 'dsprites_location', methods: 'ft,vpt_deep', trainSize: 32, epochs: 2, batch: 8, res: 64, testSize: 32, gradcam: 4, seed: 3 };

test('full flow: FT vs VPT-deep on a tiny checkpoint', async ({ page, context }, info) => {
  const lab = new LabPage(page);
  await lab.goto(SETUP);
  await lab.uploadModel(FIXTURE_MODEL);
  // The UI keeps its own limits: epochs typed in the form.
  await lab.id('setup.epochs').fill('2');
  await lab.id('setup.epochs').press('Enter');

  const setupBefore = (await lab.state()).setup;
  expect(setupBefore).toMatchObject({
    model: 'file',
    modelFileName: 'timm_tiny_model.safetensors',
    taskId: 'dsprites_location',
    methods: ['ft', 'vpt_deep'],
    trainSize: 32,
    epochs: 2,
    imageSize: 64,
  });

  await lab.start();
  try {
    await lab.waitDone(8 * 60_000);
  } catch (e) {
    // waitDone has printed the page's last logs; the runs' state says where they stopped.
    console.log(JSON.stringify((await lab.state()).runs, null, 1).slice(0, 4000));
    throw e;
  }
  await expect(lab.errors()).toBeEmpty();

  // Both curves have one point per epoch; the table has both methods with accuracies in [0, 100].
  const table = await lab.expectFtAndVptResults(2);
  await expect(lab.id('results.table')).toContainText('Full fine-tuning');
  await expect(lab.id('results.table')).toContainText('VPT-deep');

  // Grad-CAM overlays for both methods, not blank.
  await expect(lab.id('gradcam.gallery').locator('[data-testid="gradcam.overlay"]').first()).toBeVisible();
  const contrast = await lab.overlayContrast();
  for (const m of ['ft', 'vpt_deep']) {
    expect(contrast[m]?.length ?? 0).toBeGreaterThan(0);
    expect(Math.max(...contrast[m]!)).toBeGreaterThan(1);
  }

  // The per-class details open on demand.
  await lab.id('results.details.ft').locator('summary').click();
  await expect(lab.id('results.details.ft').locator('table.confusion')).toBeVisible();

  // The modal opens large and Escape closes it.
  await lab.id('gradcam.gallery').locator('.image-button').first().click();
  await expect(lab.id('gradcam.modal')).toBeVisible();
  await page.screenshot({ path: 'test-results/lab-gradcam-modal.png' });
  await page.keyboard.press('Escape');
  await expect(lab.id('gradcam.modal')).toBeHidden();

  await page.screenshot({ path: 'test-results/lab-finished.png', fullPage: true });
  await lab.id('ui.presentation').check();
  await page.screenshot({ path: 'test-results/lab-presentation.png', fullPage: true });
  await lab.id('ui.presentation').uncheck();

  // The VPT-deep run's trained parameters download as safetensors: 8 bytes of little-endian
  // header length, then a JSON header naming the prompts and the head.
  await expect(lab.exportParamsButton('vpt_deep')).toBeVisible();
  const params = await lab.download(lab.exportParamsButton('vpt_deep'));
  expect(params.name).toMatch(/\.safetensors$/);
  const headerLen = Number(params.bytes.readBigUInt64LE(0));
  expect(headerLen).toBeGreaterThan(0);
  expect(8 + headerLen).toBeLessThanOrEqual(params.bytes.length);
  const header = JSON.parse(params.bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
  expect(Object.keys(header)).toContain('prompts.0');
  expect(Object.keys(header)).toContain('head.weight');
  // The same file is reachable from the results table.
  await expect(lab.id('results.row.vpt_deep').getByTestId('runs.exportParams')).toBeVisible();

  // The exported JSON parses and matches the table.
  const exported = await lab.exportJson();
  expect(exported.runs).toHaveLength(2);
  for (const r of exported.runs) {
    expect(r.summary.status).toBe('done');
    expect(r.summary.epochs).toHaveLength(2);
    expect(r.summary.test?.testAcc).toBeCloseTo(table[r.method]!, 6);
    expect(r.summary.trainableParams).toBeGreaterThan(0);
  }
  const ftParams = exported.runs.find((r) => r.method === 'ft')!.summary.trainableParams;
  const vptParams = exported.runs.find((r) => r.method === 'vpt_deep')!.summary.trainableParams;
  expect(vptParams).toBeLessThan(ftParams);

  // The URL round-trips the setup.
  const url = page.url();
  const other = await context.newPage();
  const lab2 = new LabPage(other);
  await other.goto(url);
  await other.waitForFunction(() => !!window.__lab);
  expect((await lab2.state()).setup).toEqual(setupBefore);
  await other.close();

  // A reload still lists both runs, finished, with their results.
  const ids = exported.runs.map((r) => r.runId).sort();
  await page.reload();
  await page.waitForFunction(() => window.__lab?.getState().restored);
  await expect(lab.id('runs.row')).toHaveCount(2);
  const rows = await lab.id('runs.row').evaluateAll((els) => els.map((e) => [e.getAttribute('data-run-id'), e.getAttribute('data-status')]));
  expect(rows.map((r) => r[0]).sort()).toEqual(ids);
  expect(rows.every((r) => r[1] === 'done')).toBe(true);
  await expect(lab.id('results.row.vpt_deep')).toBeVisible();
  expect(await lab.tableAccuracies()).toEqual(table);
  // The trained parameters survived the reload, byte for byte.
  const again = await lab.download(lab.exportParamsButton('vpt_deep'));
  expect(again.bytes.equals(params.bytes)).toBe(true);
  await expect.poll(() => lab.chartPoints('chart.accuracy')).toEqual({ 'Full fine-tuning': 2, 'VPT-deep': 2 });
  await page.screenshot({ path: 'test-results/lab-after-reload.png', fullPage: true });
  // The per-step loss line survives the reload (the record keeps it).
  expect(Object.values(JSON.parse((await lab.id('chart.loss').getAttribute('data-step-points'))!) as Record<string, number>).every((n) => n > 0)).toBe(true);

  // Compare any saved runs: both picked, their curves overlaid and their accuracies side by side.
  for (const row of await lab.id('runs.row').all()) await row.getByTestId('runs.compare').check();
  await expect(lab.id('compare.panel')).toBeVisible();
  await expect
    .poll(async () => Object.values(JSON.parse((await lab.id('compare.accuracy').getAttribute('data-points')) ?? '{}') as Record<string, number>))
    .toEqual([2, 2]);
  await expect(lab.id('compare.table').locator('tbody tr')).toHaveCount(2);
  // Picking scrolls to the comparison; Show brings the curves it shows into view.
  const headingInView = async (selector: string) => {
    const box = await page.locator(selector).boundingBox();
    return !!box && box.y >= 0 && box.y + box.height <= page.viewportSize()!.height;
  };
  await expect.poll(() => headingInView('#compare-title')).toBe(true);
  await lab.id('runs.show').first().click();
  await expect.poll(() => headingInView('#results-title')).toBe(true);
  await lab.id('compare.clear').click();
  await expect(lab.id('compare.panel')).toHaveCount(0);

  // Starting from the exported parameters with 0 epochs only evaluates them: the same test
  // images give the same accuracy. 0 epochs is refused until a file is picked.
  const paramsPath = info.outputPath(params.name);
  await writeFile(paramsPath, params.bytes);
  await lab.uploadModel(FIXTURE_MODEL); // a local checkpoint is picked again after a reload
  await lab.openSetup(); // a reload opens on the folded setup
  await lab.id('setup.method.ft').uncheck();
  await lab.id('setup.epochs').fill('0');
  await lab.id('setup.epochs').press('Enter');
  expect((await lab.state()).setup.epochs).toBe(1);
  await lab.id('setup.importParams').setInputFiles(paramsPath);
  await expect(lab.id('setup.importParamsName')).toContainText(params.name);
  await lab.id('setup.epochs').fill('0');
  await lab.id('setup.epochs').press('Enter');
  expect((await lab.state()).setup.epochs).toBe(0);
  await lab.start();
  await lab.waitDone(4 * 60_000);
  await expect(lab.errors()).toBeEmpty();
  const evalRun = Object.values((await lab.state()).runs).find((r) => !ids.includes(r.summary.config.runId))!;
  expect(evalRun.importedFrom).toBe(params.name);
  expect(evalRun.summary.status).toBe('done');
  expect(evalRun.summary.test!.testAcc).toBeCloseTo(table.vpt_deep!, 6);
  // Deleting a run deletes its stored trained parameters too.
  const trainedKeys = () =>
    page.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const req = indexedDB.open('vpt-lab');
          req.onerror = () => reject(req.error);
          req.onsuccess = () => {
            const keys = req.result.transaction('trained').objectStore('trained').getAllKeys();
            keys.onsuccess = () => resolve(keys.result.map(String));
            keys.onerror = () => reject(keys.error);
          };
        }),
    );
  const evalId = evalRun.summary.config.runId;
  await expect.poll(trainedKeys).toContain(evalId);
  await page.locator(`[data-testid="runs.row"][data-run-id="${evalId}"]`).getByTestId('runs.delete').click();
  await lab.id('runs.confirmDelete').click();
  await expect(page.locator(`[data-testid="runs.row"][data-run-id="${evalId}"]`)).toHaveCount(0);
  await expect.poll(trainedKeys).not.toContain(evalId);
  expect(await trainedKeys()).toEqual(expect.arrayContaining(ids));

  // Clearing the file brings back the 1-epoch minimum (the run view folded the form: open it).
  await lab.openSetup();
  await lab.id('setup.importParamsClear').click();
  await expect(lab.id('setup.importParamsName')).toHaveCount(0);
  expect((await lab.state()).setup.epochs).toBe(1);
});

test('compare anything: saved runs of different tasks, sizes and methods overlaid in one view, each told apart; Compare and Show scroll to what they show', async ({
  page,
}) => {
  // Three Starts on the bundled model, one epoch each: the linear probe on two tasks, then
  // VPT-deep on the first task with twice the images.
  await page.setViewportSize({ width: 1280, height: 720 });
  const lab = new LabPage(page);
  await lab.goto({ task: 'synth_count', methods: 'linear', trainSize: 32, epochs: 1, batch: 8, testSize: 16, gradcam: 2, seed: 1 });
  const runStart = async (finished: number) => {
    await lab.start();
    const done = async () => Object.values((await lab.state()).runs).filter((r) => r.summary.status === 'done').length;
    await expect.poll(done, { timeout: 3 * 60_000 }).toBe(finished);
    await lab.waitDone(60_000);
    await expect(lab.errors()).toBeEmpty();
  };
  await runStart(1);
  await lab.openSetup();
  await lab.id('setup.task').selectOption('dsprites_location');
  await runStart(2);
  await lab.openSetup();
  await lab.id('setup.task').selectOption('synth_count');
  await lab.id('setup.trainSize').fill('64');
  await lab.id('setup.trainSize').press('Enter');
  await lab.id('setup.method.vpt_deep').check(); // one method stays checked at all times
  await lab.id('setup.method.linear').uncheck();
  await runStart(3);

  const state = await lab.state();
  const byStart = state.order.map((id) => state.runs[id]!);
  expect(byStart.map((r) => [r.summary.config.method, r.summary.config.taskId, r.summary.config.trainSize])).toEqual([
    ['linear', 'synth_count', 32],
    ['linear', 'dsprites_location', 32],
    ['vpt_deep', 'synth_count', 64],
  ]);
  expect(new Set(byStart.map((r) => r.groupId)).size).toBe(3);
  const names = ['Linear probe · synth_count · 32 · seed 1', 'Linear probe · dsprites_location · 32 · seed 1', 'VPT-deep · synth_count · 64 · seed 1'];
  const row = (r: (typeof byStart)[number]) => page.locator(`[data-testid="runs.row"][data-run-id="${r.runId}"]`);
  // Whole in view, to a pixel: a heading scrolled to the top sits a fraction of one above it.
  const inView = async (selector: string) => {
    const box = await page.locator(selector).boundingBox();
    return !!box && box.y >= -1 && box.y + box.height <= page.viewportSize()!.height + 1;
  };

  // Picking a run for comparison scrolls to the comparison; all three, in the order picked.
  await page.evaluate(() => window.scrollTo(0, 0));
  await row(byStart[0]!).getByTestId('runs.compare').check();
  await expect.poll(() => inView('#compare-title')).toBe(true);
  for (const r of byStart.slice(1)) await row(r).getByTestId('runs.compare').check();
  await expect(lab.id('compare.panel')).toHaveAttribute('data-runs', '3');

  // Both charts overlay every run, named by what differs: method, task, training images, seed.
  // The charts draw at most once a second (coalesced updates): wait for the third run to land.
  const points = Object.fromEntries(names.map((n) => [n, 1]));
  const attr = async (chart: string, name: string) => JSON.parse((await lab.id(chart).getAttribute(name)) ?? '{}') as Record<string, number>;
  await expect.poll(() => attr('compare.loss', 'data-points')).toEqual(points);
  await expect.poll(() => attr('compare.accuracy', 'data-points')).toEqual(points);
  await expect.poll(async () => Object.keys(await attr('compare.loss', 'data-step-points')).sort()).toEqual([...names].sort());
  const steps = await attr('compare.loss', 'data-step-points');
  for (const n of names) expect(steps[n], n).toBeGreaterThan(0);
  for (const chart of ['compare.loss', 'compare.accuracy']) {
    const legend = await lab.id(`${chart}.legend`).locator('.legend-text').allInnerTexts();
    expect(legend, chart).toEqual(expect.arrayContaining(names));
    // Each series can be told from the others: the two linear-probe runs share a colour, so
    // their lines differ in dash, in the legend and on the plot.
    const swatches = await Promise.all(
      names.map((n) =>
        lab
          .id(`${chart}.legend`)
          .locator('li', { hasText: n })
          .locator('line')
          .evaluate((l) => `${l.getAttribute('stroke')} ${l.getAttribute('stroke-dasharray') ?? 'solid'}`),
      ),
    );
    expect(new Set(swatches).size, `${chart} legend: ${swatches.join(' | ')}`).toBe(3);
  }
  // The loss chart's per-step lines (one per run; with one epoch, the epoch means are one dot each).
  const stepLines = await lab
    .id('compare.loss')
    .locator('.recharts-line-curve[stroke-opacity="0.55"]')
    .evaluateAll((els) => els.map((l) => `${l.getAttribute('stroke')} ${l.getAttribute('stroke-dasharray') ?? 'solid'}`));
  expect(stepLines).toHaveLength(3);
  expect(new Set(stepLines).size, stepLines.join(' | ')).toBe(3);
  // The tasks differ, so no one chance line: each run's chance is in the table.
  await expect(lab.id('compare.accuracy')).not.toHaveAttribute('data-chance');

  // The table: the test accuracy of each run beside its own task's chance level.
  const rows = lab.id('compare.table').locator('tbody tr');
  await expect(rows).toHaveCount(3);
  for (const [i, r] of byStart.entries()) {
    const tr = rows.nth(i);
    await expect(tr).toHaveAttribute('data-run-id', r.runId);
    await expect(tr.locator('th')).toHaveText(names[i]!);
    expect(Number(await tr.getAttribute('data-acc'))).toBeCloseTo(r.summary.test!.testAcc, 6);
    await expect(tr.locator('td').nth(2)).toHaveText(r.summary.config.taskId === 'dsprites_location' ? '6.3' : '12.5');
  }
  await lab.id('compare.panel').screenshot({ path: 'test-results/lab-compare-tasks.png' });

  // Show (another task's group, from the bottom of the page) switches the curves to that run's
  // group and brings them into view.
  await row(byStart[1]!).getByTestId('runs.show').click();
  await expect(lab.id('results.group')).toHaveValue(byStart[1]!.groupId);
  await expect.poll(() => lab.chartPoints('chart.loss')).toEqual({ 'Linear probe': 1 }); // the chart redraws within a second
  await expect(lab.id('results.table').locator('caption')).toContainText('dSprites/location');
  await expect.poll(() => inView('#results-title')).toBe(true);
  await expect.poll(() => lab.inViewport('chart.loss')).toBe(true);
});

test('a reload during a queue offers to resume it: the interrupted run continues, the one that never started is still queued and runs', async ({ page }) => {
  const lab = new LabPage(page);
  // FT runs first, then the linear probe (the order of `methods`).
  // 30 epochs of 4 steps: long enough to pause in the first run's second epoch on a fast machine.
  await lab.goto({ ...SETUP, methods: 'ft,linear', epochs: 30 });
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.start();
  // In the first run's second epoch, pause (so the run cannot end meanwhile), wait for the first
  // epoch's checkpoint to be stored, then reload mid-run.
  await page.waitForFunction(() => Object.values(window.__lab!.getState().runs).some((r) => (r.step?.epoch ?? 0) >= 2), null, { timeout: 5 * 60_000 });
  await lab.id('run.pause').click({ timeout: 30_000 });
  await expect(lab.id('run.status')).toHaveAttribute('data-state', 'paused');
  await page.waitForFunction(() => Object.values(window.__lab!.getState().runs).some((r) => r.hasCheckpoint), null, { timeout: 60_000 });
  await page.reload();
  await page.waitForFunction(() => window.__lab?.getState().restored);
  // The banner at the top names both runs: the one that was training, and the one still queued.
  await expect(lab.id('resume.banner')).toBeVisible();
  expect(await lab.id('resume.run').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).toEqual(['interrupted', 'queued']);
  await expect(lab.id('run.status')).toHaveText('Stopped by a reload: 2 runs to resume');
  const statuses = () => lab.id('runs.row').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-method')}:${e.getAttribute('data-status')}`).sort());
  expect(await statuses()).toEqual(['ft:interrupted', 'linear:queued']);
  const before = Object.values((await lab.state()).runs).find((r) => r.summary.config.method === 'ft')!;
  expect(before.summary.epochs.length).toBeGreaterThanOrEqual(1);
  await page.screenshot({ path: 'test-results/lab-resume-banner.png' });
  // The checkpoint came from a file: resuming first asks for it, and the offer stays.
  await lab.id('resume.all').click();
  await expect(lab.errors()).toContainText('load the checkpoint file');
  await expect(lab.id('resume.banner')).toBeVisible();
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.id('resume.all').click();
  await expect(lab.id('resume.banner')).toHaveCount(0);
  await lab.waitDone(5 * 60_000);
  await expect(lab.errors()).toBeEmpty();
  expect(await statuses()).toEqual(['ft:done', 'linear:done']);
  const runs = Object.values((await lab.state()).runs);
  for (const r of runs)
    expect(
      r.summary.epochs.map((e) => e.epoch),
      r.summary.config.method,
    ).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  // The interrupted run continued from its checkpoint: its first epoch is the one from before the reload.
  expect(runs.find((r) => r.summary.config.method === 'ft')!.summary.epochs[0]).toEqual(before.summary.epochs[0]);
  await expect(lab.id('run.status')).toHaveText('2 runs finished — done');
});

test('before Start, the time is measured on this device by one real step of the setup (a guess until then, said so)', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ task: 'synth_count', methods: 'ft,vpt_deep', trainSize: 64, epochs: 2, batch: 8, testSize: 32, gradcam: 2 });
  // The bundled model is small: it is measured as soon as the setup settles, both methods.
  await expect.poll(async () => (await lab.startEstimate()).basis, { timeout: 120_000 }).toBe('probe');
  const measured = await lab.startEstimate();
  expect(measured.seconds).toBeGreaterThan(0);
  expect(measured.runs).toBe(2);
  expect(measured.text).toMatch(/^About \d+ (s|min|h) on this device \((WASM, \d+ threads?|WEBGPU|WEBGL|CPU)\), measured/);
  await expect(lab.id('run.measure')).toHaveCount(0);
  // The measurement is kept in this browser: after a reload it is there at once, not measured again.
  const keys = Object.keys((await lab.state()).probe.results).sort();
  await page.reload();
  await page.waitForFunction(() => window.__lab?.getState().restored);
  expect(Object.keys((await lab.state()).probe.results).sort()).toEqual(keys);
  expect((await lab.state()).probe.pending).toBeNull();
  await expect.poll(async () => (await lab.startEstimate()).basis).toBe('probe');
  // More epochs: the same steps (no new measurement), twice the training.
  await lab.openSetup(); // a reload opens on the folded setup
  await lab.id('setup.epochs').fill('4');
  await lab.id('setup.epochs').press('Enter');
  await expect.poll(async () => (await lab.startEstimate()).seconds).toBeGreaterThan(measured.seconds);
  expect((await lab.startEstimate()).basis).toBe('probe');
  // A hub ViT-B/16 is not measured by itself (a step takes long on a CPU): a guess, said so, and a button.
  await lab.id('setup.model').selectOption('hub:google/vit-base-patch16-224-in21k');
  await expect.poll(async () => (await lab.startEstimate()).basis).toBe('guess');
  await expect(lab.id('run.estimate')).toContainText('a guess, not a measurement');
  await expect(lab.id('run.measure')).toBeEnabled();
});

test('the prompt-length hint agrees with the field, and a task switch that clears a typed length says so', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ task: 'synth_count', methods: 'vpt_deep' });
  const hint = page.locator('#prompt-hint');
  await expect(lab.id('setup.promptLength')).toHaveValue('');
  // The default bundled model cuts 48 px into 36 patches.
  await expect(lab.id('setup.promptLength')).toHaveAttribute('placeholder', '18');
  await expect(hint).toHaveText('blank: the paper’s rule, paper 100 × 36 / 196 patches = 18');
  await lab.id('setup.promptLength').fill('10');
  await lab.id('setup.promptLength').press('Enter');
  await expect(hint).toHaveText(/^10 typed and used; blank would follow the paper/);
  await lab.id('setup.task').selectOption('dsprites_location');
  await expect(lab.id('run.notices')).toContainText('Prompt length 10 (typed) was cleared for');
  await expect(lab.id('setup.promptLength')).toHaveValue('');
  await expect(hint).toHaveText(/^blank: the paper’s rule/);
});

test('pause, resume and cancel act on the running queue', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ ...SETUP, epochs: 20 });
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.start();
  // From the first moment, the time left counts both runs and is more than 0.
  await expect.poll(async () => (await lab.queueEta()).seconds, { timeout: 60_000 }).toBeGreaterThan(0);
  expect((await lab.queueEta()).runs).toBe(2);
  await page.waitForFunction(() => Object.values(window.__lab!.getState().runs).some((r) => !!r.step), null, { timeout: 120_000 });
  await lab.id('run.pause').click();
  await expect(lab.id('run.status')).toHaveAttribute('data-state', 'paused');
  await expect(lab.id('run.status')).toHaveText(/^Run 1 of 2 — Full fine-tuning: paused$/);
  // Paused in run 1, at the speed its steps showed: the time left is the whole queue's, more than
  // run 1's remaining training steps alone (its validation, Grad-CAM and test, and run 2, count too).
  await expect.poll(async () => (await lab.queueEta()).activeTrainSeconds).toBeGreaterThanOrEqual(0);
  const eta = await lab.queueEta();
  expect(eta).toMatchObject({ runs: 2, basis: 'run' });
  expect(eta.seconds).toBeGreaterThan(eta.activeTrainSeconds);
  await expect(lab.id('run.eta')).toContainText(/left for 2 runs \(validation, test and Grad-CAM included/);
  await lab.id('run.resume').click();
  await expect(lab.id('run.status')).toHaveAttribute('data-state', 'running');
  // Cancel asks first; keeping the runs keeps them running.
  await lab.id('run.cancel').click();
  await lab.id('run.cancelKeep').click();
  await expect(lab.id('run.status')).toHaveAttribute('data-state', 'running');
  await lab.id('run.cancel').click();
  await lab.id('run.cancelConfirm').click();
  // Cancelled during run 1: neither run finished.
  await expect(lab.id('run.status')).toHaveText('Queue cancelled: 0 of 2 runs finished — cancelled', { timeout: 60_000 });
  const statuses = Object.values((await lab.state()).runs)
    .map((r) => r.summary.status)
    .sort();
  expect(statuses).toEqual(['cancelled', 'cancelled']);
  await expect(lab.errors()).toBeEmpty();
  // Restarting one run of the group: the status counts what this queue did (1 run), and how the group stands.
  await page.locator('[data-testid="runs.row"][data-method="ft"]').getByTestId('runs.resume').click();
  await lab.waitDone(4 * 60_000);
  await expect(lab.id('run.status')).toHaveText('1 run finished (this group: 1 of 2 done) — done');
});

/**
 * Errors the user causes show on the page, in the alert region, with what was wrong; a learning
 * rate too high for the run is a warning in the status, with the rerun that answers it.
 */
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pngDeclaring, writeVtabFixture, zipFolder } from '../src/data/fixtures.node';
import { FIXTURE_MODEL, LabPage } from './pages/LabPage';

const SMALL = { trainSize: 16, epochs: 1, batch: 8, res: 64, testSize: 8, gradcam: 2, methods: 'ft' };

/** The lab on a small FT setup with 4 kB of random bytes picked as the checkpoint. */
async function withCorruptCheckpoint(page: Page, info: TestInfo): Promise<LabPage> {
  const lab = new LabPage(page);
  const path = info.outputPath('corrupt.safetensors');
  await writeFile(path, randomBytes(4096));
  await lab.goto({ ...SMALL, task: 'dsprites_location' });
  await lab.uploadModel(path);
  return lab;
}

test('a corrupt checkpoint turns Start off, naming the file and the reason; a good one turns it on again', async ({ page }, info) => {
  const lab = await withCorruptCheckpoint(page, info);
  await expect(lab.id('run.start')).toBeDisabled({ timeout: 120_000 });
  await expect(lab.id('run.startBlocked')).toContainText('corrupt.safetensors');
  await expect(lab.id('run.startBlocked')).toContainText(/checkpoint\//);
  await expect(lab.id('run.startBlocked')).toHaveAttribute('role', 'alert');
  await expect(lab.id('run.start')).toHaveAttribute('aria-describedby', 'start-blocked');
  expect(Object.keys((await lab.state()).runs)).toHaveLength(0);
  await page.screenshot({ path: 'test-results/error-checkpoint.png' });
  await lab.uploadModel(FIXTURE_MODEL);
  await expect(lab.id('run.start')).toBeEnabled({ timeout: 120_000 });
  await expect(lab.id('run.startBlocked')).toHaveCount(0);
});

test('trained parameters are checked when picked: random bytes turn Start off and are not called a checkpoint', async ({ page }, info) => {
  const lab = new LabPage(page);
  const path = info.outputPath('random.safetensors');
  await writeFile(path, randomBytes(4096));
  await lab.goto({ ...SMALL, task: 'dsprites_location' });
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.id('setup.importParams').setInputFiles(path);
  await expect(lab.id('setup.importParamsCheck')).toHaveAttribute('data-state', 'bad', { timeout: 120_000 });
  await expect(lab.id('setup.importParamsCheck')).toContainText('random.safetensors');
  await expect(lab.id('run.start')).toBeDisabled();
  await expect(lab.id('run.startBlocked')).toContainText('The trained parameters “random.safetensors”');
  expect(Object.keys((await lab.state()).runs)).toHaveLength(0);
});

test('a bad checkpoint or data zip is reported when it is picked, before Start; a good one says what it holds', async ({ page }, info) => {
  const lab = new LabPage(page);
  const corrupt = info.outputPath('corrupt.safetensors');
  await writeFile(corrupt, randomBytes(4096));
  const notZip = info.outputPath('not-a-zip.zip');
  await writeFile(notZip, Buffer.concat([Buffer.from('this is not a zip file\n'), randomBytes(1024)]));
  await lab.goto({ ...SMALL, task: 'dtd', data: 'zip' });
  await lab.id('setup.modelFile').setInputFiles(corrupt);
  await expect(lab.id('setup.modelCheck')).toHaveAttribute('data-state', 'bad');
  await expect(lab.id('setup.modelCheck')).toHaveAttribute('data-code', /^checkpoint\//);
  await expect(lab.id('setup.modelCheck')).toContainText('corrupt.safetensors');
  await lab.id('setup.dataZip').setInputFiles(notZip);
  await expect(lab.id('setup.dataCheck')).toHaveAttribute('data-state', 'bad');
  await expect(lab.id('setup.dataCheck')).toHaveAttribute('data-code', /^data\//);
  await expect(lab.id('setup.dataCheck')).toContainText('not-a-zip.zip');
  // Nothing was started, and the alerts stay empty: the messages sit beside the files.
  expect(Object.keys((await lab.state()).runs)).toHaveLength(0);
  await expect(lab.errors()).toBeEmpty();
  await page.screenshot({ path: 'test-results/error-at-pick.png' });
  // A good checkpoint replaces the verdict with what it holds; the skip option is on the page.
  await lab.uploadModel(FIXTURE_MODEL);
  await expect(lab.id('setup.modelCheck')).toHaveAttribute('data-state', 'ok');
  await expect(lab.id('setup.modelCheck')).toContainText(/\d+ blocks of width \d+/);
  await expect(lab.id('setup.skipBad')).toBeVisible();
});

test('a broken data zip turns Start off, naming it', async ({ page }, info) => {
  const lab = new LabPage(page);
  const path = info.outputPath('not-a-zip.zip');
  await writeFile(path, Buffer.concat([Buffer.from('this is not a zip file\n'), randomBytes(1024)]));
  await lab.goto({ ...SMALL, task: 'dtd', data: 'zip' });
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.id('setup.dataZip').setInputFiles(path);
  await expect(lab.id('run.start')).toBeDisabled({ timeout: 120_000 });
  await expect(lab.id('run.startBlocked')).toContainText('not-a-zip.zip');
  await expect(lab.id('run.startBlocked')).toContainText(/data\//);
  expect(Object.keys((await lab.state()).runs)).toHaveLength(0);
  await page.screenshot({ path: 'test-results/error-data-zip.png' });
});

test('a pixel bomb in a data zip is refused from its header, in the page', async ({ page }, info) => {
  const lab = new LabPage(page);
  // A dtd task folder whose every image is a 66-byte PNG declaring 30000 x 30000 pixels (3.6 GB
  // of RGBA if decoded), zipped: zip.js reads it in the worker, the decoder refuses the header.
  const root = info.outputPath('bomb');
  const dir = writeVtabFixture(root, { folder: 'dtd', classes: 47, train: 24, val: 8, test: 6 });
  for (const split of ['train', 'test']) {
    for (const f of await readdir(join(dir, 'images', split))) await writeFile(join(dir, 'images', split, f), pngDeclaring(30000, 30000));
  }
  const zipPath = info.outputPath('bomb.zip');
  await writeFile(zipPath, await zipFolder(dir));
  await lab.goto({ ...SMALL, trainSize: 800, task: 'dtd', data: 'zip' }); // 800/200: the lists as given
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.id('setup.dataZip').setInputFiles(zipPath);
  await lab.start();
  const alert = lab.errors().locator('.banner.error');
  await expect(alert).toHaveCount(1, { timeout: 120_000 });
  await expect(alert).toHaveAttribute('data-code', 'data/image-too-large');
  await expect(alert).toContainText('30000 × 30000');
  await lab.waitDone(60_000);
  expect(Object.values((await lab.state()).runs)[0]!.summary.status).toBe('failed');
});

test('a run whose loss stops being finite stops with a named error on the page', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ ...SMALL, trainSize: 64, task: 'dsprites_location', methods: 'linear', lr: 1e30 }); // 8 steps: NaN by step 3
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.start();
  const alert = lab.errors().locator('.banner.error');
  await expect(alert).toHaveCount(1, { timeout: 120_000 });
  await expect(alert).toHaveAttribute('data-code', 'run/diverged');
  await expect(alert).toContainText(/epoch 1, step \d+/);
  await expect(alert).toContainText('Lower the learning rate');
  await lab.waitDone(60_000);
  expect(Object.values((await lab.state()).runs)[0]!.summary.status).toBe('failed');
});

test('a run whose loss rises is marked on the loss chart and in the status, and "Rerun at lr ÷ 10" runs it again at a tenth of the rate', async ({ page }) => {
  // The bundled model's linear probe at a typed base lr of 20: the head's weights grow with every
  // step, so epoch 2's mean loss is about twice epoch 1's while every loss stays finite (a rise,
  // not the named error above). At lr 2 the same run's loss falls.
  const lab = new LabPage(page);
  await lab.goto({ task: 'synth_count', methods: 'linear', trainSize: 32, epochs: 2, batch: 8, testSize: 8, gradcam: 2, seed: 1 });
  await lab.id('setup.lr').fill('20');
  await lab.id('setup.lr').press('Enter');
  expect((await lab.state()).setup.lr).toBe(20);
  await lab.start();
  await lab.waitDone(3 * 60_000);
  // A rise is a warning, not an error: the run ends and keeps its numbers.
  await expect(lab.errors()).toBeEmpty();
  const [first] = Object.values((await lab.state()).runs);
  expect(first!.summary.status).toBe('done');
  expect(first!.summary.lossRise).toMatchObject({ kind: 'epoch', epoch: 2, phase: 1, lr: 20 });
  const rise = first!.summary.lossRise!;
  expect(rise.reference).toBe(first!.summary.epochs[0]!.trainLoss);
  expect(rise.loss).toBe(first!.summary.epochs[1]!.trainLoss);
  expect(rise.loss).toBeGreaterThan(1.1 * rise.reference);

  // On the chart: the run is named as rising, and a ringed, labelled mark sits on its curve.
  await expect(lab.id('chart.loss')).toHaveAttribute('data-rise', JSON.stringify(['Linear probe']));
  const mark = lab.id('chart.loss').locator('.loss-rise-mark');
  await expect(mark).toHaveCount(1);
  await expect(mark.locator('circle')).toBeVisible();
  // Its label is whole: inside the chart's drawing, not cut at its edge (the rise is often at the
  // last epoch, the axis's end). Recharts draws a reference dot's label in a layer of its own.
  const label = lab.id('chart.loss').locator('svg text', { hasText: 'Linear probe: loss rising' });
  await expect(label).toBeVisible();
  const inside = await label.evaluate((t) => {
    const [r, svg] = [t.getBoundingClientRect(), t.closest('svg')!.getBoundingClientRect()];
    return { label: [r.left, r.top, r.right, r.bottom], svg: [svg.left, svg.top, svg.right, svg.bottom] };
  });
  expect(inside.label[0]!, JSON.stringify(inside)).toBeGreaterThanOrEqual(inside.svg[0]!);
  expect(inside.label[1]!, JSON.stringify(inside)).toBeGreaterThanOrEqual(inside.svg[1]!);
  expect(inside.label[2]!, JSON.stringify(inside)).toBeLessThanOrEqual(inside.svg[2]!);
  expect(inside.label[3]!, JSON.stringify(inside)).toBeLessThanOrEqual(inside.svg[3]!);
  // Its text alternative says so too.
  await expect(lab.id('chart.loss').locator('.chart-body')).toHaveAttribute(
    'aria-label',
    /Linear probe: mean training loss per epoch [\d.]+, [\d.]+ \(its loss rose\)/,
  );
  // In the status: what rose, where, against what and at which lr, and one action.
  const status = lab.id('run.lossRise');
  await expect(status).toContainText('Linear probe: loss rising.');
  await expect(status).toContainText(
    `The mean training loss of epoch 2 is ${rise.loss.toFixed(3)}, above 1.1 × the first epoch's ${rise.reference.toFixed(3)} (base lr 20). The learning rate is probably too high`,
  );
  await expect(status.getByRole('button')).toHaveCount(1);
  await expect(lab.id('run.rerunLower')).toHaveText('Rerun at lr ÷ 10 (2)');
  await lab.id('chart.loss').screenshot({ path: 'test-results/errors-loss-rise.png' });

  // The rerun: the same setup at lr 2, queued into the same group, and run.
  await lab.id('run.rerunLower').click();
  await expect.poll(async () => Object.keys((await lab.state()).runs).length).toBe(2);
  const rerunId = (await lab.state()).order.find((id) => id !== first!.summary.config.runId)!;
  const queued = (await lab.state()).runs[rerunId]!;
  expect(queued.summary.config).toMatchObject({ method: 'linear', lr: 2, taskId: 'synth_count', trainSize: 32, epochs: 2, batchSize: 8, seed: 1 });
  expect(queued.groupId).toBe(first!.groupId);
  await expect(page.locator(`[data-testid="runs.row"][data-run-id="${rerunId}"]`)).toContainText('lr 2 ·');
  await expect(page.locator(`[data-testid="runs.row"][data-run-id="${first!.summary.config.runId}"]`)).toContainText('lr 20 ·');
  await expect(lab.id('run.status')).toHaveText('1 run finished (this group: 2 of 2 done) — done', { timeout: 3 * 60_000 });
  await expect(lab.errors()).toBeEmpty();
  const rerun = (await lab.state()).runs[rerunId]!;
  expect(rerun.summary.status).toBe('done');
  expect(rerun.summary.config.lr).toBe(2);
  expect(rerun.summary.lossRise).toBeUndefined();
  expect(rerun.summary.epochs[1]!.trainLoss).toBeLessThan(rerun.summary.epochs[0]!.trainLoss);
  // Both tries side by side in the group's chart; only the first is marked, and the status no
  // longer asks for a rerun: a later run of the method at a lower lr answered it.
  await expect(lab.id('results.group')).toHaveValue(first!.groupId);
  await expect.poll(() => lab.chartPoints('chart.loss')).toEqual({ 'Linear probe': 2, 'Linear probe #2': 2 }); // charts draw at most once a second
  // One method, one colour: the rerun's line has a dash of its own.
  const dashes = await lab
    .id('chart.loss.legend')
    .locator('li', { hasText: /^Linear probe/ })
    .locator('line')
    .evaluateAll((ls) => ls.map((l) => l.getAttribute('stroke-dasharray')));
  expect(dashes).toHaveLength(2);
  expect(dashes[0]).not.toBe(dashes[1]);
  await expect(lab.id('chart.loss')).toHaveAttribute('data-rise', JSON.stringify(['Linear probe']));
  await expect(lab.id('chart.loss').locator('.loss-rise-mark')).toHaveCount(1);
  await expect(lab.id('run.lossRise')).toHaveCount(0);
});

test('a data folder with a bad list file shows its message', async ({ page }, info) => {
  const lab = new LabPage(page);
  // A vtab-1k task folder whose train list has a line without a label, and no images.
  const dir = info.outputPath('dtd');
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/train800.txt`, 'images/a.jpg 0\nimages/b.jpg\n');
  await writeFile(`${dir}/val200.txt`, 'images/a.jpg 0\n');
  await writeFile(`${dir}/train800val200.txt`, 'images/a.jpg 0\nimages/b.jpg\n');
  await writeFile(`${dir}/test.txt`, 'images/a.jpg 0\n');
  await lab.goto({ ...SMALL, task: 'dtd', data: 'local' });
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.id('setup.dataFolder').setInputFiles(dir);
  await expect(lab.id('setup.dataCheck')).toHaveAttribute('data-state', 'bad', { timeout: 120_000 });
  await expect(lab.id('run.start')).toBeDisabled();
  await expect(lab.id('run.startBlocked')).toContainText(/The data “dtd”: .*data\//);
  expect(Object.keys((await lab.state()).runs)).toHaveLength(0);
});

test('a VTAB task with no data picked says what to do, before any download', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ ...SMALL, task: 'dtd' });
  await expect(lab.id('run.start')).toBeDisabled();
  await expect(lab.id('run.startBlocked')).toContainText('needs its images');
  expect((await lab.state()).order).toHaveLength(0);
});

test('the setup never takes a value silently: a clamped field says so, a link’s out-of-range value is named, a bad resolution is refused at setup time', async ({
  page,
}) => {
  const lab = new LabPage(page);
  // Not dev mode: the train size's minimum is 400. The link asks for 0 epochs without a file to evaluate.
  await lab.goto({ task: 'synth_count', methods: 'ft', epochs: 0 }, false);
  await expect(lab.id('run.notices')).toContainText("The link's epochs=0 would only evaluate, which needs trained parameters to import");
  await expect(lab.id('setup.epochs')).toHaveValue('1');
  // A train size below the minimum: the field shows the size used, and says why.
  await lab.id('setup.trainSize').fill('100');
  await lab.id('setup.trainSize').press('Enter');
  await expect(lab.id('setup.trainSize')).toHaveValue('400');
  await expect(lab.id('setup.trainSize.clamped')).toHaveText('100 is below the minimum 400: 400 is used');
  expect((await lab.state()).setup.trainSize).toBe(400);
  // 60 px does not cut into the default bundled model's 8-px patches: named beside the field, and Start refuses it.
  await lab.id('setup.imageSize').fill('60');
  await lab.id('setup.imageSize').press('Enter');
  await expect(lab.id('setup.imageSize.error')).toContainText('Input resolution 60 px is not a multiple of the patch size');
  await expect(lab.id('setup.imageSize.error')).toContainText('Use 56 or 64 px');
  await expect(lab.id('run.start')).toBeDisabled();
  await expect(lab.id('run.startBlocked')).toContainText('Input resolution 60 px is not a multiple of the patch size of Scenes ViT, bundled (offline) (8 px)');
  expect((await lab.state()).order).toHaveLength(0);
  // A multiple of 8 is taken.
  await lab.id('setup.imageSize').fill('64');
  await lab.id('setup.imageSize').press('Enter');
  await expect(lab.id('setup.imageSize.error')).toHaveCount(0);
});

test('repeated failures of one setup are one row with a count in Saved runs, and "Clear failed" removes them for good', async ({ page }) => {
  // A run that fails at Start-able inputs: a learning rate whose loss is not finite by step 3.
  const lab = new LabPage(page);
  await lab.goto({ ...SMALL, trainSize: 64, task: 'dsprites_location', methods: 'linear', lr: 1e30 });
  await lab.uploadModel(FIXTURE_MODEL);
  for (let i = 0; i < 3; i++) {
    await lab.start();
    await lab.waitDone(60_000);
  }
  const failedRows = page.locator('[data-testid="runs.row"][data-status="failed"]');
  await expect(failedRows).toHaveCount(1);
  await expect(failedRows).toHaveAttribute('data-count', '3');
  await expect(failedRows.getByTestId('runs.attempts')).toHaveText('× 3');
  expect(Object.values((await lab.state()).runs).filter((r) => r.summary.status === 'failed')).toHaveLength(3);
  // Clear failed asks first; keeping them keeps them.
  await expect(lab.id('runs.clearFailed')).toHaveText('Clear failed (3)…');
  await lab.id('runs.clearFailed').click();
  await expect(page.locator('#confirm-title')).toHaveText('Delete all 3 failed runs?');
  await page.getByRole('button', { name: 'Keep it' }).click();
  await expect(failedRows).toHaveCount(1);
  await lab.id('runs.clearFailed').click();
  await lab.id('runs.confirmDelete').click();
  await expect(failedRows).toHaveCount(0);
  await expect(lab.id('runs.clearFailed')).toBeDisabled();
  // Gone from the browser's storage too: a reload does not bring them back.
  await page.reload();
  await page.waitForFunction(() => window.__lab?.getState().restored);
  await expect(lab.id('runs.row')).toHaveCount(0);
  expect(Object.keys((await lab.state()).runs)).toHaveLength(0);
});

/** Errors the user causes show on the page, in the alert region, with what was wrong. */
import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { FIXTURE_MODEL, LabPage } from './pages/LabPage';

const SMALL = { trainSize: 16, epochs: 1, batch: 8, res: 64, testSize: 8, gradcam: 2, methods: 'ft' };

test('a corrupt checkpoint shows its message on the page', async ({ page }, info) => {
  const lab = new LabPage(page);
  const path = info.outputPath('corrupt.safetensors');
  await writeFile(path, randomBytes(4096));
  await lab.goto({ ...SMALL, task: 'dsprites_location' });
  await lab.uploadModel(path);
  await lab.start();
  const alert = lab.errors().locator('.banner.error');
  await expect(alert).toHaveCount(1, { timeout: 120_000 });
  await expect(alert).toHaveAttribute('data-code', /^checkpoint\//);
  await expect(alert).toContainText(/\S{4,}/);
  await expect(lab.errors()).toHaveAttribute('role', 'alert');
  await lab.waitDone(60_000);
  expect(Object.values((await lab.state()).runs)[0]!.summary.status).toBe('failed');
  await page.screenshot({ path: 'test-results/error-checkpoint.png' });
});

test('a broken data zip shows its message on the page', async ({ page }, info) => {
  const lab = new LabPage(page);
  const path = info.outputPath('not-a-zip.zip');
  await writeFile(path, Buffer.concat([Buffer.from('this is not a zip file\n'), randomBytes(1024)]));
  await lab.goto({ ...SMALL, task: 'dtd', data: 'zip' });
  await lab.uploadModel(FIXTURE_MODEL);
  await lab.id('setup.dataZip').setInputFiles(path);
  await lab.start();
  const alert = lab.errors().locator('.banner.error');
  await expect(alert).toHaveCount(1, { timeout: 120_000 });
  await expect(alert).toHaveAttribute('data-code', /^data\//);
  await expect(alert).toContainText('not-a-zip.zip');
  await page.screenshot({ path: 'test-results/error-data-zip.png' });
});

test('a data folder with a bad list file shows its message', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ ...SMALL, task: 'dtd', data: 'local' });
  await lab.uploadModel(FIXTURE_MODEL);
  // A folder whose list names an image that is not there and has a line without a label.
  await lab.id('setup.dataFolder').setInputFiles([
    { name: 'train800.txt', mimeType: 'text/plain', buffer: Buffer.from('images/a.jpg 0\nimages/b.jpg\n') },
    { name: 'val200.txt', mimeType: 'text/plain', buffer: Buffer.from('images/a.jpg 0\n') },
    { name: 'test.txt', mimeType: 'text/plain', buffer: Buffer.from('images/a.jpg 0\n') },
  ]);
  await lab.start();
  const alert = lab.errors().locator('.banner.error');
  await expect(alert).toHaveCount(1, { timeout: 120_000 });
  await expect(alert).toHaveAttribute('data-code', /^data\//);
});

test('a VTAB task with no data picked says what to do, before any download', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ ...SMALL, task: 'dtd' });
  await lab.start();
  await expect(lab.errors()).toContainText('needs its images');
  expect((await lab.state()).order).toHaveLength(0);
});

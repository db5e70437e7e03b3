/** Errors the user causes show on the page, in the alert region, with what was wrong. */
import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
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

/**
 * The quick start works offline: no file is picked anywhere. The page opens on its built-in
 * defaults (the bundled model at its own resolution, an offline procedural task, FT vs VPT-deep),
 * only made smaller through the URL, and one click of Start trains both. Then the "When does VPT
 * win?" view measures Fréchet distances against the bundled model's pretraining data.
 */
import { expect, test } from '@playwright/test';
import { LabPage } from './pages/LabPage';
import { e2eOrigin } from '../playwright.config';

/** Smaller than the defaults, to keep the test fast; everything else is the page's own. */
const QUICK = { trainSize: 32, epochs: 2, testSize: 32 };

test('quick start on the built-in defaults, offline, with no file inputs', async ({ page }) => {
  const lab = new LabPage(page);
  const failed: string[] = [];
  // Nothing outside the page's own origin is fetched, and nothing is missing (favicon included).
  page.on('request', (r) => {
    if (!r.url().startsWith(`${e2eOrigin}/`) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) failed.push(`outside: ${r.url()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()}: ${r.url()}`);
  });

  await lab.goto(QUICK);
  // Task ids as the page lists them (the catalog's JSON cannot be imported into the test runner).
  const allTasks = await lab
    .id('setup.task')
    .locator('option')
    .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  const proceduralTasks = await lab
    .id('setup.task')
    .locator('optgroup[label="Offline (procedural)"] option')
    .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(proceduralTasks.length).toBeGreaterThanOrEqual(2);
  const setup = (await lab.state()).setup;
  expect(setup).toMatchObject({
    model: 'bundled:scenes_vit',
    methods: ['ft', 'vpt_deep'],
    imageSize: 0, // the checkpoint's own resolution
    ...QUICK,
  });
  expect(proceduralTasks).toContain(setup.taskId);
  await expect(lab.id('setup.imageSize')).toHaveValue('');
  await page.screenshot({ path: 'test-results/offline-first-view.png' });

  await lab.start();
  await lab.waitDone(6 * 60_000); // prints the page's last logs if it times out
  await expect(lab.errors()).toBeEmpty();

  // Both curves have one point per epoch; the table has both methods with accuracies in [0, 100].
  await lab.expectFtAndVptResults(2);
  // The runs used the bundled model at its own 48 px resolution.
  for (const r of Object.values((await lab.state()).runs)) {
    expect(r.summary.config.modelSource).toBe('bundled:scenes_vit');
    expect(r.summary.status).toBe('done');
    expect(r.trained?.bytes ?? 0).toBeGreaterThan(0);
  }

  // Grad-CAM overlays for both methods, not blank.
  await expect(lab.id('gradcam.gallery').locator('[data-testid="gradcam.overlay"]').first()).toBeVisible();
  const contrast = await lab.overlayContrast();
  for (const m of ['ft', 'vpt_deep']) {
    expect(contrast[m]?.length ?? 0).toBeGreaterThan(0);
    expect(Math.max(...contrast[m]!)).toBeGreaterThan(1);
  }

  // "When does VPT win?": distances to the bundled model's pretraining data, computed in the
  // worker ('frechet'), place the procedural tasks on the chart.
  await expect(lab.id('paper.reference')).toHaveValue('pretraining');
  await lab.id('paper.computeFrechet').click();
  await expect(lab.id('paper.computeFrechet')).toBeEnabled({ timeout: 5 * 60_000 });
  await expect(lab.errors()).toBeEmpty();
  const measured = await lab.measuredDistances();
  const procedural = proceduralTasks.filter((id) => id in measured);
  expect(procedural.length).toBeGreaterThanOrEqual(2);
  for (const id of procedural) {
    expect(Number.isFinite(measured[id])).toBe(true);
    expect(measured[id]).toBeGreaterThanOrEqual(0);
  }
  // The pretraining distribution itself is nearer than the dSprites images.
  expect(measured.synth_shapes!).toBeLessThan(measured.dsprites_location!);
  const state = await lab.state();
  expect(state.paper.frechet.synth_shapes?.reference).toMatch(/pretraining/);
  // Only the tasks still unmeasured are called placeholders.
  await expect(lab.id('paper.placeholderNote')).toContainText(`${allTasks.length - Object.keys(measured).length} task`);

  await page.screenshot({ path: 'test-results/offline-finished.png', fullPage: true });
  expect(failed, failed.join('\n')).toEqual([]);
});

test('the other bundled model, tiny_pretrained, runs offline in the page and says what it is', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ model: 'bundled:tiny_pretrained', methods: 'linear', trainSize: 32, epochs: 1, testSize: 32, gradcam: 2 });
  expect((await lab.state()).setup.model).toBe('bundled:tiny_pretrained');
  await lab.start();
  await lab.waitDone(4 * 60_000);
  await expect(lab.errors()).toBeEmpty();
  const [run] = Object.values((await lab.state()).runs);
  expect(run?.summary.config.modelSource).toBe('bundled:tiny_pretrained');
  expect(run?.summary.status).toBe('done');
  // The results' note describes this model (4 blocks, 16 patches), not the default one.
  const note = lab.id('results.miniatureNote');
  await expect(note).toHaveAttribute('data-model', 'tiny_pretrained');
  await expect(note).toContainText('4 blocks of width 128 on 48 px images, 16 patches');
  await expect(note).toContainText('one 50-way label');
});

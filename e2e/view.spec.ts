/**
 * The page as a student, a lecturer and a test engineer see it: the run view keeps status and
 * curves in view once Start is pressed, presentation mode fits a 1280 × 720 projector during a
 * run (and stays on across a reload), charts export as real figures with readable text, and
 * "When does VPT win?" never puts an unmeasured task on the measured axis. Writes the README's
 * screenshots (docs/screenshots/).
 */
import { expect, test } from '@playwright/test';
import { LabPage } from './pages/LabPage';

/** The bundled model on its own pretraining task: quick, offline, with Grad-CAM. */
const SETUP = { task: 'synth_count', methods: 'ft,vpt_deep', trainSize: 96, epochs: 3, batch: 16, testSize: 48, gradcam: 6, seed: 2 };
const SHOTS = 'docs/screenshots';
/** Generous: the machine running the suite may be busy. */
const RUN_MS = 6 * 60_000;

test('run view, presentation at 1280x720 during a run, figures, contrast, and the unmeasured strip', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 1000 });
  const lab = new LabPage(page);
  await lab.goto(SETUP);

  // Before any run the sweep and the curves have nothing to export: their PNG buttons say so.
  await expect(lab.id('chart.sweep.png')).toBeDisabled();
  await expect(lab.id('chart.loss.png')).toBeDisabled();

  // Start folds the setup into one line: status, progress and both curves are in view.
  await lab.start();
  await expect(lab.id('setup.summary')).toBeVisible();
  await expect(lab.id('setup.trainSize')).toBeHidden();
  await page.waitForFunction(() => Object.values(window.__lab!.getState().runs).some((r) => (r.stepLoss?.length ?? 0) >= 2), null, { timeout: RUN_MS });
  for (const id of ['run.status', 'run.progress.train', 'chart.loss', 'chart.accuracy'])
    expect(await lab.inViewport(id), `${id} in view at 1400x1000`).toBe(true);
  // The loss moves with every step, before the first epoch ends.
  const steps = JSON.parse((await lab.id('chart.loss').getAttribute('data-step-points')) ?? '{}') as Record<string, number>;
  expect(steps['Full fine-tuning']).toBeGreaterThanOrEqual(2);

  // The first epoch's Grad-CAM maps are in; pause, so what follows is still during the run.
  await page.waitForFunction(() => Object.values(window.__lab!.getState().runs).some((r) => r.gradcam && r.summary.epochs.length >= 1), null, {
    timeout: RUN_MS,
  });
  await lab.id('run.pause').click();
  await expect(lab.id('run.status')).toHaveAttribute('data-state', 'paused');
  // Nothing animates while paused: the decode bar of generated images (nothing to decode) stands still.
  for (const id of ['run.progress.download', 'run.progress.decode', 'run.progress.train'])
    await expect(lab.id(id), `${id} still while paused`).toHaveAttribute('data-state', /^(idle|measured)$/);
  await page.screenshot({ path: `${SHOTS}/run-view.png` });

  // Presentation at a projector's 1280 x 720: status, both curves and the gallery on one screen.
  await page.setViewportSize({ width: 1280, height: 720 });
  await lab.id('ui.presentation').check();
  expect(page.url()).toContain('present=1');
  await expect(lab.id('gradcam.overlay').first()).toBeVisible();
  for (const id of ['run.status', 'chart.loss', 'chart.accuracy', 'gradcam.gallery'])
    expect(await lab.inViewport(id), `${id} in view in presentation`).toBe(true);
  expect(await lab.id('run.status').getAttribute('data-state')).toBe('paused');
  await page.screenshot({ path: `${SHOTS}/presentation.png` });
  await lab.id('run.resume').click();
  await lab.waitDone(RUN_MS);
  await expect(lab.errors()).toBeEmpty();

  // The words a student needs: each method in two sentences with its trainable share on ViT-B/16
  // (FT all of it, VPT-deep a few per cent at most), links out, and the miniature's note beside the results.
  await page.setViewportSize({ width: 1400, height: 1000 });
  await lab.id('ui.presentation').uncheck();
  const shares = await lab
    .id('teach.panel')
    .locator('[data-share]')
    .evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-testid'), Number(e.getAttribute('data-share'))])));
  expect(Object.keys(shares)).toHaveLength(6);
  expect(shares['teach.method.ft']).toBe(1);
  expect(shares['teach.method.vpt_deep']).toBeGreaterThan(0);
  expect(shares['teach.method.vpt_deep']).toBeLessThan(0.03);
  expect(shares['teach.method.linear']).toBeLessThan(shares['teach.method.vpt_shallow']!);
  const links = await lab
    .id('teach.links')
    .locator('a')
    .evaluateAll((els) => els.map((a) => (a as HTMLAnchorElement).href));
  expect(links.length).toBeGreaterThanOrEqual(4);
  for (const href of links) expect(href).toMatch(/^https:\/\//);
  await expect(lab.id('results.miniatureNote')).toContainText('not expected to match');
  await lab.id('teach.panel').screenshot({ path: `${SHOTS}/teaching.png` });
  await lab.id('ui.presentation').check();

  // Every chart exports the chart itself: at least 600 x 300 (2x), far from one colour, with
  // legend and axis text at 4.5:1 or more.
  await lab.id('paper.computeFrechet').click();
  await expect(lab.id('paper.computeFrechet')).toBeEnabled({ timeout: RUN_MS });
  for (const chart of ['chart.loss', 'chart.accuracy', 'chart.vptWins', 'chart.sweep']) {
    const png = await lab.exportPng(chart);
    expect(png.name).toMatch(/\.png$/);
    expect(png.width, `${chart} width`).toBeGreaterThanOrEqual(600);
    expect(png.height, `${chart} height`).toBeGreaterThanOrEqual(300);
    expect(png.colours, `${chart} colours`).toBeGreaterThan(16);
    expect(png.inkShare, `${chart} has lines and text`).toBeGreaterThan(0.01);
    const texts = await lab.chartTextContrast(chart);
    expect(texts.length, `${chart} has legend and axis text`).toBeGreaterThan(4);
    for (const t of texts) expect(t.ratio, `contrast of "${t.text}" in ${chart}`).toBeGreaterThanOrEqual(4.5);
  }

  // "When does VPT win?": the measured tasks are on the axis; every VTAB task (none measured
  // here: no VTAB data was picked) sits in the separate strip, never on the distance axis.
  const measured = await lab.measuredDistances();
  expect(Object.keys(measured).length).toBeGreaterThanOrEqual(7);
  const plotted = await lab
    .id('chart.vptWins')
    .locator('svg [data-task]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-task')!));
  expect(plotted.length).toBeGreaterThanOrEqual(7);
  for (const task of plotted) expect(Object.keys(measured), `${task} is measured`).toContain(task);
  const strip = JSON.parse((await lab.id('paper.unmeasured').getAttribute('data-tasks')) ?? '[]') as string[];
  expect(strip).toHaveLength(19);
  for (const task of strip) expect(plotted).not.toContain(task);
  // Points carry their names on the chart, not only on hover, one per measured task, and no two
  // labels overlap (the tasks sit close: the procedural ones share a group and similar distances).
  const boxes = await lab.labelBoxes('chart.vptWins');
  expect(boxes.map((b) => b.id).sort()).toEqual(Object.keys(measured).sort());
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      expect(apart, `labels ${a.id} and ${b.id} overlap: ${JSON.stringify([a, b])}`).toBe(true);
    }

  // Presentation stays on across a reload (it is in the URL).
  await page.reload();
  await page.waitForFunction(() => window.__lab?.getState().restored);
  await expect(lab.id('ui.presentation')).toBeChecked();
  await lab.id('ui.presentation').uncheck();
  expect(page.url()).not.toContain('present=1');
});

/**
 * The paper protocol in the page: a 2-point learning-rate grid and 2 seeds on a procedural task,
 * with a tiny checkpoint. The setup states the work and the time before Start; the results show
 * mean ± std with the chosen values, the accuracy chart with error bars and the chance line, the
 * CKA and gap views; the JSON and CSV exports carry every search run and every seed; the URL keeps
 * the protocol.
 */
import { expect, test } from '@playwright/test';
import { FIXTURE_MODEL, LabPage } from './pages/LabPage';

const SETUP = {
  task: 'dsprites_location',
  methods: 'linear,vpt_deep',
  trainSize: 32,
  epochs: 3,
  batch: 8,
  res: 64,
  testSize: 64,
  gradcam: 2,
  seed: 3,
  protocol: 'paper',
  seeds: 2,
  grid: 'lr=0.5,0.05;wd=0',
};

test('paper protocol: search, choice, two seeds, mean ± std on the page and in the exports', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto(SETUP);
  await expect(lab.id('setup.protocol.paper')).toBeChecked();
  await expect(lab.id('setup.seeds')).toHaveValue('2');
  // 2 methods × (2 search points + 2 seeds), and a time, before anything runs (the bundled model).
  await expect(lab.id('setup.estimate')).toContainText('8 training runs');
  await expect(lab.id('setup.estimate')).toContainText(/about \d+ (s|min|h)/);
  // A checkpoint file's speed is unknown until it has run here: the page says so, not a guess.
  await lab.uploadModel(FIXTURE_MODEL);
  await expect(lab.id('setup.estimate')).toContainText(/8 training runs; the time is known after a first run/);
  // One count: the button counts what the setup counts, and the status the same while it runs,
  // naming the running candidate.
  await expect(lab.id('run.start')).toHaveText('Start 8 training runs (2 methods)');

  // Every text the linear probe's row shows, recorded as the page renders it: a stage of the tiny
  // model can end before a poll started after Start would look (on a loaded machine, it did).
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { rowTexts: string[] }).rowTexts = seen;
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="results.row.linear"]')?.textContent ?? '';
      if (t && seen.at(-1) !== t) seen.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await lab.start();
  await expect(lab.id('run.status')).toHaveText(/^Training run [1-8] of 8 — .+ \(lr [\d.]+, wd [\d.]+, seed \d+\)/, { timeout: 5 * 60_000 });
  await lab.waitDone(8 * 60_000);
  // The stages showed while they ran, in order: each search point, then each seed's final run.
  const texts = await page.evaluate(() => (window as unknown as { rowTexts: string[] }).rowTexts);
  let at = 0;
  for (const stage of ['search 1/2 (lr 0.5, wd 0)', 'search 2/2 (lr 0.05, wd 0)', 'final run 1/2 (seed 3)', 'final run 2/2 (seed 4)']) {
    const i = texts.findIndex((t, k) => k >= at && t.includes(stage));
    expect(i, `${stage} after ${JSON.stringify(texts[at])}`).toBeGreaterThanOrEqual(0);
    at = i;
  }
  await expect(lab.errors()).toBeEmpty();

  for (const m of ['linear', 'vpt_deep']) {
    await expect(lab.id(`results.acc.${m}`)).toHaveText(/^\d+\.\d ± \d+\.\d( †)?$/);
    await expect(lab.id(`results.chosen.${m}`)).toHaveText(/^lr (0\.5|0\.05) · wd 0$/);
  }
  await expect(lab.id('results.table')).toContainText('mean ± standard deviation over 2 seeds');
  await expect(lab.id('results.chance')).toContainText('6.3 %');
  // The validation curve of a paper run is its chosen search run's (the final runs have no val).
  await expect.poll(async () => Object.values(await lab.chartPoints('chart.accuracy'))).toEqual([3, 3]);
  expect(await lab.id('chart.accuracy').getAttribute('data-chance')).toBe('6.25');
  const testBars = async () => JSON.parse((await lab.id('chart.test').getAttribute('data-points')) ?? '[]') as { name: string; mean: number; std: number }[];
  await expect.poll(async () => (await testBars()).map((b) => b.name).sort()).toEqual(['Linear probe', 'VPT-deep']); // views render deferred
  const bars = await testBars();
  expect(await lab.id('chart.test').getAttribute('data-chance')).toBe('6.25');
  // One error bar per method whose seeds disagree (recharts draws none for a spread of 0); the two
  // seeds start from different heads and prompts, so at least one method's seeds disagree.
  const spread = bars.filter((b) => b.std > 0).length;
  expect(spread, JSON.stringify(bars)).toBeGreaterThan(0);
  await expect(lab.id('chart.test').locator('.recharts-errorBar')).toHaveCount(spread);
  const cka = JSON.parse((await lab.id('chart.cka').getAttribute('data-points'))!) as Record<string, number[]>;
  expect(cka['Linear probe']!.every((v) => Math.abs(v - 1) < 1e-3)).toBe(true);
  expect(cka['VPT-deep']).toHaveLength(4);
  const gap = JSON.parse((await lab.id('chart.gap').getAttribute('data-points'))!) as Record<string, number[]>;
  expect(Object.keys(gap).sort()).toEqual(['Linear probe', 'VPT-deep']);
  await page.screenshot({ path: 'test-results/paper-protocol.png', fullPage: true });

  // The JSON export: every search run, the choice, each seed's test accuracy, mean and std.
  const exported = await lab.exportJson();
  expect(exported.runs).toHaveLength(2);
  const table = await lab.tableAccuracies();
  for (const r of exported.runs) {
    const p = r.summary.paper!;
    expect(p.search.map((s) => s.lr)).toEqual([0.5, 0.05]);
    // The choice is the best validation accuracy, a tie going to the smaller rate (tune_vtab.py).
    const best = Math.max(...p.search.map((s) => s.valAcc));
    expect(p.chosen.lr).toBe(Math.min(...p.search.filter((s) => s.valAcc === best).map((s) => s.lr)));
    await expect(lab.id(`results.chosen.${r.method}`)).toHaveText(`lr ${p.chosen.lr} · wd 0`);
    expect(p.final.map((f) => f.seed)).toEqual([3, 4]);
    expect(p.finalTrainSize).toBe(40);
    expect(p.mean).toBeCloseTo((p.final[0]!.testAcc + p.final[1]!.testAcc) / 2, 6);
    expect(p.mean).toBeCloseTo(table[r.method]!, 6);
    expect(r.summary.config.lr).toBe(p.chosen.lr);
    expect(r.summary.config.protocol?.seeds).toEqual([3, 4]);
  }

  // The CSV export: mean, std, the chosen values and every seed.
  const csv = (await lab.download(lab.id('export.csv'))).bytes.toString('utf8').trim().split('\n');
  const head = csv[0]!.split(',');
  for (const line of csv.slice(1)) {
    const row = Object.fromEntries(line.split(',').map((v, i) => [head[i], v]));
    expect(row.protocol).toBe('paper');
    expect(Number(row.testStd)).toBeGreaterThanOrEqual(0);
    expect(row.seedTestAccs).toMatch(/^3:[\d.]+;4:[\d.]+$/);
    expect(row.searchRuns).toMatch(/^0\.5\/0:[\d.]+.*;0\.05\/0:[\d.]+/);
    expect(['0.5', '0.05']).toContain(row.lr);
  }

  // The URL keeps the protocol, the seeds and the grid.
  const hash = new URLSearchParams(new URL(page.url()).hash.slice(1));
  expect([hash.get('protocol'), hash.get('seeds'), hash.get('grid')]).toEqual(['paper', '2', 'lr=0.5,0.05;wd=0']);
});

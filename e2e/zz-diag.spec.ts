import { expect, test } from '@playwright/test';
import { LabPage } from './pages/LabPage';

test('diag: probe vs run', async ({ page }) => {
  test.setTimeout(15 * 60_000);
  const lab = new LabPage(page);
  await lab.gotoFresh();
  await expect.poll(async () => (await lab.startEstimate()).basis, { timeout: 120_000 }).toBe('probe');
  console.log('PROBES', JSON.stringify((await lab.state()).probe.results));
  await lab.start();
  await lab.waitDone(15 * 60_000);
  const s = await lab.state();
  for (const r of Object.values(s.runs))
    console.log('RUN', r.summary.config.method, r.summary.config.predictedSeconds, r.summary.seconds, JSON.stringify(r.summary.epochs.map((e) => e.seconds)), JSON.stringify(r.timing));
});

/**
 * WASM threads in the page: the same quick start on the same seed, once from a server
 * with COOP/COEP (the preview server: cross-origin isolated, so one WASM thread per logical core
 * up to the cap) and once from a plain static server without them and with the service worker
 * blocked (not isolated: one thread, with the notice). Both finish; the results agree. tfjs'
 * threaded and single-threaded builds run the same XNNPACK microkernels and every product's sums
 * in the same order whatever the thread count (the pool splits the output, not the sums), so the
 * results are expected to be bit-identical, and this test says so when they are.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { LabPage } from './pages/LabPage';
import { e2ePort, e2eOrigin } from '../playwright.config';
import { serveStatic, type StaticServer } from './static-server';

/** The quick start, small, on WASM whatever adapter the machine has. */
const SETUP = { trainSize: 48, epochs: 2, testSize: 48, seed: 7, backend: 'wasm' };
const ENGINE_START_MS = 120_000;

interface Outcome {
  threads: number;
  cause: string;
  reason: string;
  badge: string;
  /** Per method: test accuracy and every epoch's training loss. */
  runs: Record<string, { acc: number; losses: number[] }>;
}

async function runOnce(browser: Browser, baseURL: string, serviceWorkers: 'allow' | 'block'): Promise<{ outcome: Outcome; page: Page }> {
  const context = await browser.newContext({ baseURL, serviceWorkers });
  const page = await context.newPage();
  const lab = new LabPage(page);
  await lab.goto(SETUP);
  const threads = lab.id('run.threads');
  await expect(threads).toBeVisible({ timeout: ENGINE_START_MS });
  await lab.start();
  await lab.waitDone(8 * 60_000);
  await expect(lab.errors()).toBeEmpty();
  await lab.expectFtAndVptResults(SETUP.epochs);
  const state = await lab.state();
  const runs: Outcome['runs'] = {};
  for (const r of Object.values(state.runs)) runs[r.summary.config.method] = { acc: r.summary.test!.testAcc, losses: r.summary.epochs.map((e) => e.trainLoss) };
  return {
    page,
    outcome: {
      threads: Number(await threads.getAttribute('data-threads')),
      cause: (await threads.getAttribute('data-cause')) ?? '',
      reason: (await threads.textContent()) ?? '',
      badge: (await lab.id('run.backend').locator('.badge').textContent()) ?? '',
      runs,
    },
  };
}

test.describe('WASM threads', () => {
  let plain: StaticServer;
  test.beforeAll(async () => {
    plain = await serveStatic({ root: 'dist', port: e2ePort + 30 });
  });
  test.afterAll(async () => plain?.close());

  test('isolated: one thread per core (up to 8); not isolated: one thread with the notice; same results', async ({ browser }) => {
    const isolated = await runOnce(browser, `${e2eOrigin}/`, 'allow');
    const cores = await isolated.page.evaluate(() => navigator.hardwareConcurrency);
    expect(await isolated.page.evaluate(() => crossOriginIsolated)).toBe(true);
    const expected = Math.min(cores, 8);
    expect(isolated.outcome.threads).toBe(expected);
    expect(isolated.outcome.badge).toContain(`${expected} thread`);
    if (cores > 1) {
      expect(isolated.outcome.threads).toBeGreaterThan(1);
      expect(isolated.outcome.cause).toBe('');
      expect(isolated.outcome.reason).toMatch(/WASM runs on \d+ threads/);
      // The pthread workers exist: the engine worker plus tfjs' pool of 8.
      expect(isolated.page.workers().length).toBeGreaterThanOrEqual(1 + 8);
      // The lab's own SIMD loops run on helper workers started from the engine worker. How many
      // chunks they win during a step is a race with the engine's thread, so the bench also hands
      // them one GELU whose caller takes no chunk (helperCheckChunks): positive exactly when they
      // started and compute.
      const bench = (await isolated.page.evaluate(
        (threads) =>
          (window as unknown as { __engine: { request(c: unknown): Promise<unknown> } }).__engine.request({
            type: 'bench',
            requestId: 'helpers',
            backend: 'wasm',
            cases: [{ preset: 'vit_ti16', mode: 'ft', batch: 2, promptLength: 0 }],
            warmup: 1,
            runs: 1,
            threads,
          }),
        expected,
      )) as { rows: { threads?: number; helperChunks?: number; helperCheckChunks?: number; error?: string }[] };
      const row = bench.rows[0];
      console.log(
        `ViT-Ti/16 FT step at batch 2 on ${row?.threads} threads: ${row?.helperChunks} chunks won by helper threads; ${row?.helperCheckChunks} of a GELU left to them`,
      );
      expect(row).toMatchObject({ threads: expected });
      expect(row?.error).toBeUndefined();
      expect(row?.helperCheckChunks).toBeGreaterThan(0);
    }
    await isolated.page.screenshot({ path: 'test-results/threads-isolated.png', fullPage: true });

    const single = await runOnce(browser, plain.url, 'block');
    expect(await single.page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(single.outcome).toMatchObject({ threads: 1, cause: 'not-isolated' });
    expect(single.outcome.reason).toMatch(/one thread: the page is not cross-origin isolated/);
    expect(single.outcome.badge).toContain('1 thread');
    await single.page.screenshot({ path: 'test-results/threads-not-isolated.png', fullPage: true });

    // Same seed, same data: the same results whatever the thread count.
    expect(Object.keys(single.outcome.runs).sort()).toEqual(Object.keys(isolated.outcome.runs).sort());
    let identical = true;
    for (const [method, a] of Object.entries(isolated.outcome.runs)) {
      const b = single.outcome.runs[method]!;
      identical &&= a.acc === b.acc && a.losses.every((l, i) => l === b.losses[i]);
      expect(b.acc, `${method} accuracy`).toBeCloseTo(a.acc, 6);
      a.losses.forEach((l, i) => expect(Math.abs(l - b.losses[i]!), `${method} epoch ${i + 1} loss`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(l))));
    }
    console.log(
      `threads ${isolated.outcome.threads} vs 1: results ${identical ? 'bit-identical' : 'equal within 1e-5'}`,
      JSON.stringify({ threaded: isolated.outcome.runs, single: single.outcome.runs }),
    );
  });
});

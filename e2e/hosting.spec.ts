/**
 * Hosting the built lab as a lecturer would (README, "Host it for a class"):
 * - dist/ on a plain static server under a sub-path, no special headers: the quick start runs to
 *   "done", single-threaded WASM with the reason shown, and the offline copy installs; then with
 *   the network off and the server stopped, a reload starts the lab from the service worker, which
 *   also makes it cross-origin isolated, and the quick start runs to "done" again;
 * - dist/ with the headers of its own `_headers` file: cross-origin isolated from the first load;
 * - a new release deployed over the old one while a run is going: the page offers the update but
 *   not the reload until the run has finished, the run finishes on the old release, and the
 *   reload brings the new one.
 * The default preview server (playwright.config.ts) is not used here.
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabPage } from './pages/LabPage';
import { e2ePort } from '../playwright.config';
import { serveStatic, type StaticServer } from './static-server';

const QUICK = { trainSize: 32, epochs: 2, testSize: 32 };
const SUBPATH = '/course/lab/';
/** The engine's start (worker, WASM compile, adapter probe) on a busy 2-core machine. */
const ENGINE_START_MS = 120_000;

async function runQuickStart(lab: LabPage, expectedRuns: number): Promise<void> {
  await lab.start();
  await lab.waitDone(6 * 60_000);
  await expect(lab.errors()).toBeEmpty();
  await lab.expectFtAndVptResults(2);
  const runs = Object.values((await lab.state()).runs);
  expect(runs.filter((r) => r.summary.status === 'done')).toHaveLength(expectedRuns);
}

/** An isolated page runs WASM on one thread per logical core (up to 8), and says so. */
async function expectThreadsPerCore(page: Page, lab: LabPage): Promise<void> {
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  await expect(lab.id('run.threads')).toHaveAttribute('data-threads', String(Math.min(cores, 8)));
  await expect(lab.id('run.threads')).toHaveAttribute('data-cause', cores > 1 ? '' : 'one-core');
}

/** `crossOriginIsolated` inside the engine worker (where the WASM threads run). */
async function workerIsolated(page: Page): Promise<boolean> {
  await expect.poll(() => page.workers().length).toBeGreaterThan(0);
  return page.workers()[0]!.evaluate(() => (self as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated);
}

test.describe('a plain static server at a sub-path', () => {
  let server: StaticServer;
  test.beforeAll(async () => {
    server = await serveStatic({ root: 'dist', port: e2ePort + 10, prefix: SUBPATH });
  });
  test.afterAll(async () => server?.close());
  test.use({ baseURL: `http://127.0.0.1:${e2ePort + 10}${SUBPATH}` });

  test('quick start at /course/lab/, then again offline after a reload', async ({ page, context }) => {
    const lab = new LabPage(page);
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()}: ${r.url()}`);
    });

    await lab.goto(QUICK);
    // No headers: not isolated, and the page says why WASM has one thread.
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await expect(lab.id('run.threads')).toBeVisible({ timeout: ENGINE_START_MS });
    await expect(lab.id('run.threads')).toHaveAttribute('data-cause', 'not-isolated');
    await expect(lab.id('run.threads')).toContainText('not cross-origin isolated');
    await runQuickStart(lab, 2);
    // Every file came from under the sub-path (worker, WASM, model, icons), and none was missing.
    expect(server.requests.filter((p) => !p.startsWith(SUBPATH))).toEqual([]);
    for (const file of ['assets/engine.worker-', '.wasm', 'models/scenes_vit.safetensors', 'sw.js', 'manifest.webmanifest']) {
      expect(
        server.requests.some((p) => p.includes(file)),
        file,
      ).toBe(true);
    }
    expect(failed, failed.join('\n')).toEqual([]);

    // The offline copy is installed (Workbox precache) and the page is installable.
    await expect(lab.id('banner.offlineReady')).toBeVisible({ timeout: 60_000 });
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
    // Chromium's own installability check; Playwright's contexts are incognito, which is the one
    // thing that keeps an install prompt away here.
    expect(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);

    // Network off: the browser is offline and the server is gone. The engine's own copy of the
    // bundled model is dropped too, so the model has to come from the precache.
    await page.evaluate(async () => {
      for (const name of await caches.keys()) if (name.startsWith('vit-bundled-')) await caches.delete(name);
    });
    await context.setOffline(true);
    await server.close();
    await page.reload();
    await expect(lab.id('run.start')).toBeVisible();
    await page.waitForFunction(() => !!window.__lab && window.__lab.getState().restored);
    await page.screenshot({ path: 'test-results/hosting-offline-first-view.png', fullPage: true });
    // The service worker adds COOP/COEP, so the reloaded page is isolated (GitHub Pages' case),
    // and WASM runs one thread per core, offline too (the pthread workers' script is precached).
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(lab.id('run.threads')).toBeVisible({ timeout: ENGINE_START_MS });
    await expectThreadsPerCore(page, lab);
    expect(await workerIsolated(page)).toBe(true);
    await runQuickStart(lab, 4);
    await page.screenshot({ path: 'test-results/hosting-offline-finished.png', fullPage: true });
  });
});

test.describe('headers from the shipped _headers file', () => {
  let server: StaticServer;
  test.beforeAll(async () => {
    server = await serveStatic({ root: 'dist', port: e2ePort + 20, headersFile: 'dist/_headers' });
  });
  test.afterAll(async () => server?.close());
  test.use({ baseURL: `http://127.0.0.1:${e2ePort + 20}/`, serviceWorkers: 'block' });

  test('the page is cross-origin isolated from the first load', async ({ page }) => {
    const lab = new LabPage(page);
    await lab.goto(QUICK);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(lab.id('run.threads')).toBeVisible({ timeout: ENGINE_START_MS });
    await expectThreadsPerCore(page, lab);
    // The engine worker is isolated too (its script came with the same headers): threads need it there.
    expect(await workerIsolated(page)).toBe(true);
  });
});

test.describe('a new release while a run is going', () => {
  let server: StaticServer;
  let next: string;
  test.beforeAll(async () => {
    // The same source built as another release: only the build id differs, so the page's entry
    // chunk and index.html change, as in any release.
    next = mkdtempSync(path.join(tmpdir(), 'lab-next-'));
    execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--outDir', next, '--emptyOutDir', '--logLevel', 'error'], {
      env: { ...process.env, LAB_BUILD_ID: 'next-release' },
      stdio: ['ignore', 'pipe', 'pipe'], // its output only matters when it fails (in the error)
    });
    server = await serveStatic({ root: 'dist', port: e2ePort + 30, prefix: SUBPATH });
  });
  test.afterAll(async () => {
    await server?.close();
    if (next) rmSync(next, { recursive: true, force: true });
  });
  test.use({ baseURL: `http://127.0.0.1:${e2ePort + 30}${SUBPATH}` });

  test('the update waits for the run, then a reload brings it', async ({ page }) => {
    const lab = new LabPage(page);
    // Long enough that the pause lands mid-run even with WASM on every core (4 epochs of 32 images ended first).
    await lab.goto({ ...QUICK, methods: 'vpt_deep', trainSize: 64, epochs: 30 });
    const oldBuild = await lab.id('app.build').textContent();
    expect(oldBuild).not.toBe('next-release');
    await expect(lab.id('banner.offlineReady')).toBeVisible({ timeout: 60_000 });
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

    // A run is going (paused, so it cannot finish before the checks) when the release lands.
    await lab.start();
    await page.waitForFunction(() => Object.values(window.__lab!.getState().runs).some((r) => !!r.step), null, { timeout: 120_000 });
    await lab.id('run.pause').click();
    await expect(lab.id('run.status')).toHaveAttribute('data-state', 'paused');
    server.setRoot(next);
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    await expect(lab.id('banner.update')).toBeVisible({ timeout: 60_000 });
    await expect(lab.id('banner.updateReload')).toBeDisabled();
    await expect(lab.id('banner.update')).toContainText('would stop them');
    await page.screenshot({ path: 'test-results/hosting-update-waiting.png' });
    // The new release waits; the old one still serves this page.
    expect(await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())!.waiting)).toBe(true);

    await lab.id('run.resume').click();
    await lab.waitDone(6 * 60_000);
    await expect(lab.errors()).toBeEmpty();
    // Never reloaded by itself: the same document all along.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    await expect(lab.id('banner.updateReload')).toBeEnabled();

    await Promise.all([page.waitForEvent('load'), lab.id('banner.updateReload').click()]);
    await expect(lab.id('app.build')).toHaveText('next-release');
    await page.waitForFunction(() => !!window.__lab && window.__lab.getState().restored);
    const runs = Object.values((await lab.state()).runs);
    expect(runs.map((r) => r.summary.status)).toEqual(['done']);
    await expect(lab.id('banner.update')).toHaveCount(0);
    // One precache, holding the new release's page and not the old one's entry chunk.
    const cached = await page.evaluate(async () => {
      const names = (await caches.keys()).filter((n) => n.startsWith('workbox-precache'));
      const urls = names.length === 1 ? (await (await caches.open(names[0]!)).keys()).map((r) => r.url) : [];
      return { names, urls };
    });
    expect(cached.names).toHaveLength(1);
    const entry = (html: string) => /assets\/index-[\w-]+\.js/.exec(html)![0];
    const oldEntry = entry(readFileSync('dist/index.html', 'utf8'));
    const newEntry = entry(readFileSync(path.join(next, 'index.html'), 'utf8'));
    expect(newEntry).not.toBe(oldEntry);
    expect(cached.urls.some((u) => u.includes(newEntry))).toBe(true);
    expect(cached.urls.some((u) => u.includes(oldEntry))).toBe(false);
  });
});

/**
 * The main path of a real user with the paper's backbone: pick ViT-B/16 from the hub, watch its
 * 346 MB download, run it, come back later and get it from the browser's cache, not the network.
 *
 * The checkpoint is generated here (google/vit-base-patch16-224-in21k's layout and shapes, 86 M
 * float32 parameters, seeded N(0, 0.02)) and served at the hub URL the lab uses through
 * Playwright's routing (a 302 to a local file host, as the hub redirects to its CDN: see
 * e2e/pages/hub.ts). Real Chromium, real Cache API, WASM; the run is the smallest real one:
 * linear probing, 8 training images, 1 epoch, 2 validation and 4 test images at 224 px.
 *
 * The browser runs with a profile on disk (a temporary one), as a user's does: Playwright's usual
 * contexts are off the record, and there Chromium refuses to store a 346 MB response ("Unexpected
 * internal error"; the lab then says it kept no copy, see src/weights/sources.ts).
 *
 * Memory: the page holds the file (346 MB) and the model's tensors in the WASM heap (346 MB),
 * briefly one more copy while the download is stored; Node streams the file from disk.
 */
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromiumPath } from '../playwright.config';
import { HUB_CACHE, HUB_CHECKPOINTS } from '../src/weights/sources';
import { LabPage } from './pages/LabPage';
import { FileHost, cacheEntry, downloadBarValues, recordDownloadBar, routeHub, writeVitB16Checkpoint, type GeneratedCheckpoint } from './pages/hub';

const HUB = HUB_CHECKPOINTS.find((h) => h.id === 'google/vit-base-patch16-224-in21k')!;
const CHOICE = `hub:${HUB.id}`;
const SETUP = { task: 'dsprites_location', methods: 'linear', trainSize: 8, epochs: 1, batch: 8, testSize: 4, gradcam: 0, seed: 5, backend: 'wasm' };

let ckpt: GeneratedCheckpoint;
let host: FileHost;
/** Browsers with a profile on disk that are still open, and their profile folders. */
const openProfiles = new Map<BrowserContext, string>();

test.beforeAll(async () => {
  const t0 = Date.now();
  ckpt = await writeVitB16Checkpoint();
  host = await FileHost.serve(ckpt.path, ckpt.bytes);
  console.log(`hub.spec: generated ViT-B/16 (${ckpt.parameters} parameters, ${ckpt.bytes} bytes) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test.afterAll(async () => {
  // Also what a timed-out test left open: its browser and its profile.
  for (const [context, profile] of openProfiles) {
    await context.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  }
  await host?.close();
  await ckpt?.remove();
});

/** Runs `body` in Chromium with a new profile on disk, closed and removed afterwards. */
async function withProfile(baseURL: string | undefined, args: string[] | undefined, body: (page: Page) => Promise<void>): Promise<void> {
  const profile = await mkdtemp(path.join(tmpdir(), 'vpt-hub-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath, args, baseURL });
  openProfiles.set(context, profile);
  try {
    await body(context.pages()[0] ?? (await context.newPage()));
  } finally {
    openProfiles.delete(context);
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

test('ViT-B/16 from the hub: byte progress, a run in the page, then the Cache API after a reload', { tag: '@hub' }, async ({ baseURL }, info) => {
  test.setTimeout(8 * 60_000);
  await withProfile(baseURL, info.project.use.launchOptions?.args, userPath);
});

test('a download that breaks off halfway is named, and nothing is cached', { tag: '@hub' }, async ({ baseURL }, info) => {
  test.setTimeout(3 * 60_000);
  await withProfile(baseURL, info.project.use.launchOptions?.args, async (page) => {
    const lab = new LabPage(page);
    const before = host.requests;
    const hub = await routeHub(page, HUB.url, host.url('broken'));
    await lab.goto(SETUP);
    await lab.id('setup.model').selectOption(CHOICE);
    await expect(lab.id('setup.modelSize')).toHaveAttribute('data-cached', 'false');
    await lab.start();
    const alert = lab.errors().locator('.banner.error');
    await expect(alert).toHaveCount(1, { timeout: 120_000 });
    await expect(alert).toHaveAttribute('data-code', 'checkpoint/download-incomplete');
    await expect(alert).toContainText(HUB.url);
    await expect(alert).toContainText(/after \d+(\.\d)? MB of 345\.6 MB/);
    console.log(`hub.spec: broken download -> ${await alert.getAttribute('data-code')}: ${await alert.textContent()}`);
    await lab.waitDone(60_000);
    expect(Object.values((await lab.state()).runs)[0]!.summary.status).toBe('failed');
    expect(hub.hits).toBe(1);
    expect(host.requests - before).toBe(1);
    expect(await cacheEntry(page, HUB.url, HUB_CACHE)).toMatchObject({ bytes: null });
    await lab.openSetup();
    await expect(lab.id('setup.modelSize')).toHaveAttribute('data-cached', 'false');
  });
});

/** Start, wait for the queue to finish without an error; every value the download bar took. */
async function runRecordingDownload(lab: LabPage): Promise<Awaited<ReturnType<typeof downloadBarValues>>> {
  await recordDownloadBar(lab.page);
  await lab.start();
  await lab.waitDone(5 * 60_000);
  await expect(lab.errors()).toBeEmpty();
  return downloadBarValues(lab.page);
}

async function userPath(page: Page): Promise<void> {
  expect(ckpt.parameters).toBe(86_389_248); // ViTModel with pooler, as the hub file
  expect(Math.abs(ckpt.bytes - HUB.approxBytes)).toBeLessThan(64 * 1024); // the size the page announces
  const lab = new LabPage(page);
  const hub = await routeHub(page, HUB.url, host.url());

  // ---- first visit: nothing cached, the download is announced, then shown byte by byte ----
  const t0 = Date.now();
  await lab.goto(SETUP);
  await lab.id('setup.model').selectOption(CHOICE);
  await expect(lab.id('setup.modelSize')).toHaveAttribute('data-cached', 'false');
  await expect(lab.id('setup.modelSize')).toContainText(/Downloads about 345\.\d MB/);
  expect(await cacheEntry(page, HUB.url, HUB_CACHE)).toMatchObject({ bytes: null });
  const first = await runRecordingDownload(lab);
  const firstSeconds = (Date.now() - t0) / 1000;

  // Several distinct values that only rise, each against the file's length, ending at it.
  const network = first.filter((e) => !e.label.includes('cache'));
  const values = [...new Set(network.map((e) => e.value))];
  expect(values.length).toBeGreaterThanOrEqual(4);
  expect(values.every((v, i) => i === 0 || v > values[i - 1]!)).toBe(true);
  expect(network.every((e) => e.max === ckpt.bytes)).toBe(true);
  expect(values.at(-1)).toBe(ckpt.bytes);
  expect(network.some((e) => e.text.includes('from network'))).toBe(true);
  expect(first.some((e) => e.label.includes('cache'))).toBe(false);
  expect(hub.hits).toBe(1);
  expect(host.requests).toBe(1);

  // One evaluation of ViT-B/16 in the page: 4 test images went through the forward pass, and
  // the training loss and accuracies it gave are finite numbers in range.
  const run = Object.values((await lab.state()).runs).find((r) => r.summary.config.method === 'linear')!;
  const { summary } = run;
  expect(summary.status).toBe('done');
  expect(summary.backend).toBe('wasm');
  expect(summary.totalParams).toBeGreaterThan(85_000_000);
  expect(summary.test!.numTest).toBe(4);
  expect(summary.test!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(4);
  expect(summary.test!.testAcc).toBeGreaterThanOrEqual(0);
  expect(summary.test!.testAcc).toBeLessThanOrEqual(100);
  expect(summary.epochs).toHaveLength(1);
  expect(Number.isFinite(summary.epochs[0]!.trainLoss)).toBe(true);
  expect(summary.epochs[0]!.trainLoss).toBeGreaterThan(0);
  const acc = Number(await lab.id('results.row.linear').getAttribute('data-acc'));
  expect(acc).toBeCloseTo(summary.test!.testAcc, 6);

  // The Cache API holds the whole file under the hub URL, and the setup says so.
  expect(await cacheEntry(page, HUB.url, HUB_CACHE)).toMatchObject({ bytes: ckpt.bytes });
  await expect(lab.id('setup.modelSize')).toHaveAttribute('data-cached', 'true');

  // ---- a later visit: the same model comes from the cache, without a request ----
  const t1 = Date.now();
  await page.reload();
  await expect(lab.id('run.start')).toBeVisible();
  await page.waitForFunction(() => !!window.__lab && window.__lab.getState().restored);
  await lab.id('setup.model').selectOption(CHOICE);
  await expect(lab.id('setup.modelSize')).toHaveAttribute('data-cached', 'true');
  await expect(lab.id('setup.modelSize')).toContainText('cache');
  const second = await runRecordingDownload(lab);
  const secondSeconds = (Date.now() - t1) / 1000;
  expect(hub.hits).toBe(1);
  expect(host.requests).toBe(1);
  expect(second.length).toBeGreaterThan(0);
  expect(second.every((e) => e.label === 'Weights (cache)')).toBe(true);
  expect(second.at(-1)).toMatchObject({ value: ckpt.bytes, max: ckpt.bytes });
  expect(second.at(-1)!.text).toContain('from cache');
  const runs = Object.values((await lab.state()).runs).filter((r) => r.summary.config.method === 'linear' && r.summary.status === 'done');
  expect(runs).toHaveLength(2);
  // The same weights, data and seed: the same test predictions as the downloaded copy gave.
  expect(runs.map((r) => r.summary.test!.confusion)).toEqual([summary.test!.confusion, summary.test!.confusion]);

  // ---- the user frees the space: the copy is gone, the next Start would download again ----
  await lab.openSetup(); // Start folded the setup into its summary line
  await lab.id('setup.modelCacheRemove').click({ timeout: 30_000 });
  await expect(lab.id('setup.modelSize')).toHaveAttribute('data-cached', 'false');
  expect(await cacheEntry(page, HUB.url, HUB_CACHE)).toMatchObject({ bytes: null });

  console.log(
    `hub.spec: ${ckpt.bytes} bytes; first visit (download + run) ${firstSeconds.toFixed(1)} s, ${values.length} distinct progress values; ` +
      `after reload (cache + run) ${secondSeconds.toFixed(1)} s, ${second.length} progress values; hub URL requests ${hub.hits}, file host requests ${host.requests}; ` +
      `test accuracy ${summary.test!.testAcc.toFixed(1)} % on ${summary.test!.numTest} images`,
  );
}

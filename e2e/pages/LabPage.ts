/**
 * Page object of the lab: the dotted test ids in one place, and the typed test API
 * (`window.__lab`) for state the page does not print.
 */
import { expect, type Download, type Locator, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import type { ExportFile } from '../../src/store/export';
import type { PlainLabState } from '../../src/ui/testApi';

/** The golden fixtures, in the repo (test/fixtures/README.md says where each file came from). */
export const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;
export const FIXTURE_MODEL = `${FIXTURES}timm_tiny_model.safetensors`;

export class LabPage {
  /** The page's and its workers' console, kept for a failure message (see waitDone). */
  readonly logs: string[] = [];

  constructor(readonly page: Page) {
    page.on('console', (m) => this.logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${e.message}`));
    page.on('worker', (w) => w.on('console', (m) => this.logs.push(`[worker] ${m.text()}`)));
  }

  id(testId: string): Locator {
    return this.page.getByTestId(testId);
  }

  /** Opens the lab with a setup in the URL hash (and ?dev=1 so tiny train sizes are allowed). */
  async goto(hash: Record<string, string | number>, dev = true): Promise<void> {
    const params = new URLSearchParams(Object.entries(hash).map(([k, v]) => [k, String(v)]));
    // Relative to the base URL, so the same page object drives the lab at a sub-path.
    await this.page.goto(`./${dev ? '?dev=1' : ''}#${params.toString()}`);
    await expect(this.id('run.start')).toBeVisible();
    await this.page.waitForFunction(() => !!window.__lab && window.__lab.getState().restored);
  }

  async state(): Promise<PlainLabState> {
    return this.page.evaluate(() => window.__lab!.getState());
  }

  async uploadModel(path: string): Promise<void> {
    await this.id('setup.modelFile').setInputFiles(path);
    await expect(this.id('setup.model')).toHaveValue('file');
  }

  async start(): Promise<void> {
    await this.id('run.start').click();
  }

  /** Waits until the queue reports it finished ("… — done"); on a timeout, prints the last logs. */
  async waitDone(timeout: number): Promise<void> {
    try {
      await expect(this.id('run.status')).toHaveText(/done$/, { timeout });
    } catch (e) {
      console.log(this.logs.slice(-40).join('\n'));
      throw e;
    }
  }

  /** Points per series of a chart, as the chart reports them in data-points. */
  async chartPoints(testId: 'chart.loss' | 'chart.accuracy'): Promise<Record<string, number>> {
    return JSON.parse((await this.id(testId).getAttribute('data-points')) ?? '{}') as Record<string, number>;
  }

  /** Test accuracy per method from the results table. */
  async tableAccuracies(): Promise<Record<string, number>> {
    const rows = this.page.locator('[data-testid^="results.row."]');
    const out: Record<string, number> = {};
    for (const row of await rows.all()) {
      const method = (await row.getAttribute('data-testid'))!.replace('results.row.', '');
      out[method] = Number(await row.getAttribute('data-acc'));
    }
    return out;
  }

  /** Standard deviation of the RGB values of every Grad-CAM overlay, per method. */
  async overlayContrast(): Promise<Record<string, number[]>> {
    return this.page.evaluate(() => {
      const out: Record<string, number[]> = {};
      for (const c of document.querySelectorAll<HTMLCanvasElement>('[data-testid="gradcam.overlay"]')) {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let sum = 0, sq = 0, n = 0;
        for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) {
          sum += d[i + k]!;
          sq += d[i + k]! * d[i + k]!;
          n++;
        }
        const mean = sum / Math.max(1, n);
        (out[c.dataset.method!] ??= []).push(Math.sqrt(Math.max(0, sq / Math.max(1, n) - mean * mean)));
      }
      return out;
    });
  }

  async exportJson(): Promise<ExportFile> {
    const [download]: [Download, void] = await Promise.all([this.page.waitForEvent('download'), this.id('export.json').click()]);
    const path = await download.path();
    return JSON.parse(await readFile(path!, 'utf8')) as ExportFile;
  }

  /** Clicks a download button and returns the downloaded file's name and bytes. */
  async download(button: Locator): Promise<{ name: string; bytes: Buffer }> {
    const [download]: [Download, void] = await Promise.all([this.page.waitForEvent('download'), button.click()]);
    const path = await download.path();
    return { name: download.suggestedFilename(), bytes: await readFile(path!) };
  }

  /** The "Export trained parameters" button of a method's run in the saved-runs list. */
  exportParamsButton(method: string): Locator {
    return this.page.locator(`[data-testid="runs.row"][data-method="${method}"]`).getByTestId('runs.exportParams');
  }

  /** Fréchet distances the "When does VPT win?" chart has placed, by task id. */
  async measuredDistances(): Promise<Record<string, number>> {
    return JSON.parse((await this.id('chart.vptWins').getAttribute('data-measured')) ?? '{}') as Record<string, number>;
  }

  errors(): Locator {
    return this.id('run.error');
  }

  /** FT and VPT-deep both finished `epochs` epochs: a curve point per epoch, table accuracies in [0, 100]. Returns the table. */
  async expectFtAndVptResults(epochs: number): Promise<Record<string, number>> {
    const points = { 'Full fine-tuning': epochs, 'VPT-deep': epochs };
    expect(await this.chartPoints('chart.loss')).toEqual(points);
    expect(await this.chartPoints('chart.accuracy')).toEqual(points);
    await expect(this.id('chart.loss').locator('.recharts-line')).toHaveCount(2);
    const table = await this.tableAccuracies();
    expect(Object.keys(table).sort()).toEqual(['ft', 'vpt_deep']);
    for (const acc of Object.values(table)) {
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(100);
    }
    return table;
  }
}

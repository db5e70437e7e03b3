/**
 * Page object of the lab: the dotted test ids in one place, and the typed test API
 * (`window.__lab`) for state the page does not print.
 */
import { expect, type Download, type Locator, type Page } from '@playwright/test';
import { readFile, writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
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

  /**
   * Opens the lab with a setup in the URL hash (and ?dev=1 so tiny train sizes are allowed), with
   * the full setup open as a user who clicked "Full setup…" sees it (the first screen folds it).
   */
  async goto(hash: Record<string, string | number>, dev = true): Promise<void> {
    const params = new URLSearchParams(Object.entries(hash).map(([k, v]) => [k, String(v)]));
    // Relative to the base URL, so the same page object drives the lab at a sub-path.
    await this.page.goto(`./${dev ? '?dev=1' : ''}#${params.toString()}`);
    await expect(this.id('run.start')).toBeVisible();
    await this.page.waitForFunction(() => !!window.__lab && window.__lab.getState().restored);
    await this.openSetup();
  }

  /** Opens the lab as a first visit does: no setup in the URL, the first screen. */
  async gotoFresh(): Promise<void> {
    await this.page.goto('./');
    await expect(this.id('run.start')).toBeVisible();
    await this.page.waitForFunction(() => !!window.__lab && window.__lab.getState().restored);
  }

  /**
   * Records, from the page's first moment, the layout shifts not caused by input (their sum is the
   * cumulative layout shift) and every main-thread long task (over 50 ms): call before goto.
   */
  async observePerformance(): Promise<void> {
    await this.page.addInitScript(() => {
      const perf = { cls: 0, shifts: [] as { value: number; at: number }[], longTasks: [] as { start: number; duration: number }[] };
      (window as unknown as { __perf: typeof perf }).__perf = perf;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) {
          if (e.hadRecentInput) continue;
          perf.cls += e.value;
          perf.shifts.push({ value: e.value, at: e.startTime });
        }
      }).observe({ type: 'layout-shift', buffered: true });
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) perf.longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
  }

  /** What observePerformance recorded so far, and the page's clock now. */
  async performance(): Promise<{ cls: number; shifts: { value: number; at: number }[]; longTasks: { start: number; duration: number }[]; now: number }> {
    return this.page.evaluate(() => ({ ...(window as unknown as { __perf: { cls: number; shifts: []; longTasks: [] } }).__perf, now: performance.now() }));
  }

  /** axe-core over the page as it is: the serious and critical violations, one line each. */
  async accessibilityProblems(): Promise<string[]> {
    const { default: AxeBuilder } = await import('@axe-core/playwright');
    const result = await new AxeBuilder({ page: this.page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.impact} ${v.id}: ${v.help} — ${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 5)
            .join(' | ')}`,
      );
  }

  /** The rendered font size (px) of every element matching `selector` inside a test id. */
  async fontSizes(testId: string, selector: string): Promise<number[]> {
    return this.id(testId)
      .locator(selector)
      .evaluateAll((els) => els.map((e) => parseFloat(getComputedStyle(e).fontSize)));
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

  /**
   * Waits until the queue reports it finished (state `done`, text "… — done"; a run of the queue
   * that is done while the next one starts does not count); on a timeout, prints the last logs.
   */
  async waitDone(timeout: number): Promise<void> {
    try {
      await expect(this.id('run.status')).toHaveAttribute('data-state', 'done', { timeout });
      await expect(this.id('run.status')).toHaveText(/done$/);
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
        let sum = 0,
          sq = 0,
          n = 0;
        for (let i = 0; i < d.length; i += 4)
          for (let k = 0; k < 3; k++) {
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

  /** Opens the setup form where Start folded it into its one-line summary (the run view). */
  async openSetup(): Promise<void> {
    if (await this.id('setup.edit').isVisible()) await this.id('setup.edit').click();
    await expect(this.id('setup.trainSize')).toBeVisible();
  }

  /** Clicks a chart's PNG button and reads the image: its size and how many distinct colours it has. */
  async exportPng(chart: string): Promise<{ name: string; width: number; height: number; colours: number; inkShare: number }> {
    const { name, bytes } = await this.download(this.id(`${chart}.png`));
    await writeFile(`test-results/export-${name}`, bytes); // to look at
    const png = PNG.sync.read(bytes);
    const colours = new Set<number>();
    let ink = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (r + g + b < 600) ink++;
    }
    return { name, width: png.width, height: png.height, colours: colours.size, inkShare: ink / (png.width * png.height) };
  }

  /**
   * The contrast ratio (WCAG 2) of every piece of legend and axis text in a chart, computed from
   * the styles: the text's colour (CSS colour, or an SVG text's fill) against the first opaque
   * background colour among its ancestors.
   */
  async chartTextContrast(chart: string): Promise<{ text: string; ratio: number }[]> {
    return this.id(chart).evaluate((root) => {
      const rgb = (c: string): [number, number, number, number] | null => {
        const m = c.match(/rgba?\(([^)]+)\)/);
        if (!m) return null;
        const p = m[1]!
          .split(/[ ,/]+/)
          .filter(Boolean)
          .map(Number);
        return [p[0]!, p[1]!, p[2]!, p[3] ?? 1];
      };
      const lum = ([r, g, b]: number[]) => {
        const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
      };
      const background = (el: Element): [number, number, number, number] => {
        for (let e: Element | null = el; e; e = e.parentElement) {
          const c = rgb(getComputedStyle(e).backgroundColor);
          if (c && c[3] > 0.99) return c;
        }
        return [255, 255, 255, 1];
      };
      const texts = [...root.querySelectorAll('.legend-text, .recharts-cartesian-axis-tick-value, .recharts-label, .point-label-text')];
      return texts
        .filter((t) => (t.textContent ?? '').trim())
        .map((t) => {
          const style = getComputedStyle(t);
          const colour = rgb(t instanceof SVGElement ? style.fill : style.color) ?? [0, 0, 0, 1];
          const [l1, l2] = [lum(colour), lum(background(t))].sort((a, b) => b - a);
          return { text: t.textContent!.trim(), ratio: (l1! + 0.05) / (l2! + 0.05) };
        });
    });
  }

  /** The boxes (px, as drawn) of a chart's point labels (`.point-label[data-label]`: the task id). */
  async labelBoxes(chart: string): Promise<{ id: string; x: number; y: number; width: number; height: number }[]> {
    return this.id(chart)
      .locator('.point-label')
      .evaluateAll((els) =>
        els.map((e) => {
          const r = e.querySelector('text')!.getBoundingClientRect();
          return { id: e.getAttribute('data-label')!, x: r.x, y: r.y, width: r.width, height: r.height };
        }),
      );
  }

  /** Whether an element lies wholly inside the viewport (no scrolling needed to see it). */
  async inViewport(testId: string): Promise<boolean> {
    const box = await this.id(testId).boundingBox();
    const vp = this.page.viewportSize()!;
    return !!box && box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width && box.y + box.height <= vp.height;
  }

  /**
   * The time estimate beside Start (`run.estimate`): seconds (NaN when unknown), where the speed
   * comes from ('probe' = one real step measured on this device, 'runs', 'guess', 'none'), runs, text.
   */
  async startEstimate(): Promise<{ seconds: number; basis: string; runs: number; text: string }> {
    const el = this.id('run.estimate');
    return {
      seconds: Number((await el.getAttribute('data-seconds')) || NaN),
      basis: (await el.getAttribute('data-basis')) ?? '',
      runs: Number(await el.getAttribute('data-runs')),
      text: (await el.innerText()).trim(),
    };
  }

  /**
   * The time left of the queue while it runs (`run.eta`): seconds for the whole queue, seconds of
   * the active run's training steps alone (NaN before its first step), runs still to finish.
   */
  async queueEta(): Promise<{ seconds: number; activeTrainSeconds: number; runs: number; basis: string }> {
    return this.id('run.eta').evaluate((el: HTMLElement) => ({
      seconds: Number(el.dataset.seconds || NaN),
      activeTrainSeconds: Number(el.dataset.activeTrainSeconds || NaN),
      runs: Number(el.dataset.runs),
      basis: el.dataset.basis ?? '',
    }));
  }

  errors(): Locator {
    return this.id('run.error');
  }

  /** FT and VPT-deep both finished `epochs` epochs: a curve point per epoch, table accuracies in [0, 100]. Returns the table. */
  async expectFtAndVptResults(epochs: number): Promise<Record<string, number>> {
    const points = { 'Full fine-tuning': epochs, 'VPT-deep': epochs };
    // Charts draw at most once a second: wait for the last epoch to land.
    await expect.poll(() => this.chartPoints('chart.loss')).toEqual(points);
    await expect.poll(() => this.chartPoints('chart.accuracy')).toEqual(points);
    // The loss chart draws each run twice (every step, and the epoch means); accuracy once.
    await expect(this.id('chart.loss').locator('.recharts-line')).toHaveCount(4);
    await expect(this.id('chart.accuracy').locator('.recharts-line')).toHaveCount(2);
    const table = await this.tableAccuracies();
    expect(Object.keys(table).sort()).toEqual(['ft', 'vpt_deep']);
    for (const acc of Object.values(table)) {
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(100);
    }
    return table;
  }
}

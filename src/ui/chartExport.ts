/**
 * Charts as PNG figures: the chart's own SVG (the plot, not the first icon in the card), with the
 * chart's title above it and its legend drawn as SVG, rasterised at 2x on a white background. The
 * legend is the page's own (ChartFrame), so the figure says what the page says.
 */
import { downloadBlob } from './download';
import { legendSwatchSvg, type LegendItem } from './legend';

/** Pixel ratio of the PNG: crisp on slides and in papers. */
const SCALE = 2;
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const TITLE_PX = 16;
const LEGEND_PX = 13;
const PAD = 12;

/** The plot's SVG inside a chart body: recharts' surface is the largest svg (legend icons are 14 px). */
export function plotSurface(body: HTMLElement | null): SVGSVGElement | null {
  if (!body) return null;
  const svgs = [...body.querySelectorAll<SVGSVGElement>('svg.recharts-surface')];
  let best: SVGSVGElement | null = null;
  let bestArea = 0;
  for (const svg of svgs) {
    const r = svg.getBoundingClientRect();
    if (r.width * r.height > bestArea) [best, bestArea] = [svg, r.width * r.height];
  }
  return bestArea > 0 ? best : null;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Text width in px at a font size, measured with the browser's canvas (the SVG renders the same font). */
function measure(text: string, px: number, weight = 400): number {
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return text.length * px * 0.6;
  ctx.font = `${weight} ${px}px ${FONT}`;
  return ctx.measureText(text).width;
}

/**
 * One standalone SVG document: title, legend rows (wrapped to the plot's width), then the plot.
 * Returns the markup and its size in CSS px.
 */
export function composeFigure(opts: { title: string; legend: LegendItem[]; plot: SVGSVGElement }): { svg: string; width: number; height: number } {
  const { width: pw, height: ph } = opts.plot.getBoundingClientRect();
  const width = Math.ceil(Math.max(pw, 320));
  const parts: string[] = [];
  let y = PAD + TITLE_PX;
  parts.push(`<text x="${PAD}" y="${y}" font-size="${TITLE_PX}" font-weight="700" fill="#111">${escapeXml(opts.title)}</text>`);
  y += 10;
  // Legend: swatch (24 px) + gap + text, entries 16 px apart, wrapped to the figure's width.
  let x = PAD;
  const rowHeight = LEGEND_PX + 8;
  if (opts.legend.length) y += rowHeight;
  for (const item of opts.legend) {
    const w = 28 + measure(item.label, LEGEND_PX) + 16;
    if (x > PAD && x + w > width - PAD) {
      x = PAD;
      y += rowHeight;
    }
    parts.push(`<g transform="translate(${x},${y - LEGEND_PX + 1})">${legendSwatchSvg(item)}</g>`);
    parts.push(`<text x="${x + 28}" y="${y}" font-size="${LEGEND_PX}" fill="#111">${escapeXml(item.label)}</text>`);
    x += w;
  }
  y += 8;
  const clone = opts.plot.cloneNode(true) as SVGSVGElement;
  clone.removeAttribute('style');
  clone.removeAttribute('class');
  clone.setAttribute('x', String(Math.round((width - pw) / 2)));
  clone.setAttribute('y', String(y));
  clone.setAttribute('width', String(pw));
  clone.setAttribute('height', String(ph));
  const inner = new XMLSerializer().serializeToString(clone);
  const height = Math.ceil(y + ph + PAD);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT)}">` +
    `<rect width="100%" height="100%" fill="#fff"/>${parts.join('')}${inner}</svg>`;
  return { svg, width, height };
}

/** Draws an SVG document on a canvas at SCALE and returns the PNG. */
async function rasterise(svg: string, width: number, height: number): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('The chart could not be rendered as an image.'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * SCALE);
    canvas.height = Math.ceil(height * SCALE);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('The browser could not make a canvas for the PNG.');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
    if (!blob) throw new Error('The browser could not encode the PNG.');
    return blob;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Downloads the chart in `body` as a PNG figure with its title and legend. */
export async function exportChartPng(opts: { body: HTMLElement | null; title: string; legend: LegendItem[]; filename: string }): Promise<void> {
  const plot = plotSurface(opts.body);
  if (!plot) throw new Error('The chart has nothing to export yet.');
  const { svg, width, height } = composeFigure({ title: opts.title, legend: opts.legend, plot });
  downloadBlob(await rasterise(svg, width, height), opts.filename);
}

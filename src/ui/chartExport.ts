/** Charts as PNG: the recharts SVG is serialised, drawn on a canvas at 2x, and downloaded. */
import { downloadBlob } from './download';

export async function exportSvgAsPng(container: HTMLElement | null, filename: string): Promise<void> {
  const svg = container?.querySelector('svg.recharts-surface') as SVGSVGElement | null;
  if (!svg) throw new Error('The chart has nothing to export yet.');
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  // Text inherits the page font and colour; inline them so the image matches the page.
  const style = getComputedStyle(svg);
  clone.setAttribute('style', `font-family:${style.fontFamily};font-size:${style.fontSize};background:#fff`);
  const text = new XMLSerializer().serializeToString(clone);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('The chart could not be rendered as an image.'));
      img.src = url;
    });
    const scale = 2;
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil(height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
    if (!blob) throw new Error('The browser could not encode the PNG.');
    downloadBlob(blob, filename);
  } finally {
    URL.revokeObjectURL(url);
  }
}

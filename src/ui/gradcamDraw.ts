/**
 * Draws a Grad-CAM sample: the RGBA image, with the patch-grid map upsampled bilinearly to the
 * image size and blended as a viridis heat map.
 */
import type { GradCamSample } from '../domain/run';

/** Viridis at 9 stops; linear in between. */
export const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!,
    b = VIRIDIS[i + 1]!;
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** Bilinear sample of a grid × grid map at pixel centre (x, y) of a side × side image. */
function sampleCam(cam: Float32Array, grid: number, side: number, x: number, y: number): number {
  // Cell centres sit at (i + 0.5) * side / grid.
  const gx = Math.min(grid - 1, Math.max(0, ((x + 0.5) * grid) / side - 0.5));
  const gy = Math.min(grid - 1, Math.max(0, ((y + 0.5) * grid) / side - 0.5));
  const x0 = Math.floor(gx),
    y0 = Math.floor(gy);
  const x1 = Math.min(grid - 1, x0 + 1),
    y1 = Math.min(grid - 1, y0 + 1);
  const fx = gx - x0,
    fy = gy - y0;
  const v = (r: number, c: number) => cam[r * grid + c] ?? 0;
  return (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) + fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
}

/** RGBA pixels of the image with the map overlaid (alpha = overlay opacity, 0 = image only). */
export function overlayPixels(sample: GradCamSample, alpha: number): Uint8ClampedArray<ArrayBuffer> {
  const { side, image, cam, grid } = sample;
  const out = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const p = (y * side + x) * 4;
      const [r, g, b] = alpha > 0 ? viridis(sampleCam(cam, grid, side, x, y)) : [0, 0, 0];
      out[p] = (1 - alpha) * image[p]! + alpha * r;
      out[p + 1] = (1 - alpha) * image[p + 1]! + alpha * g;
      out[p + 2] = (1 - alpha) * image[p + 2]! + alpha * b;
      out[p + 3] = 255;
    }
  }
  return out;
}

export function drawSample(canvas: HTMLCanvasElement, sample: GradCamSample, alpha: number): void {
  // Resizing a canvas reallocates it: only when the size changes.
  if (canvas.width !== sample.side) canvas.width = sample.side;
  if (canvas.height !== sample.side) canvas.height = sample.side;
  // A CPU canvas: a few thousand pixels put once are cheaper there than on a (software) GPU.
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return;
  ctx.putImageData(new ImageData(overlayPixels(sample, alpha), sample.side, sample.side), 0, 0);
}

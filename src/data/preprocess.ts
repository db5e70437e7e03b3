/**
 * Pixels -> model input: bilinear resize to the model resolution, RGB to float in [0, 1],
 * per-channel (x - mean) / std, laid out NCHW ([3, S, S] per image).
 *
 * Resizing convention: bilinear with half-pixel centres and edge clamping, WITHOUT antialiasing:
 * source coordinate = (dst + 0.5) * (in / out) - 0.5, clamped to [0, in - 1]. This is exactly
 * torch.nn.functional.interpolate(mode='bilinear', align_corners=False, antialias=False) and
 * tf.image.resize(method='bilinear', antialias=False) (half_pixel_centers). PIL's BILINEAR and
 * torchvision's PIL path antialias when shrinking (the filter widens with the scale factor), so on
 * large downscales ours is sharper than theirs; on upscales (32 -> 224, 64 -> 224) they agree.
 * Alpha is dropped, as PIL's convert('RGB') does.
 */
import type { RgbaImage } from './types';

export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
}

/** (x - 0.5) / 0.5: the timm/Google ViT-B/16 ImageNet-21k checkpoints. The default. */
export const NORM_HALF: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
/** ImageNet statistics, which the reference VPT code applies. */
export const NORM_IMAGENET: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** Per output index along one axis: the two source indices and the weight of the second. */
function axisTable(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    let src = (o + 0.5) * scale - 0.5;
    if (src < 0) src = 0;
    if (src > inSize - 1) src = inSize - 1;
    const a = Math.floor(src);
    i0[o] = a;
    i1[o] = Math.min(a + 1, inSize - 1);
    w[o] = src - a;
  }
  return { i0, i1, w };
}

/**
 * Resize `img` to size x size and normalise into `out` at `offset` (NCHW: [3, size, size]).
 * Returns `out` (a new Float32Array of 3 * size * size when not given).
 */
export function preprocessImage(
  img: RgbaImage,
  size: number,
  norm: Normalization = NORM_HALF,
  out: Float32Array = new Float32Array(3 * size * size),
  offset = 0,
): Float32Array {
  const { width: W, height: H, data } = img;
  const xs = axisTable(W, size);
  const ys = axisTable(H, size);
  const plane = size * size;
  const scale = [0, 1, 2].map((c) => 1 / (255 * norm.std[c]!));
  const shift = [0, 1, 2].map((c) => norm.mean[c]! / norm.std[c]!);
  for (let y = 0; y < size; y++) {
    const r0 = ys.i0[y]! * W * 4;
    const r1 = ys.i1[y]! * W * 4;
    const wy = ys.w[y]!;
    for (let x = 0; x < size; x++) {
      const c0 = xs.i0[x]! * 4;
      const c1 = xs.i1[x]! * 4;
      const wx = xs.w[x]!;
      const o = offset + y * size + x;
      for (let c = 0; c < 3; c++) {
        const top = data[r0 + c0 + c]! * (1 - wx) + data[r0 + c1 + c]! * wx;
        const bot = data[r1 + c0 + c]! * (1 - wx) + data[r1 + c1 + c]! * wx;
        out[o + c * plane] = (top * (1 - wy) + bot * wy) * scale[c]! - shift[c]!;
      }
    }
  }
  return out;
}

/** Bilinear resize to RGBA (same convention), for thumbnails and display. */
export function resizeRgba(img: RgbaImage, width: number, height: number): RgbaImage {
  const xs = axisTable(img.width, width);
  const ys = axisTable(img.height, height);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const r0 = ys.i0[y]! * img.width * 4;
    const r1 = ys.i1[y]! * img.width * 4;
    const wy = ys.w[y]!;
    for (let x = 0; x < width; x++) {
      const c0 = xs.i0[x]! * 4;
      const c1 = xs.i1[x]! * 4;
      const wx = xs.w[x]!;
      for (let c = 0; c < 4; c++) {
        const top = img.data[r0 + c0 + c]! * (1 - wx) + img.data[r0 + c1 + c]! * wx;
        const bot = img.data[r1 + c0 + c]! * (1 - wx) + img.data[r1 + c1 + c]! * wx;
        out[(y * width + x) * 4 + c] = top * (1 - wy) + bot * wy;
      }
    }
  }
  return { width, height, data: out };
}

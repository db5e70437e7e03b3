/**
 * Node image decoding: JPEG with jpeg-js, PNG with pngjs, chosen by magic bytes. Greyscale,
 * palette and 16-bit PNGs come out as 8-bit RGBA; CMYK JPEGs are converted by jpeg-js.
 */
import jpeg from 'jpeg-js';
import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { clip } from '../domain/errors';
import { badImage, detectImageFormat, jpegLooksComplete, notAnImage } from './decode';
import { checkImageSize } from './imageHeader';
import { MAX_IMAGE_PIXELS } from './limits';
import type { ImageDecoder, RgbaImage } from './types';

/**
 * Decodes after the header's size is checked (checkImageSize), with jpeg-js' own limits as a
 * second guard: MAX_IMAGE_PIXELS, and RGBA output plus working buffers of at most 1 GB.
 */
export function decodeImageSync(bytes: Uint8Array, name: string): RgbaImage {
  const format = detectImageFormat(bytes);
  if (format === null) throw notAnImage(name, bytes);
  const size = checkImageSize(bytes, name);
  if (format === 'jpeg') {
    if (!jpegLooksComplete(bytes)) throw badImage(name, `the JPEG is truncated (no end-of-image marker; ${bytes.length} bytes)`);
    try {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: img.data };
    } catch (e) {
      throw badImage(name, `the JPEG is damaged (${clip((e as Error).message, 120)})`);
    }
  }
  checkPngInflate(bytes, name, size);
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (png.width !== size.width || png.height !== size.height) throw new Error(`decoded ${png.width} × ${png.height}, header ${size.width} × ${size.height}`);
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  } catch (e) {
    throw badImage(name, `the PNG is damaged or truncated (${clip((e as Error).message, 120)})`);
  }
}

/** Channels of each PNG colour type (greyscale, RGB, palette, grey + alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7: each pass's start and step, in x and y. */
const ADAM7 = [
  [0, 8, 0, 8],
  [4, 8, 0, 8],
  [0, 4, 4, 8],
  [2, 4, 0, 4],
  [0, 2, 2, 4],
  [1, 2, 0, 2],
  [0, 1, 1, 2],
] as const;

/**
 * The filtered image data a PNG's header allows: one filter byte per row plus the row's bytes,
 * per Adam7 pass when interlaced.
 */
function pngDataBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8)));
  if (!interlaced) return rows(width, height);
  let total = 0;
  for (const [x0, dx, y0, dy] of ADAM7) total += rows(Math.ceil(Math.max(0, width - x0) / dx), Math.ceil(Math.max(0, height - y0) / dy));
  return total;
}

/**
 * pngjs bounds the inflate of a plain PNG by the size its header declares, but inflates an
 * interlaced one without a bound: a 1 × 1 image whose IDAT inflates to 1.5 GB would take that
 * much memory before it is refused. Its IDAT data is inflated here first, with zlib stopping at
 * the size the header allows (a few bytes for 1 × 1), so a bomb is refused at once.
 */
function checkPngInflate(bytes: Uint8Array, name: string, size: { width: number; height: number }): void {
  if (bytes.length < 29 || bytes[28] !== 1) return; // not interlaced: pngjs bounds it
  const bits = (PNG_CHANNELS[bytes[25]!] ?? 4) * Math.max(1, bytes[24]!);
  const allowed = pngDataBytes(size.width, size.height, bits, true);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  for (let p = 8; p + 8 <= bytes.length;) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!, bytes[p + 6]!, bytes[p + 7]!);
    if (type === 'IDAT') parts.push(bytes.subarray(p + 8, Math.min(bytes.length, p + 8 + len)));
    if (type === 'IEND') break;
    p += 12 + len;
  }
  const idat = Buffer.concat(parts);
  try {
    inflateSync(idat, { maxOutputLength: Math.max(1, allowed) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw badImage(
        name,
        `its compressed data inflates to more than the ${allowed.toLocaleString('en')} bytes its ${size.width} × ${size.height} header allows (damaged or hostile)`,
      );
    // Other inflate errors: pngjs names them below.
  }
}

export const nodeDecoder: ImageDecoder = async (bytes, name) => decodeImageSync(bytes, name);

/**
 * Node image decoding: JPEG with jpeg-js, PNG with pngjs, chosen by magic bytes. Greyscale,
 * palette and 16-bit PNGs come out as 8-bit RGBA; CMYK JPEGs are converted by jpeg-js.
 */
import jpeg from 'jpeg-js';
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
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (png.width !== size.width || png.height !== size.height) throw new Error(`decoded ${png.width} × ${png.height}, header ${size.width} × ${size.height}`);
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  } catch (e) {
    throw badImage(name, `the PNG is damaged or truncated (${clip((e as Error).message, 120)})`);
  }
}

export const nodeDecoder: ImageDecoder = async (bytes, name) => decodeImageSync(bytes, name);

/**
 * Node image decoding: JPEG with jpeg-js, PNG with pngjs, chosen by magic bytes. Greyscale,
 * palette and 16-bit PNGs come out as 8-bit RGBA; CMYK JPEGs are converted by jpeg-js.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { badImage, detectImageFormat, jpegLooksComplete, notAnImage } from './decode';
import type { ImageDecoder, RgbaImage } from './types';

export function decodeImageSync(bytes: Uint8Array, name: string): RgbaImage {
  const format = detectImageFormat(bytes);
  if (format === null) throw notAnImage(name, bytes);
  if (format === 'jpeg') {
    if (!jpegLooksComplete(bytes)) throw badImage(name, `the JPEG is truncated (no end-of-image marker; ${bytes.length} bytes)`);
    try {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: img.data };
    } catch (e) {
      throw badImage(name, `the JPEG is damaged (${(e as Error).message})`);
    }
  }
  try {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  } catch (e) {
    throw badImage(name, `the PNG is damaged or truncated (${(e as Error).message})`);
  }
}

export const nodeDecoder: ImageDecoder = async (bytes, name) => decodeImageSync(bytes, name);

/**
 * Browser image decoding (in the worker): createImageBitmap, drawn onto an OffscreenCanvas at
 * native size and read back as RGBA. Resizing is ours (preprocess.ts), so the browser and Node
 * produce the same pixels up to the JPEG decoder's rounding.
 */
import { badImage, detectImageFormat, notAnImage } from './decode';
import { checkImageSize } from './imageHeader';
import type { ImageDecoder } from './types';

export const browserDecoder: ImageDecoder = async (bytes, name) => {
  const format = detectImageFormat(bytes);
  if (format === null) throw notAnImage(name, bytes);
  // The header's size first: createImageBitmap would allocate whatever a hostile header declares.
  checkImageSize(bytes, name);
  let bitmap: ImageBitmap;
  try {
    const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: format === 'jpeg' ? 'image/jpeg' : 'image/png' });
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw badImage(name, `the browser could not decode this ${format.toUpperCase()} (truncated or damaged: ${(e as Error).message})`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('OffscreenCanvas 2d context is unavailable in this browser.');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = ctx.getImageData(0, 0, width, height);
  return { width, height, data: pixels.data };
};

/** The decoder for this host when none is given: the browser's, where there is one. */
export function hasBrowserDecoder(): boolean {
  return typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function';
}

/**
 * Image dimensions from the file header, without decoding: a PNG's IHDR chunk, a JPEG's frame
 * header (SOFn). The decoders check them against MAX_IMAGE_PIXELS before they allocate, so a
 * 69-byte PNG that declares 30000 × 30000 is refused in microseconds instead of taking gigabytes.
 * Browser-safe; every read is bounds-checked.
 */
import { LabError, quoted } from '../domain/errors';
import { badImage, detectImageFormat } from './decode';
import { MAX_IMAGE_PIXELS } from './limits';

export interface ImageSize {
  width: number;
  height: number;
}

/** PNG: the signature, then the IHDR chunk: length, "IHDR", width (u32 BE), height (u32 BE). */
function pngSize(b: Uint8Array, name: string): ImageSize {
  if (b.length < 24) throw badImage(name, `the PNG is truncated (${b.length} bytes, too short for its header)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') throw badImage(name, 'the PNG is damaged (its first chunk is not IHDR)');
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

/** Start-of-frame markers that carry the frame size (SOF0-3, 5-7, 9-11, 13-15; not DHT C4, JPG C8, DAC CC). */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** JPEG: walk the marker segments from SOI to the first SOFn; its height and width follow the precision byte. */
function jpegSize(b: Uint8Array, name: string): ImageSize {
  let p = 2; // after SOI (FF D8)
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) throw badImage(name, `the JPEG is damaged (no marker at byte ${p})`);
    const marker = b[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image / start of scan before any frame header
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    if (len < 2) throw badImage(name, `the JPEG is damaged (a segment of length ${len} at byte ${p})`);
    if (isSof(marker)) {
      if (p + 9 > b.length) break;
      return { height: (b[p + 5]! << 8) | b[p + 6]!, width: (b[p + 7]! << 8) | b[p + 8]! };
    }
    p += 2 + len;
  }
  throw badImage(name, 'the JPEG is truncated or damaged (no frame header giving its size)');
}

/** Width and height from the header; LabError 'data/bad-image' when the header is not readable. */
export function readImageSize(bytes: Uint8Array, name: string): ImageSize {
  const format = detectImageFormat(bytes);
  if (format === 'png') return pngSize(bytes, name);
  if (format === 'jpeg') return jpegSize(bytes, name);
  throw badImage(name, 'it is not a JPEG or PNG');
}

/**
 * Refuses, before decoding, an image whose header declares no pixels or more than
 * MAX_IMAGE_PIXELS. Returns the size.
 */
export function checkImageSize(bytes: Uint8Array, name: string): ImageSize {
  const s = readImageSize(bytes, name);
  if (s.width < 1 || s.height < 1) throw badImage(name, `its header declares ${s.width} × ${s.height} pixels`);
  if (s.width * s.height > MAX_IMAGE_PIXELS) {
    throw new LabError(
      'data/image-too-large',
      `Image ${quoted(name)} is too large: its header declares ${s.width} × ${s.height} pixels (${((s.width * s.height) / 1e6).toFixed(0)} megapixels); the lab decodes images of at most ${MAX_IMAGE_PIXELS / 1e6} megapixels.`,
      'Downscale it (the model sees at most a few hundred pixels a side), remove its line from the list file, or load with skip-bad (CLI: --skip-bad).',
    );
  }
  return s;
}

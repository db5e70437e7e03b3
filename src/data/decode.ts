/**
 * Image format detection and the errors decoders throw. Browser-safe; the decoders themselves
 * live in decode.node.ts (jpeg-js, pngjs) and decode.browser.ts (createImageBitmap).
 */
import { LabError } from '../domain/errors';

export type ImageFormat = 'jpeg' | 'png';

/** By magic bytes, not by file name: FF D8 FF is JPEG, 89 'PNG' \r\n 1A \n is PNG. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/** A JPEG must end with its end-of-image marker (FF D9), allowing a little trailing padding. */
export function jpegLooksComplete(bytes: Uint8Array): boolean {
  const from = Math.max(2, bytes.length - 1024);
  for (let i = bytes.length - 2; i >= from; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

function shownStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'it is empty (0 bytes)';
  const head = bytes.subarray(0, 12);
  const text = [...head].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : '.')).join('');
  const hex = [...head.subarray(0, 4)].map((c) => c.toString(16).padStart(2, '0')).join(' ');
  return `it starts with "${text}" (${hex})`;
}

/** LabError 'data/bad-image' naming the file and what is wrong with it. */
export function badImage(name: string, why: string): LabError {
  return new LabError(
    'data/bad-image',
    `Image "${name}" cannot be used: ${why}.`,
    'Replace it with a valid JPEG or PNG, remove its line from the list file, or load with skip-bad (CLI: --skip-bad).',
  );
}

export function notAnImage(name: string, bytes: Uint8Array): LabError {
  return badImage(name, `it is not a JPEG or PNG; ${shownStart(bytes)}`);
}

/**
 * Image format detection and the errors decoders throw. Browser-safe; the decoders themselves
 * live in decode.node.ts (jpeg-js, pngjs) and decode.browser.ts (createImageBitmap).
 */
import { LabError, quoted } from '../domain/errors';

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

/**
 * What a file that is not an image looks like, in words. Never its bytes: a symbolic link could
 * point anywhere, and an error message must not show the contents of a file the user did not mean
 * to share (or of one they did).
 */
export function describeContent(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'it is empty (0 bytes)';
  const b = bytes;
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v);
  const kind = starts(0x50, 0x4b, 0x03, 0x04)
    ? 'a zip archive'
    : starts(0x47, 0x49, 0x46, 0x38)
      ? 'a GIF image'
      : starts(0x42, 0x4d)
        ? 'a BMP image'
        : starts(0x52, 0x49, 0x46, 0x46)
          ? 'a RIFF file (WebP?)'
          : starts(0x25, 0x50, 0x44, 0x46)
            ? 'a PDF'
            : starts(0x1f, 0x8b)
              ? 'gzip-compressed data'
              : starts(0x3c)
                ? 'markup text (HTML or XML, e.g. an error page)'
                : b.subarray(0, 64).every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127))
                  ? 'plain text'
                  : 'binary data of an unknown kind';
  return `it holds ${kind} (${bytes.length.toLocaleString('en')} bytes)`;
}

/** LabError 'data/bad-image' naming the file and what is wrong with it. */
export function badImage(name: string, why: string): LabError {
  return new LabError(
    'data/bad-image',
    `Image ${quoted(name)} cannot be used: ${why}.`,
    'Replace it with a valid JPEG or PNG, remove its line from the list file, or load with skip-bad (CLI: --skip-bad).',
  );
}

export function notAnImage(name: string, bytes: Uint8Array): LabError {
  return badImage(name, `it is not a JPEG or PNG; ${describeContent(bytes)}`);
}

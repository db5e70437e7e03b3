/**
 * The bounds the data loaders enforce before they spend memory, each far above what a real task
 * needs, so only a damaged or hostile file meets them. Documented in the README (Data).
 *
 * For scale: the largest VTAB-1k list is dSprites' test.txt (147,456 lines, about 5 MB); the
 * lab's largest training size is 20,000 images; VTAB images are at most a few megapixels.
 */

/** A list file (train800.txt, test.txt, ...): bytes read, at most. */
export const MAX_LIST_BYTES = 64 * 2 ** 20;
/** A list file: lines, at most (blank lines included). */
export const MAX_LIST_LINES = 1_000_000;
/** One list line, in characters: a path longer than any file system allows (4096) is not a path. */
export const MAX_LINE_CHARS = 4096;
/** One image file, encoded: bytes read, at most. */
export const MAX_IMAGE_BYTES = 128 * 2 ** 20;
/** One image, decoded: width × height, at most (50 megapixels = 200 MB of RGBA). */
export const MAX_IMAGE_PIXELS = 50_000_000;
/**
 * A data zip: entries its directory may declare, at most (checked before any entry is read; the zip
 * reader spends a few kB on each). dSprites' task folder, the largest, has about 148,500 files.
 */
export const MAX_ZIP_ENTRIES = 250_000;
/** A data zip downloaded from a URL (read whole into memory): bytes, at most. */
export const MAX_ZIP_DOWNLOAD_BYTES = 2 ** 31 - 1;
/** Images above this many pixels are decoded one at a time (data check decodes four at once otherwise). */
export const LARGE_IMAGE_PIXELS = 4_000_000;

/**
 * Small vtab-1k task folders of generated PNG and JPEG images, valid and broken, and zips of
 * them: the tests' fixtures and `npm run data -- example`. Node-only (writes to a temp dir).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export type Breakage =
  | 'none'
  | 'missing-list' // no test.txt
  | 'bad-line' // train800.txt line 3 has no label
  | 'label-out-of-range' // val200.txt line 2 has label 99
  | 'missing-image' // test.txt line 4 names an absent file
  | 'truncated-image' // a listed JPEG cut in half
  | 'text-as-jpg' // a listed .jpg that is a text file
  | 'pixel-bomb' // a listed 69-byte PNG whose header declares 30000 x 30000 pixels
  | 'empty-test' // test.txt has no lines
  | 'no-lists'; // a folder of images without list files

export interface FixtureOptions {
  /** Task folder name (default 'eurosat', 10 classes). */
  folder?: string;
  classes?: number;
  train?: number;
  val?: number;
  test?: number;
  breakage?: Breakage;
  /** Put the task folder under <root>/vtab-1k/ (default: directly under root). */
  underVtab?: boolean;
}

/** A W x H image with a per-index pattern, RGBA. */
export function patternImage(index: number, width = 20, height = 14): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data[o] = (x * 12 + index * 40) % 256;
      data[o + 1] = (y * 18 + index * 25) % 256;
      data[o + 2] = (index * 60) % 256;
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

export function encodePng(img: { width: number; height: number; data: Uint8Array }): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data);
  return new Uint8Array(PNG.sync.write(png));
}

export function encodeJpeg(img: { width: number; height: number; data: Uint8Array }, quality = 95): Uint8Array {
  return new Uint8Array(jpeg.encode({ width: img.width, height: img.height, data: Buffer.from(img.data) }, quality).data);
}

export function makeTempDir(prefix = 'vtab-fixture-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Writes `<root>/<folder>/` (or `<root>/vtab-1k/<folder>/`) with train800/val200/
 * train800val200/test lists and images/{train,test}/ (even indices JPEG, odd PNG... all named
 * .jpg, as vtab-1k does, since we detect by content). Returns the task folder path.
 */
export function writeVtabFixture(root: string, options: FixtureOptions = {}): string {
  const folder = options.folder ?? 'eurosat';
  const classes = options.classes ?? 10;
  const nTrain = options.train ?? 10;
  const nVal = options.val ?? 4;
  const nTest = options.test ?? 6;
  const breakage = options.breakage ?? 'none';
  const dir = options.underVtab ? join(root, 'vtab-1k', folder) : join(root, folder);
  mkdirSync(join(dir, 'images', 'train'), { recursive: true });
  mkdirSync(join(dir, 'images', 'test'), { recursive: true });
  const line = (split: string, i: number) => `images/${split}/${String(i).padStart(4, '0')}.jpg ${i % classes}`;
  const write = (split: string, i: number) => {
    const img = patternImage(i);
    writeFileSync(join(dir, 'images', split, `${String(i).padStart(4, '0')}.jpg`), i % 2 === 0 ? encodeJpeg(img) : encodePng(img));
  };
  const train: string[] = [];
  const val: string[] = [];
  const test: string[] = [];
  for (let i = 0; i < nTrain; i++) {
    write('train', i);
    train.push(line('train', i));
  }
  for (let i = nTrain; i < nTrain + nVal; i++) {
    write('train', i);
    val.push(line('train', i));
  }
  for (let i = 0; i < nTest; i++) {
    write('test', i);
    test.push(line('test', i));
  }
  if (breakage === 'bad-line') train[2] = 'images/train/0002.jpg';
  if (breakage === 'label-out-of-range') val[1] = `images/train/${String(nTrain + 1).padStart(4, '0')}.jpg 99`;
  if (breakage === 'missing-image') test[3] = 'images/test/absent.jpg 1';
  if (breakage === 'truncated-image') {
    const p = join(dir, 'images', 'train', '0004.jpg');
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length / 2)));
  }
  if (breakage === 'text-as-jpg') writeFileSync(join(dir, 'images', 'test', '0001.jpg'), 'this is not an image\n');
  if (breakage === 'pixel-bomb') writeFileSync(join(dir, 'images', 'train', '0003.jpg'), pngDeclaring(30000, 30000));
  if (breakage === 'empty-test') test.length = 0;
  if (breakage !== 'no-lists') {
    writeFileSync(join(dir, 'train800.txt'), train.join('\n') + '\n');
    writeFileSync(join(dir, 'val200.txt'), val.join('\n') + '\n');
    writeFileSync(join(dir, 'train800val200.txt'), [...train, ...val].join('\n') + '\n');
    if (breakage !== 'missing-list') writeFileSync(join(dir, 'test.txt'), test.length ? test.join('\n') + '\n' : '');
  }
  return dir;
}

/**
 * Zips every file under `dir` (deflated, with @zip.js/zip.js: the library the lab reads zips
 * with); entry names are relative to `base` (default: dir's parent keeps the folder name).
 */
export async function zipFolder(dir: string, base: string = join(dir, '..')): Promise<Uint8Array> {
  const zip = new ZipWriter(new Uint8ArrayWriter(), { level: 6, useWebWorkers: false });
  const walk = async (d: string): Promise<void> => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) await walk(p);
      else await zip.add(relative(base, p).split('\\').join('/'), new Uint8ArrayReader(new Uint8Array(readFileSync(p))));
    }
  };
  await walk(dir);
  return zip.close();
}

// ---------------------------------------------------------------- hostile inputs, made small

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A PNG of a few dozen bytes whose IHDR declares `width` x `height` RGB pixels (valid chunk CRCs,
 * one tiny IDAT): the "pixel bomb" a decoder must refuse from the header alone.
 */
export function pngDeclaring(width: number, height: number): Uint8Array {
  // 8-bit RGB, no interlace; the IDAT is the zlib stream of one 0 byte.
  return pngWith({ width, height, depth: 8, colour: 2, interlace: 0 }, new Uint8Array([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]));
}

/** A PNG of the given header fields whose IDAT chunk holds `idat` verbatim (a zlib stream, or anything). */
export function pngWith(h: { width: number; height: number; depth: number; colour: number; interlace: 0 | 1 }, idat: Uint8Array): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, h.width);
  dv.setUint32(4, h.height);
  ihdr.set([h.depth, h.colour, 0, 0, h.interlace], 8);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  return concat(parts);
}

/** A real JPEG of a small image whose frame header (SOF0) is edited to declare `width` x `height`. */
export function jpegDeclaring(width: number, height: number): Uint8Array {
  const bytes = encodeJpeg(patternImage(3, 16, 16));
  for (let p = 2; p + 9 < bytes.length;) {
    const marker = bytes[p + 1]!;
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (marker === 0xc0) {
      bytes[p + 5] = height >> 8;
      bytes[p + 6] = height & 0xff;
      bytes[p + 7] = width >> 8;
      bytes[p + 8] = width & 0xff;
      return bytes;
    }
    p += 2 + len;
  }
  throw new Error('no SOF0 in the encoded JPEG');
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A raw deflate stream that inflates to `size` zero bytes (size >= 1), built directly: one
 * fixed-Huffman block of a literal 0 and <length 258, distance 1> copies (13 bits each), so
 * 2 GB of output costs about 13 MB and no time to make. The tail is literal zeros.
 */
export function deflateZeros(size: number): Uint8Array {
  const copies = Math.floor((size - 1) / 258);
  const tail = size - 1 - copies * 258;
  const out = new Uint8Array(Math.ceil((3 + 8 + 13 * copies + 8 * tail + 7) / 8) + 2);
  let bit = 0;
  const put = (value: number, n: number) => {
    for (let i = 0; i < n; i++, bit++) if ((value >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
  };
  const putHuff = (code: number, n: number) => {
    for (let i = n - 1; i >= 0; i--, bit++) if ((code >> i) & 1) out[bit >> 3]! |= 1 << (bit & 7);
  };
  const copy = () => (putHuff(0xc5, 8), putHuff(0, 5)); // length code 285 (= 258), distance code 0 (= 1)
  put(1, 1); // BFINAL
  put(1, 2); // BTYPE = 01, fixed Huffman
  putHuff(0x30, 8); // literal 0
  // Groups of 8 copies are 104 bits = 13 bytes and all start at bit phase 3 (after the 11 bits
  // above): from byte 14 on, the bytes repeat with period 13. Write two groups bit by bit, then
  // repeat the second group's bytes.
  const groups = Math.floor(copies / 8);
  if (groups >= 3) {
    for (let i = 0; i < 16; i++) copy();
    for (let g = 2; g < groups; g++) out.copyWithin(14 + 13 * (g - 1), 14, 27);
    bit = 11 + 104 * groups;
    out[bit >> 3] = out[14]! & 0b111; // the last group's final 3 bits, nothing after them yet
    for (let i = groups * 8; i < copies; i++) copy();
  } else for (let i = 0; i < copies; i++) copy();
  for (let i = 0; i < tail; i++) putHuff(0x30, 8);
  putHuff(0, 7); // end of block (256)
  return out.subarray(0, Math.ceil(bit / 8));
}

export interface RawZipEntry {
  name: string;
  /** The entry's stored bytes: raw, or already deflated (method 8). */
  data: Uint8Array;
  method?: 0 | 8;
  /** Inflated size written in both headers (default data.length for stored entries). */
  declaredSize?: number;
  crc?: number;
}

/**
 * A zip written field by field, so tests can lie in any header: sizes, methods, CRCs. Returns
 * the bytes and where each structure starts (for tests that edit them afterwards).
 */
/** A zip header of `fixed` bytes with the given little-endian fields, followed by the entry's name. */
function headerBytes(fixed: number, name: Uint8Array, fields: [number, 2 | 4, number][]): Uint8Array {
  const out = new Uint8Array(fixed + name.length);
  const dv = new DataView(out.buffer);
  for (const [at, width, value] of fields) {
    if (width === 2) dv.setUint16(at, value, true);
    else dv.setUint32(at, value, true);
  }
  out.set(name, fixed);
  return out;
}

export function writeRawZip(entries: RawZipEntry[]): { bytes: Uint8Array; centralOffset: number; eocdOffset: number } {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const method = e.method ?? 0;
    const size = e.declaredSize ?? e.data.length;
    const crc = e.crc ?? (method === 0 ? crc32(e.data) : 0);
    const stored = Math.min(size, 0xffffffff);
    // [offset, width, value] of each field: the local header, then its central directory twin.
    // Flag bit 11: the name is UTF-8 (zip readers decode names without it as code page 437).
    const local = headerBytes(30, name, [
      [0, 4, 0x04034b50],
      [4, 2, 20],
      [6, 2, 0x0800],
      [8, 2, method],
      [14, 4, crc],
      [18, 4, e.data.length],
      [22, 4, stored],
      [26, 2, name.length],
    ]);
    const central = headerBytes(46, name, [
      [0, 4, 0x02014b50],
      [4, 2, 20],
      [6, 2, 20],
      [8, 2, 0x0800],
      [10, 2, method],
      [16, 4, crc],
      [20, 4, e.data.length],
      [24, 4, stored],
      [28, 2, name.length],
      [42, 4, offset],
    ]);
    locals.push(local, e.data);
    centrals.push(central);
    offset += local.length + e.data.length;
  }
  const centralOffset = offset;
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  // More entries than 16 bits count: the zip64 end record and its locator carry the count.
  const zip64 = entries.length > 0xfffe;
  ev.setUint16(8, zip64 ? 0xffff : entries.length, true);
  ev.setUint16(10, zip64 ? 0xffff : entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, centralOffset, true);
  const tail: Uint8Array[] = [];
  if (zip64) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(entries.length), true);
    rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(centralSize), true);
    rv.setBigUint64(48, BigInt(centralOffset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(centralOffset + centralSize), true);
    lv.setUint32(16, 1, true);
    tail.push(rec, loc);
  }
  const bytes = concat([...locals, ...centrals, ...tail, eocd]);
  return { bytes, centralOffset, eocdOffset: centralOffset + centralSize + (zip64 ? 76 : 0) };
}

/** A raw deflate stored block (not final): `data` verbatim, so a deflateZeros block can follow it. */
export function storedBlock(data: Uint8Array): Uint8Array {
  if (data.length > 0xffff) throw new Error('a stored block holds at most 65535 bytes');
  const n = data.length;
  return concat([new Uint8Array([0x00, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff]), data]);
}

/** An .npy file: header (format 1.0, padded to 64 bytes) then `data`, for a float32 array. */
export function npyBytes(shape: number[], data: Uint8Array, descr = '<f4'): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

/**
 * Test fixtures: small vtab-1k task folders of generated PNG and JPEG images, valid and broken,
 * and zips of them. Node-only (writes to a temp dir).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
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
  for (let i = 0; i < nTrain; i++) (write('train', i), train.push(line('train', i)));
  for (let i = nTrain; i < nTrain + nVal; i++) (write('train', i), val.push(line('train', i)));
  for (let i = 0; i < nTest; i++) (write('test', i), test.push(line('test', i)));
  if (breakage === 'bad-line') train[2] = 'images/train/0002.jpg';
  if (breakage === 'label-out-of-range') val[1] = `images/train/${String(nTrain + 1).padStart(4, '0')}.jpg 99`;
  if (breakage === 'missing-image') test[3] = 'images/test/absent.jpg 1';
  if (breakage === 'truncated-image') {
    const p = join(dir, 'images', 'train', '0004.jpg');
    const bytes = readFileSync(p);
    writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length / 2)));
  }
  if (breakage === 'text-as-jpg') writeFileSync(join(dir, 'images', 'test', '0001.jpg'), 'this is not an image\n');
  if (breakage !== 'no-lists') {
    writeFileSync(join(dir, 'train800.txt'), train.join('\n') + '\n');
    writeFileSync(join(dir, 'val200.txt'), val.join('\n') + '\n');
    writeFileSync(join(dir, 'train800val200.txt'), [...train, ...val].join('\n') + '\n');
    if (breakage !== 'missing-list') writeFileSync(join(dir, 'test.txt'), test.join('\n') + '\n');
  }
  return dir;
}

/** Zips every file under `dir`; entry names are relative to `base` (default: dir's parent keeps the folder name). */
export function zipFolder(dir: string, base: string = join(dir, '..')): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(base, p).split('\\').join('/')] = new Uint8Array(readFileSync(p));
    }
  };
  walk(dir);
  return zipSync(files, { level: 6 });
}

/**
 * What reading images out of a zip costs, per image, next to what decoding them costs: the
 * measurement behind reading zips with @zip.js/zip.js (src/data/zip.ts) rather than a hand-written
 * reader. Node only (`npm run bench -- --zip`).
 */
import { unzipSync, zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { ZipSource } from '../data/zip';

export interface ZipBenchRow {
  what: string;
  msPerImage: number;
}

/** A smooth 224 px test image with some texture, as a JPEG (about the size of a VTAB image). */
function testJpeg(index: number, size = 224): Uint8Array {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 4;
      data[o] = (x * 3 + index * 17 + ((x * y) % 13)) & 255;
      data[o + 1] = (y * 2 + index * 29) & 255;
      data[o + 2] = ((x + y) * 5 + index) & 255;
      data[o + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ width: size, height: size, data }, 90).data);
}

/** `count` JPEGs in a deflated zip: per-image time of each stage, one after the other in this process. */
export async function zipBench(count = 1000): Promise<ZipBenchRow[]> {
  const files: Record<string, Uint8Array> = {};
  const images = Array.from({ length: 16 }, (_, i) => testJpeg(i));
  for (let i = 0; i < count; i++) files[`dtd/images/train/${i}.jpg`] = images[i % images.length]!;
  const zip = zipSync(files, { level: 6 });
  const names = Object.keys(files);
  const time = async (fn: () => Promise<void> | void) => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / count;
  };
  const source = await ZipSource.open(new Blob([zip as Uint8Array<ArrayBuffer>]), 'bench.zip');
  const read = await time(async () => {
    for (const n of names) await source.read(n);
  });
  const inflate = await time(() => void unzipSync(zip));
  const decode = await time(() => {
    for (const n of names) jpeg.decode(files[n]!, { useTArray: true, formatAsRGBA: true });
  });
  return [
    { what: `read one entry with the lab's zip reader (@zip.js/zip.js), ${count} entries of ${(zip.length / count / 1024).toFixed(0)} KB`, msPerImage: read },
    { what: 'inflate only (fflate unzipSync of the whole zip, per entry): the floor any reader pays', msPerImage: inflate },
    { what: 'decode the 224 px JPEG (jpeg-js, what Node does next with each entry)', msPerImage: decode },
  ];
}

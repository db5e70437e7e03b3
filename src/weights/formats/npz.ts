/**
 * .npy and .npz readers. An .npz is a zip of .npy files, stored (np.savez) or deflated
 * (np.savez_compressed); numpy writes zip64 local headers even for small files, so sizes and
 * offsets come from the central directory. Entries are inflated one at a time on `read`.
 */
import { Inflate, inflateSync } from 'fflate';
import { LabError } from '../../domain/errors';
import type { HostTensor } from '../types';
import { halfToFloat, numel, permute, shapeStr } from '../tensor';
import { asBytes, type TensorArchive } from './archive';

const REDOWNLOAD = 'The file is incomplete: download it again and check its size.';

interface NpyHeader {
  /** numpy descr, e.g. '<f4'. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data within the .npy bytes. */
  dataOffset: number;
}

/** Parses an .npy header (format versions 1, 2 and 3). */
export function parseNpyHeader(b: Uint8Array, name: string, needFull = true): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  const bad = (what: string) => new LabError('checkpoint/bad-header', `${name}: ${what}.`, 'The .npy data is damaged or not written by numpy; save the checkpoint again with numpy.savez.');
  if (b.byteLength < 10) throw new LabError('checkpoint/truncated', `${name}: only ${b.byteLength} bytes, too short for an .npy header.`, REDOWNLOAD);
  if (!magic.every((m, i) => b[i] === m)) throw bad('does not start with the .npy magic \\x93NUMPY');
  const major = b[6];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (b.byteLength < 12) throw new LabError('checkpoint/truncated', `${name}: .npy header cut off.`, REDOWNLOAD);
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw bad(`has .npy format version ${major}.${b[7]}, which this reader does not know (1, 2, 3)`);
  }
  if (start + headerLen > b.byteLength) {
    if (needFull) throw new LabError('checkpoint/truncated', `${name}: .npy header of ${headerLen} bytes runs past the end of the data.`, REDOWNLOAD);
    throw bad(`has an .npy header of ${headerLen} bytes, too long to be real`);
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(start, start + headerLen));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(`has an .npy header without descr/fortran_order/shape: ${JSON.stringify(text.trim())}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => Number(s.replace(/L$/, '')));
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`has an .npy shape that is not integers: (${shapeText})`);
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: start + headerLen };
}

const DTYPE_BYTES: Record<string, number> = { f4: 4, f8: 8, f2: 2 };

/** Decodes a whole .npy to float32, C order. */
export function parseNpy(input: ArrayBuffer | ArrayBufferView, name: string): HostTensor {
  const b = asBytes(input);
  const h = parseNpyHeader(b, name);
  const m = /^([<>=|])([a-zA-Z])(\d+)$/.exec(h.descr);
  const kind = m ? `${m[2]}${m[3]}` : '';
  const endian = m?.[1] ?? '';
  if (!m || !Object.hasOwn(DTYPE_BYTES, kind) || endian === '|') {
    throw new LabError('checkpoint/unknown-dtype', `${name}: array dtype '${h.descr}' is not supported.`, "Supported: float32 ('<f4'), float64 ('<f8'), float16 ('<f2'). Save the weights as floating point (arr.astype(np.float32)).");
  }
  const size = DTYPE_BYTES[kind];
  const count = numel(h.shape);
  const byteLength = count * size;
  if (h.dataOffset + byteLength > b.byteLength) {
    throw new LabError('checkpoint/truncated', `${name}: array ${shapeStr(h.shape)} '${h.descr}' needs ${byteLength} data bytes but only ${b.byteLength - h.dataOffset} are present.`, REDOWNLOAD);
  }
  const little = endian !== '>';
  const abs = b.byteOffset + h.dataOffset;
  let data: Float32Array;
  if (kind === 'f4' && little) {
    data = new Float32Array(count);
    new Uint8Array(data.buffer).set(new Uint8Array(b.buffer, abs, byteLength)); // little-endian hosts
  } else {
    data = new Float32Array(count);
    const dv = new DataView(b.buffer, abs, byteLength);
    if (kind === 'f4') for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, little);
    else if (kind === 'f8') for (let i = 0; i < count; i++) data[i] = dv.getFloat64(i * 8, little);
    else for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(i * 2, little));
  }
  if (h.fortranOrder && h.shape.length > 1) {
    // Fortran order of shape S is C order of reversed S; reversing the axes back gives C order of S.
    const rev = [...h.shape].reverse();
    return permute({ shape: rev, data }, rev.map((_, i) => rev.length - 1 - i));
  }
  return { shape: h.shape, data };
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function notZip(name: string, why: string): LabError {
  return new LabError('checkpoint/not-a-checkpoint', `'${name}' is not an .npz checkpoint: ${why}.`, 'Choose a .safetensors file or an .npz saved by numpy (e.g. imagenet21k_ViT-B_16.npz).');
}

/** Reads the zip central directory (zip64 aware). */
function readZipDirectory(b: Uint8Array, name: string): ZipEntry[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const isZip = b.byteLength >= 4 && dv.getUint32(0, true) === 0x04034b50;
  let eocd = -1;
  for (let i = b.byteLength - 22; i >= Math.max(0, b.byteLength - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    if (isZip) throw new LabError('checkpoint/truncated', `'${name}' is a truncated zip/.npz: its central directory (at the end of the file) is missing.`, REDOWNLOAD);
    throw notZip(name, 'it has no zip directory');
  }
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) throw notZip(name, 'zip64 directory locator missing');
    const rec = Number(dv.getBigUint64(loc + 8, true));
    if (rec + 56 > b.byteLength || dv.getUint32(rec, true) !== 0x06064b50) throw new LabError('checkpoint/truncated', `'${name}': zip64 end record is out of range.`, REDOWNLOAD);
    count = Number(dv.getBigUint64(rec + 32, true));
    cdSize = Number(dv.getBigUint64(rec + 40, true));
    cdOffset = Number(dv.getBigUint64(rec + 48, true));
  }
  if (cdOffset + cdSize > b.byteLength) throw new LabError('checkpoint/truncated', `'${name}': zip central directory lies beyond the end of the file.`, REDOWNLOAD);
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  const dec = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (p + 46 > b.byteLength || dv.getUint32(p, true) !== 0x02014b50) throw new LabError('checkpoint/bad-header', `'${name}': zip central directory entry ${i} is corrupt.`, 'Download or save the .npz again.');
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localOffset = dv.getUint32(p + 42, true);
    const entryName = dec.decode(b.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: present fields follow in this order, only for 0xffffffff ones.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = dv.getUint16(e, true), len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = Number(dv.getBigUint64(q, true)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(dv.getBigUint64(q, true)); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = Number(dv.getBigUint64(q, true)); q += 8; }
      }
      e += 4 + len;
    }
    entries.push({ name: entryName, method, compressedSize, size, localOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

/**
 * Parses an .npz (zip of .npy). Keys are entry names without '.npy'. Shapes come from the .npy
 * headers (for deflated entries only the first bytes are inflated to read them).
 */
export function parseNpz(input: ArrayBuffer | ArrayBufferView, name: string): TensorArchive {
  const b = asBytes(input);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const entries = new Map<string, ZipEntry>();
  let directory: ZipEntry[];
  try {
    directory = readZipDirectory(b, name);
  } catch (e) {
    if (e instanceof LabError) throw e;
    // A field that points outside the file (an extra field past the directory, a zip64 record
    // beyond the end): the DataView's bounds check, named.
    throw new LabError('checkpoint/bad-header', `'${name}': its zip directory is damaged (a field points outside the file).`, REDOWNLOAD);
  }
  for (const e of directory) {
    if (e.name.endsWith('/')) continue; // directory entries
    if (!e.name.endsWith('.npy')) throw notZip(name, `it holds '${e.name}', which is not an .npy array`);
    entries.set(e.name.slice(0, -4), e);
  }
  const compressed = (key: string, e: ZipEntry): Uint8Array => {
    const p = e.localOffset;
    if (p + 30 > b.byteLength || dv.getUint32(p, true) !== 0x04034b50) throw new LabError('checkpoint/truncated', `'${name}': the zip entry for '${key}' is missing or corrupt.`, REDOWNLOAD);
    const start = p + 30 + dv.getUint16(p + 26, true) + dv.getUint16(p + 28, true);
    if (start + e.compressedSize > b.byteLength) throw new LabError('checkpoint/truncated', `'${name}' is truncated: entry '${key}' needs bytes up to ${start + e.compressedSize} but the file has ${b.byteLength}.`, REDOWNLOAD);
    return b.subarray(start, start + e.compressedSize);
  };
  const inflate = (key: string, c: Uint8Array, outLen: number): Uint8Array => {
    try {
      // fflate fills `out` and stops: an entry never inflates past the bytes asked for.
      return inflateSync(c, { out: new Uint8Array(outLen) });
    } catch (err) {
      throw new LabError('checkpoint/truncated', `'${name}': entry '${key}' does not inflate (${(err as Error).message}).`, REDOWNLOAD);
    }
  };
  /** The first `n` inflated bytes, feeding the stream in small pieces and stopping there. */
  const inflatePrefix = (key: string, c: Uint8Array, n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let got = 0;
    const inf = new Inflate((chunk) => {
      const k = Math.min(chunk.length, n - got);
      out.set(chunk.subarray(0, k), got);
      got += k;
    });
    try {
      for (let i = 0; i < c.length && got < n; i += 4096) inf.push(c.subarray(i, i + 4096), i + 4096 >= c.length);
    } catch (err) {
      throw new LabError('checkpoint/truncated', `'${name}': entry '${key}' does not inflate (${(err as Error).message}).`, REDOWNLOAD);
    }
    return out.subarray(0, got);
  };
  const raw = (key: string, e: ZipEntry, prefixOnly: boolean): Uint8Array => {
    const c = compressed(key, e);
    if (e.method !== 0 && e.method !== 8) throw new LabError('checkpoint/bad-header', `'${name}': entry '${key}' uses zip compression method ${e.method}; only stored and deflate are supported.`, 'Save it again with numpy.savez or numpy.savez_compressed.');
    const head = e.method === 0 ? c.subarray(0, 65536) : inflatePrefix(key, c, Math.min(e.size, 65536));
    if (prefixOnly) return head;
    // The array's header says how many bytes it needs; the entry must declare exactly that, so a
    // hostile size (a 2 GB "bomb" behind a 192-byte array) is refused before anything inflates.
    const h = parseNpyHeader(head, `'${name}' entry '${key}.npy'`, false);
    const itemBytes = Number(/^[<>=|]?[a-zA-Z](\d{1,2})$/.exec(h.descr)?.[1] ?? 0); // numpy's descr ends in the item size
    const needed = h.dataOffset + numel(h.shape) * itemBytes;
    if (itemBytes > 0 && e.size !== needed) {
      throw new LabError(
        e.size > needed ? 'checkpoint/bad-header' : 'checkpoint/truncated',
        `'${name}': entry '${key}' declares ${e.size} bytes but its array ${shapeStr(h.shape)} '${h.descr}' needs ${needed}.`,
        e.size > needed ? 'The file is damaged or not a numpy .npz; save the checkpoint again with numpy.savez.' : REDOWNLOAD,
      );
    }
    if (e.method === 0) return c;
    return inflate(key, c, e.size);
  };
  const shapes = new Map<string, number[]>();
  const entry = (key: string): ZipEntry => {
    const e = entries.get(key);
    if (!e) throw new Error(`npz '${name}': no array '${key}'`);
    return e;
  };
  return {
    name,
    format: 'npz',
    metadata: {},
    keys: () => [...entries.keys()],
    has: (key) => entries.has(key),
    shape: (key) => {
      let s = shapes.get(key);
      if (!s) {
        s = parseNpyHeader(raw(key, entry(key), true), `'${name}' entry '${key}.npy'`, false).shape;
        shapes.set(key, s);
      }
      return [...s];
    },
    read: (key) => parseNpy(raw(key, entry(key), false), `'${name}' entry '${key}.npy'`),
  };
}

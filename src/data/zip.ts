/**
 * A lazy zip reader: parses only the central directory (the end of the file), then reads and
 * inflates one entry at a time when asked. Works on a browser Blob/File through `slice()` (so a
 * multi-GB zip never sits in memory), on a Uint8Array, or on any `RandomAccess` (source.node.ts
 * gives one over a file handle). Supports stored and deflated entries and zip64 offsets.
 */
import { inflateSync } from 'fflate';
import { LabError } from '../domain/errors';
import { type FileSource, PathIndex, joinPath, missingFile } from './source';

/** Random-access bytes: a Blob, a buffer, or a file handle. */
export interface RandomAccess {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function blobAccess(blob: Blob): RandomAccess {
  return {
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

export function bytesAccess(bytes: Uint8Array): RandomAccess {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_CEN = 0x02014b50;
const SIG_LOC = 0x04034b50;

function u64(v: DataView, o: number): number {
  return v.getUint32(o, true) + v.getUint32(o + 4, true) * 4294967296;
}

function notAZip(what: string, why: string): LabError {
  return new LabError('data/not-a-zip', `${what} is not a readable zip: ${why}.`, 'Give a .zip of a vtab-1k task folder (or of the whole vtab-1k/ tree), or the unzipped folder itself.');
}

function headBytes(b: Uint8Array): string {
  const printable = [...b.subarray(0, 8)].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : '.')).join('');
  return `"${printable}"`;
}

export class ZipSource implements FileSource {
  readonly kind = 'zip' as const;
  private readonly index: PathIndex;
  private constructor(
    private readonly access: RandomAccess,
    private readonly label: string,
    private readonly entries: Map<string, ZipEntry>,
  ) {
    this.index = new PathIndex(entries.keys());
  }

  /** Open a zip from a Blob/File, a Uint8Array or a RandomAccess; reads only the directory. */
  static async open(data: Blob | Uint8Array | RandomAccess, label = 'zip'): Promise<ZipSource> {
    const access = data instanceof Uint8Array ? bytesAccess(data) : typeof Blob !== 'undefined' && data instanceof Blob ? blobAccess(data) : (data as RandomAccess);
    const what = `"${label}"`;
    const describeHead = async () => {
      const head = await access.read(0, Math.min(8, access.size));
      return head[0] === 0x50 && head[1] === 0x4b
        ? 'it starts like a zip but has no central directory at its end (truncated download?)'
        : access.size === 0 ? 'it is empty' : `it starts with ${headBytes(head)}, not "PK"`;
    };
    if (access.size < 22) throw notAZip(what, await describeHead());
    const tailLen = Math.min(access.size, 22 + 65535 + 20);
    const tailStart = access.size - tailLen;
    const tail = await access.read(tailStart, tailLen);
    const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw notAZip(what, await describeHead());
    let entryCount = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if ((cdOffset === 0xffffffff || cdSize === 0xffffffff || entryCount === 0xffff) && eocd >= 20 && tv.getUint32(eocd - 20, true) === SIG_LOC64) {
      const rec64Offset = u64(tv, eocd - 20 + 8);
      const rec = await access.read(rec64Offset, 56);
      const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
      if (rv.getUint32(0, true) !== SIG_EOCD64) throw notAZip(what, 'its zip64 end record is damaged');
      entryCount = u64(rv, 32);
      cdSize = u64(rv, 40);
      cdOffset = u64(rv, 48);
    }
    if (cdOffset + cdSize > access.size) throw notAZip(what, `its directory points past the end of the file (${cdOffset + cdSize} > ${access.size} bytes; truncated?)`);
    const cd = await access.read(cdOffset, cdSize);
    const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    const utf8 = new TextDecoder('utf-8');
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let n = 0; n < entryCount; n++) {
      if (p + 46 > cd.length || cv.getUint32(p, true) !== SIG_CEN) throw notAZip(what, `directory entry ${n + 1} of ${entryCount} is damaged`);
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      let compressedSize = cv.getUint32(p + 20, true);
      let size = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      let localOffset = cv.getUint32(p + 42, true);
      const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extra field: 64-bit sizes/offset, present only for the fields that overflowed.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cv.getUint16(e, true);
        const len = cv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) (size = u64(cv, q)), (q += 8);
          if (compressedSize === 0xffffffff) (compressedSize = u64(cv, q)), (q += 8);
          if (localOffset === 0xffffffff) localOffset = u64(cv, q);
        }
        e += 4 + len;
      }
      p = extraEnd + commentLen;
      const clean = joinPath(name.replace(/\\/g, '/'));
      if (name.endsWith('/') || clean === '' || clean.startsWith('__MACOSX/') || clean.split('/').some((s) => s === '.DS_Store')) continue;
      entries.set(clean, { name: clean, method, flags, compressedSize, size, localOffset });
    }
    return new ZipSource(access, label, entries);
  }

  async list(dir: string): Promise<string[]> {
    return this.index.list(dir);
  }

  async exists(path: string): Promise<boolean> {
    return this.entries.has(joinPath(path));
  }

  async read(path: string): Promise<Uint8Array> {
    const entry = this.entries.get(joinPath(path));
    if (!entry) throw missingFile(this, path);
    const where = `Entry "${entry.name}" of ${this.describe()}`;
    if (entry.flags & 1) throw new LabError('data/not-a-zip', `${where} is encrypted.`, 'Re-create the zip without a password.');
    const loc = await this.access.read(entry.localOffset, 30);
    const lv = new DataView(loc.buffer, loc.byteOffset, loc.byteLength);
    if (loc.length < 30 || lv.getUint32(0, true) !== SIG_LOC) throw notAZip(where, 'its local header is damaged');
    const dataStart = entry.localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataStart + entry.compressedSize > this.access.size) throw notAZip(where, 'its data runs past the end of the file (truncated?)');
    const raw = await this.access.read(dataStart, entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.method === 8) {
      try {
        return inflateSync(raw, { out: new Uint8Array(entry.size) });
      } catch (e) {
        throw notAZip(where, `its compressed data is damaged (${(e as Error).message})`);
      }
    }
    throw new LabError('data/not-a-zip', `${where} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported.`, 'Re-create the zip with standard deflate compression.');
  }

  describe(): string {
    return `zip "${this.label}"`;
  }

  /** Number of file entries (directories excluded). */
  get fileCount(): number {
    return this.entries.size;
  }
}

/**
 * The one zip reader of the lab, over @zip.js/zip.js: data zips (vtab-1k folders) and .npz
 * checkpoints both read through `ZipArchive`. zip.js parses the central directory (zip64,
 * extra fields, name encodings) and inflates one entry at a time on request; this module adds what
 * a hostile file needs on top:
 * - random access that never reads past the end of the file and never holds more than the range
 *   asked for (a Blob is sliced, a Node file is read through a handle: a multi-GB zip never sits
 *   in memory);
 * - a cap on every entry's inflated bytes, checked against the declared size before inflating
 *   and against the bytes that actually arrive (zip.js also refuses data longer than declared);
 * - every failure as a named LabError saying which file or entry and what is wrong, never a raw
 *   RangeError from a bounds violation.
 */
import { configure, Reader, ZipReader, type Entry, type FileEntry } from '@zip.js/zip.js';
import { LabError, type ErrorCode, bytesText, clip, quoted } from '../domain/errors';
import { describeContent } from './decode';
import { MAX_ZIP_ENTRIES } from './limits';
import { type FileSource, type ReadLimit, PathIndex, checkReadSize, joinPath, missingFile } from './source';

// The lab already decodes inside a worker (or in Node); zip.js must not start workers of its own.
configure({ useWebWorkers: false });

/** Random-access bytes: a Blob, a buffer, or a file handle. */
export interface RandomAccess {
  readonly size: number;
  /** At most `length` bytes from `offset` (fewer at the end of the file). */
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

/** zip.js reads ranges through this: clamped to the file, so a lying offset reads nothing. */
class AccessReader extends Reader<RandomAccess> {
  constructor(private readonly access: RandomAccess) {
    super(access);
  }
  override async init(): Promise<void> {
    this.size = this.access.size;
  }
  override async readUint8Array(index: number, length: number): Promise<Uint8Array> {
    if (!Number.isFinite(index) || !Number.isFinite(length) || index < 0 || length <= 0 || index >= this.access.size) return new Uint8Array(0);
    return this.access.read(index, Math.min(length, this.access.size - index));
  }
}

/** What went wrong, before the caller names it in its own terms (data zip or checkpoint). */
export type ZipProblem = 'not-zip' | 'truncated' | 'damaged' | 'too-large' | 'encrypted' | 'unsupported' | 'unsafe-name' | 'ambiguous' | 'too-many-entries';

/** How a caller names the problems of its zips: a data folder's zip, or an .npz checkpoint. */
export interface ZipErrors {
  code(problem: ZipProblem): ErrorCode;
  hint(problem: ZipProblem): string;
  /** Entries the directory may declare, at most: a larger count is refused before any entry is read. */
  maxEntries: number;
}

export const DATA_ZIP_ERRORS: ZipErrors = {
  code: (p) => (p === 'too-large' ? 'data/entry-too-large' : p === 'unsafe-name' ? 'data/outside-source' : 'data/not-a-zip'),
  hint: (p) =>
    p === 'encrypted'
      ? 'Re-create the zip without a password.'
      : p === 'unsupported'
        ? 'Re-create the zip with standard deflate compression.'
        : p === 'too-large'
          ? 'Check that the zip holds a vtab-1k task folder; a list file or image of that size is not one.'
          : p === 'unsafe-name' || p === 'ambiguous'
            ? 'Re-create the zip from the task folder itself (e.g. cd vtab-1k && zip -r eurosat.zip eurosat).'
            : p === 'too-many-entries'
              ? 'Check that the zip holds one vtab-1k task folder; split a larger data set into several tasks.'
              : 'Give a .zip of a vtab-1k task folder (or of the whole vtab-1k/ tree), or the unzipped folder itself; if it was downloaded, download it again.',
  maxEntries: MAX_ZIP_ENTRIES,
};

/**
 * The number of entries a zip's end record declares (the zip64 end record's, where the classic
 * one says 0xffff), read from the last 64 kB of the file without touching the directory;
 * undefined when there is no readable end record (the zip reader then names the problem).
 */
async function declaredEntryCount(access: RandomAccess): Promise<number | undefined> {
  const tailLength = Math.min(access.size, 22 + 0xffff);
  const tailStart = access.size - tailLength;
  const tail = await access.read(tailStart, tailLength);
  const dv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let p = tail.length - 22; p >= 0; p--) {
    if (dv.getUint32(p, true) !== 0x06054b50) continue;
    const count = dv.getUint16(p + 10, true);
    if (count !== 0xffff) return count;
    if (p < 20 || dv.getUint32(p - 20, true) !== 0x07064b50) return count;
    const at = Number(dv.getBigUint64(p - 20 + 8, true));
    if (!(at >= 0 && at + 56 <= access.size)) return undefined;
    const rec = await access.read(at, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rec.length < 56 || rv.getUint32(0, true) !== 0x06064b50) return undefined;
    return Number(rv.getBigUint64(32, true));
  }
  return undefined;
}

/** An entry as the directory declares it. */
export interface ZipEntryInfo {
  /** Clean relative path ('/'-separated, no '.' or '..' segments). */
  name: string;
  /** Declared inflated size in bytes. */
  size: number;
  compressedSize: number;
  /** A Unix symbolic link stored in the zip (its "content" is a path; never followed). */
  symlink: boolean;
  encrypted: boolean;
}

/** Error messages of zip.js (its exported ERR_* strings) that mean "the file ends too soon". */
const TRUNCATED = /end of central directory|central directory header not found|local file header not found|zip64|truncated|unexpected end/i;

export class ZipArchive {
  private constructor(
    private readonly reader: ZipReader<unknown>,
    private readonly files: Map<string, { info: ZipEntryInfo; entry: FileEntry }>,
    readonly label: string,
    private readonly errors: ZipErrors,
  ) {}

  /** Opens a zip, reading only its directory. */
  static async open(data: Blob | Uint8Array | RandomAccess, label: string, errors: ZipErrors = DATA_ZIP_ERRORS): Promise<ZipArchive> {
    const access =
      data instanceof Uint8Array ? bytesAccess(data) : typeof Blob !== 'undefined' && data instanceof Blob ? blobAccess(data) : (data as RandomAccess);
    const fail = (problem: ZipProblem, why: string) =>
      new LabError(errors.code(problem), `${quoted(label)} is not a readable zip: ${why}.`, errors.hint(problem));
    if (access.size === 0) throw fail('not-zip', 'it is empty');
    const head = await access.read(0, Math.min(64, access.size));
    const looksZip = head[0] === 0x50 && head[1] === 0x4b;
    const notZip = () =>
      fail(
        'not-zip',
        `it does not start with "PK", the zip signature; ${describeContent(head).replace(/\(\d[\d,]* bytes\)$/, `(${access.size.toLocaleString('en')} bytes)`)}`,
      );
    if (!looksZip) throw notZip();
    if (access.size < 22) throw fail('truncated', `it is only ${access.size} bytes (truncated download?)`);
    // Every entry costs the zip reader a few kB: the count is checked before one is read.
    const declared = await declaredEntryCount(access);
    if (declared !== undefined && declared > errors.maxEntries)
      throw fail(
        'too-many-entries',
        `its directory declares ${declared.toLocaleString('en')} entries, more than the ${errors.maxEntries.toLocaleString('en')} such a zip may hold`,
      );
    const reader = new ZipReader(new AccessReader(access), { useWebWorkers: false, checkSignature: false });
    let entries: Entry[];
    try {
      entries = await reader.getEntries();
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      const unsafe = (e as { filename?: unknown }).filename;
      if (typeof unsafe === 'string' && /unsafe filename/i.test(msg))
        throw fail(
          'unsafe-name',
          `its entry ${quoted(unsafe, 120)} has a name that leads out of the zip's folder (an absolute path or "..") and is refused; the lab reads nothing outside what you chose`,
        );
      const truncated = TRUNCATED.test(msg);
      throw fail(truncated ? 'truncated' : 'damaged', `its directory is damaged or missing (${clip(msg, 120)}${truncated ? '; truncated download?' : ''})`);
    }
    const files = new Map<string, { info: ZipEntryInfo; entry: FileEntry }>();
    for (const e of entries) {
      if (e.directory) continue;
      const name = joinPath(e.filename.replace(/\\/g, '/'));
      if (name === '' || name.startsWith('__MACOSX/') || name.split('/').some((s) => s === '.DS_Store')) continue;
      const twin = files.get(name);
      if (twin)
        throw fail(
          'ambiguous',
          `it holds two entries for ${quoted(name, 120)}${twin.entry.filename !== e.filename ? ` (named ${quoted(twin.entry.filename, 120)} and ${quoted(e.filename, 120)})` : ''}, and which one is meant is ambiguous`,
        );
      const size = Number(e.uncompressedSize),
        compressedSize = Number(e.compressedSize);
      if (!Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(compressedSize) || compressedSize < 0 || compressedSize > access.size) {
        throw fail('damaged', `entry ${quoted(name, 120)} declares ${compressedSize} compressed bytes in a ${access.size}-byte file`);
      }
      files.set(name, { info: { name, size, compressedSize, symlink: !!e.symlink, encrypted: !!e.encrypted }, entry: e as FileEntry });
    }
    return new ZipArchive(reader, files, label, errors);
  }

  /** File entries (directories, __MACOSX and .DS_Store left out), by clean path. */
  names(): IterableIterator<string> {
    return this.files.keys();
  }

  info(name: string): ZipEntryInfo | undefined {
    return this.files.get(joinPath(name))?.info;
  }

  get fileCount(): number {
    return this.files.size;
  }

  private entryError(info: ZipEntryInfo, problem: ZipProblem, why: string): LabError {
    return new LabError(this.errors.code(problem), `Entry ${quoted(info.name, 120)} of zip ${quoted(this.label)} ${why}.`, this.errors.hint(problem));
  }

  /**
   * One entry's bytes, inflated. `limit` is checked against the declared size before any byte is
   * inflated; the declared size caps what may arrive. With `prefix`, stops after that many bytes
   * (a header is all that is needed) and returns them.
   */
  async read(name: string, opts: { limit?: ReadLimit; prefix?: number } = {}): Promise<Uint8Array> {
    const hit = this.files.get(joinPath(name));
    if (!hit) throw new Error(`internal: no entry ${name}`);
    const { info, entry } = hit;
    if (info.encrypted) throw this.entryError(info, 'encrypted', 'is encrypted');
    if (info.symlink) throw this.entryError(info, 'unsupported', 'is a symbolic link; links inside a zip are not followed');
    const want = opts.prefix === undefined ? info.size : Math.min(info.size, opts.prefix);
    if (opts.prefix === undefined) checkReadSize(info.size, opts.limit);
    const out = new Uint8Array(want);
    let got = 0;
    let enough = false;
    const abort = new AbortController();
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        const room = want - got;
        if (chunk.byteLength > room) {
          if (opts.prefix === undefined)
            throw this.entryError(info, 'damaged', `inflates to more than the ${bytesText(info.size)} its directory declares (damaged or hostile)`);
          out.set(chunk.subarray(0, room), got);
          got = want;
        } else {
          out.set(chunk, got);
          got += chunk.byteLength;
        }
        if (opts.prefix !== undefined && got >= want) {
          enough = true;
          abort.abort();
        }
      },
    });
    try {
      await entry.getData(writable, { signal: abort.signal, checkSignature: false });
    } catch (e) {
      if (enough) return out;
      if (e instanceof LabError) throw e;
      const msg = (e as Error).message ?? String(e);
      if (/compression method|not supported|unsupported/i.test(msg))
        throw this.entryError(info, 'unsupported', `uses a compression method other than stored or deflate (${clip(msg, 80)})`);
      if (/uncompressed size/i.test(msg))
        throw this.entryError(info, 'damaged', `inflates to more than the ${bytesText(info.size)} its directory declares (damaged or hostile)`);
      throw this.entryError(info, TRUNCATED.test(msg) ? 'truncated' : 'damaged', `cannot be read: ${clip(msg, 120)} (truncated or damaged)`);
    }
    if (got < want) throw this.entryError(info, 'truncated', `holds ${got} of the ${info.size} bytes its directory declares (truncated or damaged)`);
    return out;
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}

/** A vtab-1k folder inside a zip. */
export class ZipSource implements FileSource {
  readonly kind = 'zip' as const;
  private readonly index: PathIndex;
  private constructor(
    private readonly archive: ZipArchive,
    private readonly label: string,
  ) {
    this.index = new PathIndex(archive.names());
  }

  /** Open a zip from a Blob/File, a Uint8Array or a RandomAccess; reads only the directory. */
  static async open(data: Blob | Uint8Array | RandomAccess, label = 'zip'): Promise<ZipSource> {
    return new ZipSource(await ZipArchive.open(data, label, DATA_ZIP_ERRORS), label);
  }

  async list(dir: string): Promise<string[]> {
    return this.index.list(dir);
  }

  async exists(path: string): Promise<boolean> {
    return this.archive.info(path) !== undefined;
  }

  async read(path: string, limit?: ReadLimit): Promise<Uint8Array> {
    if (!this.archive.info(path)) throw missingFile(this, path);
    return this.archive.read(path, { limit });
  }

  describe(): string {
    return `zip ${quoted(this.label)}`;
  }

  get rootName(): string {
    return this.label
      .split(/[\\/]/)
      .pop()!
      .replace(/\.zip$/i, '');
  }

  /** Number of file entries (directories excluded). */
  get fileCount(): number {
    return this.archive.fileCount;
  }
}

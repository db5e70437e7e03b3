/**
 * Where task files come from. Every loader reads through `FileSource`: a Node folder
 * (source.node.ts), a folder picked in the browser (FileSystemDirectoryHandle), a flat list of
 * dropped File objects, a zip (zip.ts), or a base URL. Paths are relative, '/'-separated, with
 * '' for the root. Browser-safe: no node: imports here.
 */
import { LabError, bytesText, clip, quoted } from '../domain/errors';
import { UnreachableError, boundedFetch, readBounded } from './fetch';

export type SourceKind = 'node' | 'directory' | 'files' | 'zip' | 'url';

/**
 * A bound on one read, checked against the file's size before its bytes are read (and against
 * the bytes that arrive, where the size is not known up front).
 */
export interface ReadLimit {
  maxBytes: number;
  /** The named error for a file of `bytes` bytes (at least; a stream is cut at the bound). */
  tooLarge(bytes: number): LabError;
}

/** Throws the limit's error when `bytes` exceeds it. */
export function checkReadSize(bytes: number, limit: ReadLimit | undefined): void {
  if (limit && bytes > limit.maxBytes) throw limit.tooLarge(bytes);
}

export interface FileSource {
  readonly kind: SourceKind;
  /**
   * Names directly inside `dir`; sub-folders end with '/'. Sources that cannot list (a URL)
   * return [].
   */
  list(dir: string): Promise<string[]>;
  /**
   * The file's bytes; LabError 'data/missing-image' naming the file when it is absent, and the
   * limit's error, before reading, when it is larger than `limit.maxBytes`.
   */
  read(path: string, limit?: ReadLimit): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /** Where this source reads from, for messages ("folder /data/vtab-1k", "zip dtd.zip"). */
  describe(): string;
  /** The name of the folder (or zip) the user chose, where it has one: a task folder's name says which task it holds. */
  readonly rootName?: string;
}

/** Join relative path parts, dropping empty parts and './'. */
export function joinPath(...parts: string[]): string {
  const out: string[] = [];
  for (const p of parts) {
    for (const seg of p.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') out.pop();
      else out.push(seg);
    }
  }
  return out.join('/');
}

export function missingFile(source: FileSource, path: string): LabError {
  return new LabError(
    'data/missing-image',
    `File ${quoted(path)} is not in ${source.describe()}.`,
    'Check that the images/ folder was copied or unzipped completely next to the list files.',
  );
}

/** Builds list() answers from a flat set of file paths (shared by the zip and File-list sources). */
export class PathIndex {
  private readonly dirs = new Map<string, Set<string>>();
  constructor(paths: Iterable<string>) {
    this.dirs.set('', new Set());
    for (const raw of paths) {
      const path = joinPath(raw);
      if (!path) continue;
      const segs = path.split('/');
      let dir = '';
      for (let i = 0; i < segs.length; i++) {
        const isLast = i === segs.length - 1;
        const name = isLast ? segs[i]! : segs[i]! + '/';
        let set = this.dirs.get(dir);
        if (!set) this.dirs.set(dir, (set = new Set()));
        set.add(name);
        dir = joinPath(dir, segs[i]!);
        if (!isLast && !this.dirs.has(dir)) this.dirs.set(dir, new Set());
      }
    }
  }
  list(dir: string): string[] {
    return [...(this.dirs.get(joinPath(dir)) ?? [])].sort();
  }
}

/** A flat list of dropped files (drag and drop, <input webkitdirectory>), keyed by relative path. */
export interface NamedFile {
  path: string;
  file: Blob;
}

/**
 * Files from drag-and-drop or `<input type=file webkitdirectory>`: each File's
 * `webkitRelativePath` (or its name) is its path. The picked folder's own name stays the first
 * path segment; openVtabTask descends into a single top folder.
 */
export class FileListSource implements FileSource {
  readonly kind = 'files' as const;
  private readonly files = new Map<string, Blob>();
  private readonly index: PathIndex;
  constructor(
    files: Iterable<File | NamedFile>,
    private readonly label = 'dropped files',
  ) {
    for (const f of files) {
      if ('file' in f && 'path' in f) this.files.set(joinPath(f.path), f.file);
      else {
        const file = f as File;
        this.files.set(joinPath(file.webkitRelativePath || file.name), file);
      }
    }
    this.index = new PathIndex(this.files.keys());
  }
  async list(dir: string): Promise<string[]> {
    return this.index.list(dir);
  }
  async read(path: string, limit?: ReadLimit): Promise<Uint8Array> {
    const f = this.files.get(joinPath(path));
    if (!f) throw missingFile(this, path);
    checkReadSize(f.size, limit);
    return new Uint8Array(await f.arrayBuffer());
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(joinPath(path));
  }
  describe(): string {
    return `${this.label} (${this.files.size} files)`;
  }
}

/** The parts of FileSystemDirectoryHandle we use (TS's DOM lib lacks the async iterators). */
interface DirHandleLike {
  name: string;
  kind: 'directory';
  getDirectoryHandle(name: string): Promise<DirHandleLike>;
  getFileHandle(name: string): Promise<{ getFile(): Promise<File> }>;
  entries(): AsyncIterable<[string, { kind: 'file' | 'directory' }]>;
}

/** A folder from `showDirectoryPicker()`. */
export class DirectoryHandleSource implements FileSource {
  readonly kind = 'directory' as const;
  private readonly root: DirHandleLike;
  private readonly dirCache = new Map<string, Promise<DirHandleLike>>();
  constructor(handle: FileSystemDirectoryHandle) {
    this.root = handle as unknown as DirHandleLike;
  }
  private dir(path: string): Promise<DirHandleLike> {
    const p = joinPath(path);
    if (p === '') return Promise.resolve(this.root);
    let hit = this.dirCache.get(p);
    if (!hit) {
      const segs = p.split('/');
      const parent = segs.slice(0, -1).join('/');
      hit = this.dir(parent).then((d) => d.getDirectoryHandle(segs[segs.length - 1]!));
      hit.catch(() => this.dirCache.delete(p));
      this.dirCache.set(p, hit);
    }
    return hit;
  }
  get rootName(): string {
    return this.root.name;
  }
  async list(dir: string): Promise<string[]> {
    try {
      const d = await this.dir(dir);
      const out: string[] = [];
      for await (const [name, h] of d.entries()) out.push(h.kind === 'directory' ? name + '/' : name);
      return out.sort();
    } catch {
      return [];
    }
  }
  private async file(path: string): Promise<File | null> {
    const p = joinPath(path);
    const segs = p.split('/');
    try {
      const d = await this.dir(segs.slice(0, -1).join('/'));
      return await (await d.getFileHandle(segs[segs.length - 1]!)).getFile();
    } catch {
      return null;
    }
  }
  async read(path: string, limit?: ReadLimit): Promise<Uint8Array> {
    const f = await this.file(path);
    if (!f) throw missingFile(this, path);
    checkReadSize(f.size, limit);
    return new Uint8Array(await f.arrayBuffer());
  }
  async exists(path: string): Promise<boolean> {
    return (await this.file(path)) !== null;
  }
  describe(): string {
    return `folder "${this.root.name}"`;
  }
}

const URL_ERRORS = {
  code: 'data/download-failed',
  hint: 'Check the URL, the network, and that the server allows cross-origin requests (CORS).',
} as const;

/** A read through a URL source without its own bound (every loader passes one): an image file's. */
const DEFAULT_URL_LIMIT: ReadLimit = {
  maxBytes: 128 * 2 ** 20,
  tooLarge: (n) => new LabError('data/entry-too-large', `A file of ${bytesText(n)} is more than a data file can be (${bytesText(128 * 2 ** 20)}).`),
};

/**
 * Files under a base URL: reads `${base}/${path}`. Cannot list; existence is a HEAD request
 * (falling back to GET where a server refuses HEAD).
 */
export class UrlSource implements FileSource {
  readonly kind = 'url' as const;
  private readonly base: string;
  constructor(
    base: string,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {
    this.base = base.replace(/\/+$/, '');
  }
  private url(path: string): string {
    return `${this.base}/${joinPath(path).split('/').map(encodeURIComponent).join('/')}`;
  }
  async list(): Promise<string[]> {
    return [];
  }
  async read(path: string, limit?: ReadLimit): Promise<Uint8Array> {
    const url = this.url(path);
    const { res, abort } = await boundedFetch(url, {}, URL_ERRORS, this.fetchFn);
    if (!res.ok) {
      abort();
      throw missingFile(this, `${path} (HTTP ${res.status})`);
    }
    const bound = limit ?? DEFAULT_URL_LIMIT;
    return readBounded(url, res, abort, bound.maxBytes, { ...URL_ERRORS, tooLarge: (n) => bound.tooLarge(n) });
  }
  /**
   * Whether the server has the file (HEAD, or GET where HEAD is refused). A server that does not
   * answer in time is a named error, not a missing file: "no list files here" would send the user
   * looking in the wrong place. A request that fails outright counts as missing: many servers send
   * their CORS headers on 200 only, so in the page a 404 for a probed name is a failed request,
   * and the folder search must go on to the next name (the message when none is found names CORS).
   */
  async exists(path: string): Promise<boolean> {
    const url = this.url(path);
    try {
      let { res, abort } = await boundedFetch(url, { method: 'HEAD' }, URL_ERRORS, this.fetchFn);
      if (res.status === 405 || res.status === 501) ({ res, abort } = await boundedFetch(url, {}, URL_ERRORS, this.fetchFn));
      abort(); // only the status is needed
      return res.ok;
    } catch (e) {
      if (e instanceof UnreachableError) return false;
      throw e;
    }
  }
  describe(): string {
    return `URL ${clip(this.base, 300)}`;
  }
}

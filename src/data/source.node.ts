/**
 * Node-only sources: a folder on disk, and a zip on disk read through a file handle (never
 * loaded whole). `openNodeSource` picks the right one for a path or URL, as the CLI needs.
 */
import { constants, promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { LabError, bytesText, clip, quoted } from '../domain/errors';
import { boundedFetch, readBounded, urlText } from './fetch';
import { MAX_ZIP_DOWNLOAD_BYTES } from './limits';
import { type FileSource, type ReadLimit, UrlSource, joinPath, missingFile } from './source';
import { type RandomAccess, ZipSource } from './zip';

/**
 * A folder on disk. Reads stay inside it: a symbolic link whose target lies outside the folder
 * the user chose is refused (named, with the fix), as is anything that is not a regular file (a
 * folder, a device, a pipe that would block forever).
 */
export class NodeDirSource implements FileSource {
  readonly kind = 'node' as const;
  readonly root: string;
  private realRoot: Promise<string> | null = null;
  constructor(root: string) {
    this.root = nodePath.resolve(root);
  }
  get rootName(): string {
    return nodePath.basename(this.root);
  }
  private abs(path: string): string {
    return nodePath.join(this.root, ...joinPath(path).split('/'));
  }
  async list(dir: string): Promise<string[]> {
    try {
      const ents = await fs.readdir(this.abs(dir), { withFileTypes: true });
      return ents.map((e) => (e.isDirectory() ? e.name + '/' : e.name)).sort();
    } catch {
      return [];
    }
  }
  async read(path: string, limit?: ReadLimit): Promise<Uint8Array> {
    const abs = this.abs(path);
    let real: string;
    try {
      real = await fs.realpath(abs);
    } catch (e) {
      // A link that leads back to itself is there, and is no file: never "missing".
      if ((e as NodeJS.ErrnoException).code === 'ELOOP')
        throw new LabError(
          'data/not-a-file',
          `${quoted(path)} in ${this.describe()} is a link that leads back to itself (a loop of links), not a file.`,
          'Replace it with the file itself, or fix the path in the list file.',
        );
      throw missingFile(this, path);
    }
    this.realRoot ??= fs.realpath(this.root).catch(() => this.root);
    const root = await this.realRoot;
    if (real !== root && !real.startsWith(root.endsWith(nodePath.sep) ? root : root + nodePath.sep)) {
      throw new LabError(
        'data/outside-source',
        `${quoted(path)} in ${this.describe()} is a link to ${quoted(real, 120)}, outside the folder you chose; the lab reads nothing outside it.`,
        'Choose the folder the link points into (the task folder itself is enough), or copy the files into this folder.',
      );
    }
    try {
      return await readFileBounded(real, limit?.maxBytes ?? Number.MAX_SAFE_INTEGER);
    } catch (e) {
      if (!(e instanceof FileProblem)) throw e;
      if (e.kind === 'too-large') throw limit!.tooLarge(e.size);
      if (e.kind === 'not-file')
        throw new LabError(
          'data/not-a-file',
          `${quoted(path)} in ${this.describe()} is ${e.detail}, not a file${real !== abs ? ` (it is a link to ${quoted(real, 120)})` : ''}.`,
          'Replace it with the file itself, or fix the path in the list file.',
        );
      if (e.kind === 'missing') throw missingFile(this, path);
      throw new LabError('data/missing-image', `${quoted(path)} in ${this.describe()} cannot be read: ${clip(e.detail, 80)}.`, 'Check its permissions.');
    }
  }
  /**
   * Whether anything is at `path` (following links). A folder, a pipe or a device there "exists":
   * reading it then names what it is, instead of calling it missing.
   */
  async exists(path: string): Promise<boolean> {
    try {
      await fs.stat(this.abs(path));
      return true;
    } catch (e) {
      // A loop of links is there too (read names it); a link to nothing is missing.
      return (e as NodeJS.ErrnoException).code === 'ELOOP';
    }
  }
  describe(): string {
    return `folder ${clip(this.root, 200)}`;
  }
}

/** Why a file argument could not be read: the caller names it in its own terms. */
export class FileProblem extends Error {
  constructor(
    readonly kind: 'missing' | 'not-file' | 'too-large' | 'unreadable',
    /** 'not-file': what it is ("a named pipe"); 'unreadable': the system's reason. */
    readonly detail: string,
    readonly size = 0,
  ) {
    super(`${kind}: ${detail}`);
  }
}

const WHY: Record<string, string> = { EACCES: 'permission denied', EPERM: 'permission denied', ELOOP: 'a loop of links', ENAMETOOLONG: 'the path is too long' };

/**
 * A regular file's bytes, at most `maxBytes`, or a FileProblem. Opened without blocking and
 * checked through the open handle: a named pipe (which would wait forever), a device such as
 * /dev/zero (which never ends) or a folder is refused before a byte is read, and a file that grows
 * while it is read is read only up to the size it had.
 */
export async function readFileBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileProblem('missing', 'there is no such file');
    throw new FileProblem('unreadable', WHY[code] ?? (code || (e as Error).message));
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileProblem('not-file', kindOf(st));
    if (st.size > maxBytes) throw new FileProblem('too-large', `${st.size} bytes`, st.size);
    const out = new Uint8Array(st.size);
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await fh.read(out, done, out.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === out.length ? out : out.subarray(0, done);
  } catch (e) {
    if (e instanceof FileProblem) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new FileProblem('unreadable', WHY[code] ?? (code || (e as Error).message));
  } finally {
    await fh.close();
  }
}

/** Random access over a file on disk; opens the file for each read (no handle to leak). */
export async function fileAccess(path: string): Promise<RandomAccess> {
  const { size } = await fs.stat(path);
  return {
    size,
    read: async (offset, length) => {
      const fh = await fs.open(path, 'r');
      try {
        const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        let done = 0;
        while (done < out.length) {
          const { bytesRead } = await fh.read(out, done, out.length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return out.subarray(0, done);
      } finally {
        await fh.close();
      }
    },
  };
}

/**
 * A source for a folder, a .zip file (by content, not by name), or an http(s) base URL.
 * Anything else is LabError 'data/not-a-zip' (a file) or 'data/not-vtab-layout' (nothing there).
 */
export async function openNodeSource(pathOrUrl: string): Promise<FileSource> {
  if (/^https?:\/\//i.test(pathOrUrl)) {
    if (/\.zip($|\?)/i.test(pathOrUrl)) return ZipSource.open(await downloadZip(pathOrUrl), pathOrUrl);
    return new UrlSource(pathOrUrl);
  }
  let stat;
  try {
    stat = await fs.stat(pathOrUrl);
  } catch {
    throw new LabError(
      'data/not-vtab-layout',
      `Nothing at ${quoted(pathOrUrl)}.`,
      'Give a vtab-1k folder, a task folder, a .zip of either, or an http(s) URL.',
    );
  }
  if (stat.isDirectory()) return new NodeDirSource(pathOrUrl);
  if (!stat.isFile())
    throw new LabError(
      'data/not-a-file',
      `${quoted(pathOrUrl)} is ${kindOf(stat)}, neither a folder nor a zip file.`,
      'Give a vtab-1k folder, a task folder, a .zip of either, or an http(s) URL.',
    );
  return ZipSource.open(await fileAccess(pathOrUrl), nodePath.basename(pathOrUrl));
}

/** What a path that is not a regular file is, in words. */
export function kindOf(stat: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * A data zip at a URL is read whole (a zip's directory is at its end): at most MAX_ZIP_DOWNLOAD_BYTES,
 * or LAB_MAX_ZIP_DOWNLOAD_MB from the environment (tests), with the download timeouts.
 */
async function downloadZip(url: string): Promise<Uint8Array> {
  const mb = Number(process.env.LAB_MAX_ZIP_DOWNLOAD_MB);
  const maxBytes = Number.isFinite(mb) && mb > 0 ? mb * 1e6 : MAX_ZIP_DOWNLOAD_BYTES;
  const errors = { code: 'data/download-failed', hint: 'Check the URL and the network, or download the zip and give its path.' } as const;
  const { res, abort } = await boundedFetch(url, {}, errors);
  if (!res.ok) {
    abort();
    throw new LabError('data/download-failed', `Could not download ${urlText(url)}: HTTP ${res.status}.`, 'Check the URL.');
  }
  return readBounded(url, res, abort, maxBytes, {
    ...errors,
    tooLarge: (n) =>
      new LabError(
        'data/download-failed',
        `The zip at ${urlText(url)} is larger than the ${bytesText(maxBytes)} a downloaded data zip may be (${bytesText(n)} so far).`,
        'Download and unzip it yourself, then give the folder.',
      ),
  });
}

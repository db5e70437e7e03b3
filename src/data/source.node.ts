/**
 * Node-only sources: a folder on disk, and a zip on disk read through a file handle (never
 * loaded whole). `openNodeSource` picks the right one for a path or URL, as the CLI needs.
 */
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { LabError, clip, quoted } from '../domain/errors';
import { type FileSource, type ReadLimit, UrlSource, checkReadSize, joinPath, missingFile } from './source';
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
    let real: string, stat;
    try {
      real = await fs.realpath(abs);
      stat = await fs.stat(real);
    } catch {
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
    if (!stat.isFile())
      throw new LabError(
        'data/missing-image',
        `${quoted(path)} in ${this.describe()} is ${stat.isDirectory() ? 'a folder' : 'not a regular file (a device or a pipe)'}, not a file.`,
        'Fix the path in the list file.',
      );
    checkReadSize(stat.size, limit);
    try {
      const buf = await fs.readFile(real);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      throw new LabError(
        'data/missing-image',
        `${quoted(path)} in ${this.describe()} cannot be read: ${clip((e as NodeJS.ErrnoException).code ?? (e as Error).message, 80)}.`,
        'Check its permissions.',
      );
    }
  }
  async exists(path: string): Promise<boolean> {
    try {
      return (await fs.stat(this.abs(path))).isFile();
    } catch {
      return false;
    }
  }
  describe(): string {
    return `folder ${clip(this.root, 200)}`;
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
    if (/\.zip($|\?)/i.test(pathOrUrl)) {
      const res = await fetch(pathOrUrl);
      if (!res.ok) throw new LabError('data/missing-list', `Could not download ${pathOrUrl}: HTTP ${res.status}.`, 'Check the URL.');
      return ZipSource.open(new Uint8Array(await res.arrayBuffer()), pathOrUrl);
    }
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
  return ZipSource.open(await fileAccess(pathOrUrl), nodePath.basename(pathOrUrl));
}

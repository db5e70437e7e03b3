/**
 * Node-only sources: a folder on disk, and a zip on disk read through a file handle (never
 * loaded whole). `openNodeSource` picks the right one for a path or URL, as the CLI needs.
 */
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { LabError } from '../domain/errors';
import { type FileSource, UrlSource, joinPath, missingFile } from './source';
import { type RandomAccess, ZipSource } from './zip';

export class NodeDirSource implements FileSource {
  readonly kind = 'node' as const;
  readonly root: string;
  constructor(root: string) {
    this.root = nodePath.resolve(root);
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
  async read(path: string): Promise<Uint8Array> {
    try {
      const buf = await fs.readFile(this.abs(path));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch {
      throw missingFile(this, path);
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
    return `folder ${this.root}`;
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
    throw new LabError('data/not-vtab-layout', `Nothing at "${pathOrUrl}".`, 'Give a vtab-1k folder, a task folder, a .zip of either, or an http(s) URL.');
  }
  if (stat.isDirectory()) return new NodeDirSource(pathOrUrl);
  return ZipSource.open(await fileAccess(pathOrUrl), nodePath.basename(pathOrUrl));
}

/**
 * What a drag and drop onto the page's data area holds: one zip file, or every file under the
 * dropped folders with its path relative to the drop (the folder's own name first, as
 * `<input webkitdirectory>` gives it), ready for FileListSource.
 */
import type { NamedFile } from './source';

export type Dropped = { kind: 'zip'; file: File } | { kind: 'files'; files: NamedFile[]; rootName: string };

/**
 * The drop's entries, read at once: a DataTransfer is emptied when its drop event returns, so this
 * runs inside the handler and the slow walk (`readDropped`) after it.
 */
export function dropEntries(transfer: DataTransfer): { entries: FileSystemEntry[]; first: File | undefined } {
  const entries = [...transfer.items].map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
  return { entries, first: transfer.files[0] };
}

/** A lone .zip is the zip; anything else is walked to its files. Null when the drop held no file. */
export async function readDropped({ entries, first }: { entries: FileSystemEntry[]; first: File | undefined }): Promise<Dropped | null> {
  if (entries.length === 1 && entries[0]!.isFile && /\.zip$/i.test(entries[0]!.name)) return first ? { kind: 'zip', file: first } : null;
  const files: NamedFile[] = [];
  let rootName = 'dropped folder';
  for (const entry of entries) {
    if (entry.isDirectory) rootName = entry.name;
    await walk(entry, '', files);
  }
  return files.length ? { kind: 'files', files, rootName } : null;
}

async function walk(entry: FileSystemEntry, prefix: string, out: NamedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ path: prefix + entry.name, file });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries hands a directory over in batches (100 at a time in Chromium) until an empty one.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, prefix + entry.name + '/', out);
    }
  }
}

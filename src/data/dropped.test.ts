import { describe, expect, it } from 'vitest';
import { readDropped } from './dropped';

/** A dropped file or folder as the browser's FileSystemEntry API gives it; folders hand children over in batches of two. */
function file(name: string): FileSystemEntry {
  return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(new File([name], name)) } as unknown as FileSystemEntry;
}
function folder(name: string, children: FileSystemEntry[]): FileSystemEntry {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader: () => {
      let at = 0;
      return { readEntries: (ok: (b: FileSystemEntry[]) => void) => ok(children.slice(at, (at += 2))) };
    },
  } as unknown as FileSystemEntry;
}

describe('readDropped', () => {
  it('walks a dropped folder to every file, paths from the folder’s own name, across readEntries batches', async () => {
    const drop = folder('vtab-1k', [folder('dtd', [file('train800.txt'), file('val200.txt'), folder('images', [file('a.jpg')])]), file('README')]);
    const got = await readDropped({ entries: [drop], first: undefined });
    expect(got?.kind).toBe('files');
    if (got?.kind !== 'files') return;
    expect(got.rootName).toBe('vtab-1k');
    expect(got.files.map((f) => f.path)).toEqual(['vtab-1k/dtd/train800.txt', 'vtab-1k/dtd/val200.txt', 'vtab-1k/dtd/images/a.jpg', 'vtab-1k/README']);
  });

  it('a lone zip is the zip; loose files keep the default name; an empty drop is nothing', async () => {
    const zip = new File(['PK'], 'vtab.zip');
    expect(await readDropped({ entries: [file('vtab.zip')], first: zip })).toEqual({ kind: 'zip', file: zip });
    const loose = await readDropped({ entries: [file('a.jpg'), file('b.jpg')], first: undefined });
    expect(loose).toMatchObject({ kind: 'files', rootName: 'dropped folder' });
    expect(await readDropped({ entries: [folder('empty', [])], first: undefined })).toBeNull();
  });
});

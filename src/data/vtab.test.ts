import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabError } from '../domain/errors';
import { nodeDecoder } from './decode.node.js';
import { type Breakage, makeTempDir, writeVtabFixture, zipFolder } from './fixtures.node.js';
import { NodeDirSource, openNodeSource } from './source.node.js';
import { FileListSource, UrlSource } from './source';
import { openVtabTask, validateImages } from './vtab';
import { ZipSource } from './zip';

async function openDir(dir: string, skipBad = false) {
  return openVtabTask(new NodeDirSource(dir), 'eurosat', { decoder: nodeDecoder, skipBad });
}

async function expectLabError(p: Promise<unknown>, code: string, ...fragments: string[]): Promise<LabError> {
  let caught: unknown = null;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LabError);
  const err = caught as LabError;
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

function broken(b: Breakage): string {
  const root = makeTempDir();
  writeVtabFixture(root, { breakage: b });
  return root;
}

describe('openVtabTask on a good folder', () => {
  it('finds the task folder from root, task folder, or vtab-1k/ tree and parses every list', async () => {
    const root = makeTempDir();
    const taskDir = writeVtabFixture(root);
    const fromRoot = await openDir(root);
    expect(fromRoot.root).toBe('eurosat');
    expect(fromRoot.lists.train800).toHaveLength(10);
    expect(fromRoot.lists.val200).toHaveLength(4);
    expect(fromRoot.lists.train800val200).toHaveLength(14);
    expect(fromRoot.lists.test).toHaveLength(6);
    expect(fromRoot.lists.train800![3]).toMatchObject({ id: 'eurosat/images/train/0003.jpg', label: 3, file: 'eurosat/train800.txt', line: 4 });
    const fromTask = await openDir(taskDir);
    expect(fromTask.root).toBe('');
    expect(fromTask.lists.test[0]!.id).toBe('images/test/0000.jpg');
    const vtabRoot = makeTempDir();
    writeVtabFixture(vtabRoot, { underVtab: true });
    expect((await openDir(vtabRoot)).root).toBe('vtab-1k/eurosat');
    expect(fromRoot.skipped).toEqual([]);
  });

  it('decodes JPEG and PNG (detected by content) to RGBA of the right size', async () => {
    const root = makeTempDir();
    writeVtabFixture(root);
    const splits = await openDir(root);
    const jpg = await splits.images.load(splits.lists.train800![0]!);
    const png = await splits.images.load(splits.lists.train800![1]!);
    expect([jpg.width, jpg.height, png.width, png.height]).toEqual([20, 14, 20, 14]);
    expect(png.data[4 * 3]).toBe(76); // PNG is lossless: pattern red at x=3 of image 1 is 3*12 + 40
    expect(await validateImages(splits)).toBe(20);
  });

  it('reads the same task through a zip (bytes, Blob, one folder, vtab-1k tree, top-level files) and dropped files', async () => {
    const root = makeTempDir();
    const taskDir = writeVtabFixture(root);
    const zipOneFolder = await zipFolder(taskDir);
    const zipTopLevel = await zipFolder(taskDir, taskDir);
    const vtabRoot = makeTempDir();
    writeVtabFixture(vtabRoot, { underVtab: true });
    const zipTree = await zipFolder(join(vtabRoot, 'vtab-1k'));
    for (const [bytes, root] of [
      [zipOneFolder, 'eurosat'],
      [zipTopLevel, ''],
      [zipTree, 'vtab-1k/eurosat'],
    ] as const) {
      for (const src of [await ZipSource.open(bytes, 'x.zip'), await ZipSource.open(new Blob([bytes as Uint8Array<ArrayBuffer>]), 'x.zip')]) {
        const splits = await openVtabTask(src, 'eurosat', { decoder: nodeDecoder });
        expect(splits.root).toBe(root);
        expect(splits.lists.train800val200).toHaveLength(14);
        expect(await validateImages(splits)).toBe(20);
      }
    }
    const zipPath = join(root, 'eurosat.zip');
    writeFileSync(zipPath, zipOneFolder);
    const viaPath = await openNodeSource(zipPath);
    expect(viaPath.kind).toBe('zip');
    expect((await openVtabTask(viaPath, 'eurosat', { decoder: nodeDecoder })).lists.test).toHaveLength(6);

    // Dropped files: paths start with the picked folder's name.
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const files: { path: string; file: Blob }[] = [];
    const walk = (d: string, rel: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p, `${rel}/${n}`);
        else files.push({ path: `${rel}/${n}`, file: new Blob([readFileSync(p)]) });
      }
    };
    walk(taskDir, 'my-download');
    const dropped = await openVtabTask(new FileListSource(files), 'eurosat', { decoder: nodeDecoder });
    expect(dropped.root).toBe('my-download');
    expect(await validateImages(dropped)).toBe(20);
  });
});

describe('errors name the file, the line, and the fix', () => {
  it('missing list', async () => {
    const err = await expectLabError(openDir(broken('missing-list')), 'data/missing-list', 'eurosat/test.txt');
    expect(err.hint).toContain('train800val200.txt');
  });

  it('bad line', async () => {
    await expectLabError(openDir(broken('bad-line')), 'data/bad-line', 'eurosat/train800.txt" line 3', 'images/train/0002.jpg');
  });

  it('label out of range', async () => {
    await expectLabError(openDir(broken('label-out-of-range')), 'data/label-out-of-range', 'eurosat/val200.txt" line 2', 'label 99', '[0, 10)');
  });

  it('missing image', async () => {
    await expectLabError(openDir(broken('missing-image')), 'data/missing-image', 'images/test/absent.jpg', 'eurosat/test.txt" line 4');
  });

  it('truncated image, found when decoded', async () => {
    const splits = await openDir(broken('truncated-image'));
    await expectLabError(validateImages(splits), 'data/bad-image', 'eurosat/images/train/0004.jpg', 'eurosat/train800.txt" line 5', 'truncated');
  });

  it('text file named .jpg', async () => {
    const splits = await openDir(broken('text-as-jpg'));
    const item = splits.lists.test[1]!;
    const err = await expectLabError(splits.images.load(item), 'data/bad-image', 'eurosat/images/test/0001.jpg', 'not a JPEG or PNG', 'plain text');
    expect(err.message).not.toContain('this is not'); // what the file says is never echoed
  });

  it('a zip that is not a zip', async () => {
    const root = makeTempDir();
    const p = join(root, 'data.zip');
    writeFileSync(p, 'hello, I am text');
    const err = await expectLabError(openNodeSource(p), 'data/not-a-zip', 'data.zip', 'plain text');
    expect(err.message).not.toContain('hello'); // never its contents
    const dir = writeVtabFixture(makeTempDir());
    const zip = await zipFolder(dir);
    await expectLabError(ZipSource.open(zip.subarray(0, zip.length - 100), 'cut.zip'), 'data/not-a-zip', 'cut.zip', 'truncated');
  });

  it('a folder without list files says what it found and what it expects', async () => {
    const err = await expectLabError(openDir(broken('no-lists')), 'data/not-vtab-layout', 'eurosat');
    expect(err.message).toMatch(/holds|empty/);
    expect(err.hint).toContain('train800.txt');
    const empty = makeTempDir();
    await expectLabError(openDir(empty), 'data/not-vtab-layout', 'it is empty');
  });
});

describe('skipBad', () => {
  it('loads the rest and reports every bad line and image with file and line', async () => {
    const root = makeTempDir();
    writeVtabFixture(root, { breakage: 'bad-line' });
    const s1 = await openDir(root, true);
    expect(s1.lists.train800).toHaveLength(9);
    expect(s1.skipped).toEqual([
      expect.objectContaining({ file: 'eurosat/train800.txt', line: 3, code: 'data/bad-line' }),
      expect.objectContaining({ file: 'eurosat/train800val200.txt', line: 3, code: 'data/bad-line' }),
    ]);

    const s2 = await openDir(broken('missing-image'), true);
    expect(s2.lists.test).toHaveLength(5);
    expect(s2.skipped[0]).toMatchObject({ file: 'eurosat/test.txt', line: 4, code: 'data/missing-image' });

    const s3 = await openDir(broken('truncated-image'), true);
    expect(await validateImages(s3, { skipBad: true })).toBe(19);
    expect(s3.lists.train800).toHaveLength(9);
    expect(s3.lists.train800val200).toHaveLength(13);
    expect(s3.skipped).toEqual([expect.objectContaining({ file: 'eurosat/train800.txt', line: 5, code: 'data/bad-image' })]);
  });

  it('still throws for a missing required list', async () => {
    await expectLabError(openDir(broken('missing-list'), true), 'data/missing-list');
  });
});

describe('a task folder over a URL', () => {
  it('goes on past names whose request fails outright (a 404 without CORS headers, as the page sees it)', async () => {
    const dir = makeTempDir();
    writeVtabFixture(dir);
    const requested: string[] = [];
    // A server that answers only the files it has; every other request fails like a CORS-blocked 404.
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      requested.push(url.pathname);
      const file = join(dir, decodeURIComponent(url.pathname));
      const { existsSync, readFileSync, statSync } = await import('node:fs');
      if (!existsSync(file) || !statSync(file).isFile()) throw new TypeError('Failed to fetch');
      return new Response(init?.method === 'HEAD' ? null : readFileSync(file), { status: 200 });
    }) as typeof fetch;
    const splits = await openVtabTask(new UrlSource('http://data.test/', fetchFn), 'eurosat', { decoder: nodeDecoder, checkImages: false });
    expect(splits.root).toBe('eurosat');
    expect(splits.lists.test.length).toBeGreaterThan(0);
    expect(requested[0]).toBe('/train800.txt'); // the top level was tried first, and failed
  });

  it('a server that never answers is still a named error, not a missing folder', async () => {
    const fetchFn = ((_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))) as typeof fetch;
    const prev = process.env.LAB_FETCH_TIMEOUT_S;
    process.env.LAB_FETCH_TIMEOUT_S = '0.2';
    try {
      await expectLabError(
        openVtabTask(new UrlSource('http://data.test/', fetchFn), 'eurosat', { decoder: nodeDecoder }),
        'data/download-failed',
        'did not answer',
      );
    } finally {
      if (prev === undefined) delete process.env.LAB_FETCH_TIMEOUT_S;
      else process.env.LAB_FETCH_TIMEOUT_S = prev;
    }
  });
});

/**
 * More hostile and broken inputs, each made in a temp dir and given to the CLI a user would run.
 * Each ends with one escaped line naming the problem (exit 1, 2 for usage errors), no stack trace,
 * within a CPU time and a peak memory far below what the input costs unguarded, or, where the
 * input is not wrong, with the outcome a user expects.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DATA_BOUND, MB, TRAIN_BOUND, errorLine, expectBounded, expectNamed, makeFifo, runCli } from './testutil';
import { type RawZipEntry, deflateZeros, makeTempDir, pngWith, writeRawZip, writeVtabFixture, zipFolder } from '../data/fixtures.node';
import { editSafetensors, fixture, FIXTURES, rejectionOf } from '../weights/testutil';

vi.setConfig({ testTimeout: 900_000 });

const tinyModel = join(FIXTURES, 'timm_tiny_model.safetensors');
const timmGolden = join(FIXTURES, 'timm_tiny_golden.safetensors');
const check = (src: string, ...extra: string[]) => runCli('data', ['check', src, '--task', 'eurosat', ...extra]);
const train = (extra: string[], env?: Record<string, string>) =>
  runCli('train', ['--model', tinyModel, '--method', 'ft', '--epochs', '1', '--batch', '4', ...extra], { env });
const procedural = ['--task', 'dsprites_location', '--train-size', '16', '--val-size', '4', '--test-size', '8'];
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
/** A name that would forge a line, clear the screen and set the terminal title if printed raw. */
const EVIL = 'x\nerror [fake]: all is well\r\x1b[2J\x1b]0;pwned\x07';

/** A sweep file (JSON) in a temp dir. */
function sweepFile(json: unknown): string {
  const p = join(makeTempDir(), 'x.sweep.json');
  writeFileSync(p, JSON.stringify(json));
  return p;
}

describe('1.1 terminal injection: every echoed name is escaped and cut', () => {
  it('a tensor name with a newline and ESC, and an 8 MB tensor name (verify)', async () => {
    const dir = makeTempDir();
    const evil = join(dir, 'evil.safetensors');
    writeFileSync(
      evil,
      editSafetensors(fixture('timm_tiny_model.safetensors'), (m) => void m.set(EVIL, { shape: [1], data: new Float32Array(1) })),
    );
    const line = expectNamed(
      await runCli('verify', ['--weights', evil, '--golden', timmGolden]),
      'checkpoint/unexpected-key',
      TRAIN_BOUND,
      'x\\nerror [fake]: all is well\\r\\x1b[2J\\x1b]0;pwned\\x07',
    );
    expect(line).not.toContain('\x1b');
    // Was an 8,000,337-byte error line.
    const long = join(dir, 'long.safetensors');
    writeFileSync(
      long,
      editSafetensors(fixture('timm_tiny_model.safetensors'), (m) => void m.set('k'.repeat(8_000_000), { shape: [1], data: new Float32Array(1) })),
    );
    expectNamed(await runCli('verify', ['--weights', long, '--golden', timmGolden]), 'checkpoint/unexpected-key', TRAIN_BOUND, '(8,000,000 characters)');
  });

  it('a zip entry name, an npz entry name, a data folder file name, a list path', async () => {
    const root = makeTempDir();
    // A data zip holding one oddly named file and no lists: the message lists what it found.
    const zip = join(root, 'evil.zip');
    writeFileSync(zip, writeRawZip([{ name: `a${EVIL}`, data: new Uint8Array(1) }]).bytes);
    expectNamed(await check(zip), 'data/not-vtab-layout', DATA_BOUND, 'ax\\nerror [fake]');
    // An .npz entry that is not an array.
    const npz = join(root, 'evil.npz');
    writeFileSync(npz, writeRawZip([{ name: `${EVIL}.txt`, data: new Uint8Array(1) }]).bytes);
    expectNamed(await runCli('verify', ['--weights', npz, '--golden', timmGolden]), 'checkpoint/not-a-checkpoint', TRAIN_BOUND, 'x\\nerror [fake]');
    // A folder with no lists, holding a file of that name.
    const folder = join(root, 'folder');
    mkdirSync(folder);
    writeFileSync(join(folder, EVIL.replace(/\//g, '')), 'x');
    expectNamed(await check(folder), 'data/not-vtab-layout', DATA_BOUND, 'x\\nerror [fake]');
    // A list line naming a missing image by such a path (\r inside a line stays in the line).
    const dir = writeVtabFixture(join(root, 'lists'));
    writeFileSync(join(dir, 'test.txt'), 'images/\x1b[2Jx\x1b]0;pwned\x07.jpg 1\n');
    expectNamed(await check(join(root, 'lists')), 'data/missing-image', DATA_BOUND, '\\x1b[2J');
  });

  it("a sweep's name is escaped where it is printed (sweep --list)", async () => {
    const run = await runCli('sweep', [sweepFile({ name: EVIL, tasks: ['synth_count'], methods: ['linear'], sizes: [{ train: 64, epochs: 1 }] }), '--list']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('x\\nerror [fake]: all is well');
    // eslint-disable-next-line no-control-regex -- none may reach the terminal
    expect(run.stderr + run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(run.stderr.split('\n').some((l) => l.startsWith('error'))).toBe(false);
    expectBounded(run, 'sweep --list, an escaped name', DATA_BOUND);
  });

  it('a 108 kB --seeds or --grid is not echoed back', async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => String(i)).join(',');
    for (const opt of ['--seeds', '--grid']) {
      const run = await train([...procedural, '--protocol', 'paper', '--out', join(makeTempDir(), 'r.json'), opt, opt === '--grid' ? `lr=${big}` : big]);
      const line = expectNamed(run, 'usage/invalid', TRAIN_BOUND, `${opt} is`, 'characters long');
      expect(run.stderr.length).toBeLessThan(10_000);
      expect(line.length).toBeLessThan(400);
    }
  });
});

describe('1.2 file contents never appear in messages', () => {
  it('study --table and sweep --list on a non-JSON file say where, not what', async () => {
    const dir = makeTempDir();
    const secret = join(dir, 'secret.json');
    writeFileSync(secret, 'SECRET-TOKEN-0123456789 do not print\n');
    const table = expectNamed(await runCli('study', ['--table', secret]), 'config/invalid', DATA_BOUND, 'not valid JSON', 'at byte 0 (line 1, column 1)');
    const sweep = expectNamed(await runCli('sweep', [secret, '--list']), 'config/invalid', DATA_BOUND, 'not valid JSON', 'at byte 0');
    const late = join(dir, 'late.json');
    writeFileSync(late, '{"rows": [1, 2,\n  SECRET-TOKEN]}');
    expectNamed(await runCli('study', ['--table', late]), 'config/invalid', DATA_BOUND, 'at byte 18 (line 2, column 3)');
    for (const line of [table, sweep]) expect(line).not.toContain('SECRET');
  });
});

describe('1.3 outputs never destroy inputs', () => {
  it('train --out or --save-params equal to --model, --out inside the --data folder, a hard link: refused, inputs unchanged', async () => {
    const root = makeTempDir();
    const model = join(root, 'model.safetensors');
    copyFileSync(tinyModel, model);
    const before = sha(model);
    const dataDir = writeVtabFixture(root);
    const list = join(dataDir, 'test.txt');
    const listBefore = sha(list);
    const base = ['--model', model, '--method', 'ft', '--epochs', '1', '--batch', '4'];
    expectNamed(await runCli('train', [...base, ...procedural, '--out', model]), 'output/unwritable', TRAIN_BOUND, '--out', 'is the --model file');
    expectNamed(
      await runCli('train', [...base, ...procedural, '--out', join(root, 'r.json'), '--save-params', model]),
      'output/unwritable',
      TRAIN_BOUND,
      '--save-params',
      'is the --model file',
    );
    expectNamed(
      await runCli('train', [...base, '--task', 'eurosat', '--data', root, '--out', list]),
      'output/unwritable',
      TRAIN_BOUND,
      'lies inside the --data folder',
    );
    const hard = join(root, 'hard.json');
    linkSync(model, hard);
    expectNamed(await runCli('train', [...base, ...procedural, '--out', hard]), 'output/unwritable', TRAIN_BOUND, 'is the --model file');
    expect(sha(model)).toBe(before);
    expect(sha(list)).toBe(listBefore);
    // A good run writes its results whole (a temporary file renamed): none is left behind.
    const ok = await runCli('train', [...base, ...procedural, '--out', join(root, 'ok.json')]);
    expect(ok.code, ok.stderr.slice(-1500)).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'ok.json'), 'utf8')).status).toBe('done');
    expectBounded(ok, 'train, results written atomically', TRAIN_BOUND);
    expect(readdirSync(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('study --out, sweep --results, size --json and data example refuse to write over an input', async () => {
    const root = makeTempDir();
    const model = join(root, 'model.safetensors');
    copyFileSync(tinyModel, model);
    expectNamed(await runCli('study', ['--model', model, '--out', model]), 'output/unwritable', TRAIN_BOUND, 'is the --model file');
    const dataDir = writeVtabFixture(join(root, 'data'));
    const sweep = sweepFile({ tasks: ['eurosat'], methods: ['linear'], sizes: [{ train: 800, epochs: 1 }], data: { path: join(root, 'data') } });
    expectNamed(
      await runCli('sweep', [sweep, '--list', '--results', join(dataDir, 'results')]),
      'output/unwritable',
      DATA_BOUND,
      '--results',
      'lies inside the data folder',
    );
    const site = join(root, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), '<!doctype html>');
    expectNamed(await runCli('size', ['--dir', site, '--json', join(site, 'index.html')]), 'output/unwritable', DATA_BOUND, 'lies inside the --dir folder');
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toBe('<!doctype html>');
    const listBefore = sha(join(dataDir, 'test.txt'));
    expectNamed(await runCli('data', ['example', join(root, 'data')]), 'output/unwritable', DATA_BOUND, 'already exists');
    expect(sha(join(dataDir, 'test.txt'))).toBe(listBefore);
  });

  it('a link to the model as train --out; defaults --out that is corrupt or not a defaults file is refused, not replaced', async () => {
    const root = makeTempDir();
    const model = join(root, 'model.safetensors');
    copyFileSync(tinyModel, model);
    const before = sha(model);
    const link = join(root, 'link.json');
    symlinkSync(model, link);
    expectNamed(
      await runCli('train', ['--model', model, '--method', 'ft', '--epochs', '1', '--batch', '4', ...procedural, '--out', link]),
      'output/unwritable',
      TRAIN_BOUND,
      'is the --model file',
    );
    expect(sha(model)).toBe(before);
    // The defaults file holds every bundled model's entries: one that cannot be read was once
    // replaced by a file holding only the measured model's (written in place, not atomically).
    const corrupt = join(root, 'defaults.json');
    writeFileSync(corrupt, '{"models": {"other": {}}, SECRET-TOKEN');
    const line = expectNamed(
      await runCli('defaults', ['--model', 'tiny_pretrained', '--out', corrupt]),
      'config/invalid',
      DATA_BOUND,
      'not valid JSON',
      'at byte 26',
    );
    expect(line).not.toContain('SECRET');
    expect(readFileSync(corrupt, 'utf8')).toBe('{"models": {"other": {}}, SECRET-TOKEN');
    const notDefaults = join(root, 'array.json');
    writeFileSync(notDefaults, '[1]');
    expectNamed(await runCli('defaults', ['--model', 'tiny_pretrained', '--out', notDefaults]), 'config/invalid', DATA_BOUND, 'not a defaults file');
    expectNamed(await runCli('defaults', ['--model', 'tiny_pretrained', '--out', root]), 'output/unwritable', DATA_BOUND, 'it is a folder');
  });
});

describe('2.1 only regular files are read', () => {
  it('/dev/zero and a named pipe as verify --weights, train --load-params, study --table', async () => {
    const fifo = join(makeTempDir(), 'pipe');
    makeFifo(fifo);
    for (const [path, what] of [
      ['/dev/zero', 'a device'],
      [fifo, 'a named pipe'],
    ] as const) {
      expectNamed(await runCli('verify', ['--weights', path, '--golden', timmGolden]), 'checkpoint/unreadable', TRAIN_BOUND, `is ${what}`);
      expectNamed(
        await train([...procedural, '--load-params', path, '--out', join(makeTempDir(), 'r.json')]),
        'checkpoint/unreadable',
        TRAIN_BOUND,
        `it is ${what}`,
      );
      expectNamed(await runCli('study', ['--table', path]), 'config/invalid', DATA_BOUND, `it is ${what}`);
    }
  });

  it('the other file arguments: verify --golden, train --model, a sweep file, a data source, defaults --out', async () => {
    const dir = makeTempDir();
    const fifo = join(dir, 'pipe.zip');
    makeFifo(fifo);
    const zeroLink = join(dir, 'zero.zip');
    symlinkSync('/dev/zero', zeroLink);
    for (const [path, what] of [
      ['/dev/zero', 'a device'],
      [fifo, 'a named pipe'],
      [zeroLink, 'a device'],
    ] as const) {
      expectNamed(await runCli('verify', ['--weights', tinyModel, '--golden', path]), 'checkpoint/unreadable', TRAIN_BOUND, `is ${what}`);
      expectNamed(
        await runCli('train', ['--model', path, '--method', 'linear', ...procedural, '--out', join(makeTempDir(), 'r.json')]),
        'checkpoint/unreadable',
        TRAIN_BOUND,
        `is ${what}`,
      );
      expectNamed(await runCli('sweep', [path, '--list']), 'config/invalid', DATA_BOUND, `it is ${what}`);
      expectNamed(await check(path), 'data/not-a-file', DATA_BOUND, `is ${what}`);
      expectNamed(await runCli('defaults', ['--model', 'tiny_pretrained', '--out', path]), 'output/unwritable', DATA_BOUND, 'not a regular file');
    }
  });
});

describe('2.2 every download has a connection timeout, an idle timeout and a byte bound', () => {
  let server: Server;
  let base = '';
  const open = new Set<ServerResponse>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      open.add(res);
      res.on('close', () => open.delete(res));
      if (req.url?.startsWith('/silent')) return; // never answers
      if (req.url === '/endless.zip') {
        // No Content-Length, zeros for ever (until the client hangs up).
        res.writeHead(200);
        const chunk = Buffer.alloc(1 << 20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      if (req.url === '/stall.safetensors') {
        res.writeHead(200, { 'Content-Length': String(1_000_000) });
        res.write(Buffer.alloc(1000)); // then nothing
        return;
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    for (const r of open) r.destroy();
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const env = { LAB_FETCH_TIMEOUT_S: '2', LAB_MAX_ZIP_DOWNLOAD_MB: '50' };

  it('data check: a server that never answers, a zip that streams without end', async () => {
    const silent = await runCli('data', ['check', `${base}/silent/`, '--task', 'eurosat'], { env });
    expectNamed(silent, 'data/download-failed', DATA_BOUND, '/silent/', 'did not answer within 2 s');
    const endless = await runCli('data', ['check', `${base}/endless.zip`, '--task', 'eurosat'], { env });
    expectNamed(endless, 'data/download-failed', DATA_BOUND, 'endless.zip', 'larger than the 50.0 MB');
  });

  it("the page's and the CLI's fetches (UrlSource, fetchAndOpen): no answer, a stalled body, an endless body", async () => {
    // The same code runs in the page's worker; Node's fetch stands in for the browser's here.
    const before = process.env.LAB_FETCH_TIMEOUT_S;
    process.env.LAB_FETCH_TIMEOUT_S = '2';
    try {
      const { UrlSource } = await import('../data/source');
      const { fetchCheckpoint } = await import('../weights/sources');
      const t0 = performance.now();
      const a = await rejectionOf(new UrlSource(`${base}/silent`).read('x.txt'));
      expect([a.code, a.message]).toEqual(['data/download-failed', expect.stringContaining('did not answer within 2 s')]);
      const b = await rejectionOf(fetchCheckpoint(`${base}/silent.safetensors`));
      expect([b.code, b.message]).toEqual(['checkpoint/download-failed', expect.stringContaining('did not answer within 2 s')]);
      const c = await rejectionOf(fetchCheckpoint(`${base}/stall.safetensors`));
      expect([c.code, c.message]).toEqual(['checkpoint/download-incomplete', expect.stringContaining('no data for 2 s')]);
      // A data file that streams without end stops at the page's bound for one data file (128 MiB).
      const d = await rejectionOf(new UrlSource(base).read('endless.zip'));
      expect([d.code, d.message]).toEqual(['data/entry-too-large', expect.stringContaining('more than a data file can be')]);
      expect(performance.now() - t0).toBeLessThan(60_000);
    } finally {
      if (before === undefined) delete process.env.LAB_FETCH_TIMEOUT_S;
      else process.env.LAB_FETCH_TIMEOUT_S = before;
    }
  });
});

describe('2.3 a PNG inflate is bounded by the size its header declares', () => {
  it('an interlaced 1 x 1 PNG whose IDAT inflates to 1.5 GB is refused at the bound, not after inflating it', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    const zlib = new Uint8Array([0x78, 0x01, ...deflateZeros(1_500_000_000), 0, 0, 0, 0]);
    writeFileSync(join(dir, 'images', 'train', '0003.jpg'), pngWith({ width: 1, height: 1, depth: 8, colour: 6, interlace: 1 }, zlib));
    expectNamed(await check(root), 'data/bad-image', DATA_BOUND, 'inflates to more than the', '1 × 1');
  });
});

describe('2.4 entry counts are bounded before the entries are read', () => {
  it('an .npz of 100,000 empty entries; a data zip of 400,000', async () => {
    const root = makeTempDir();
    const npz = join(root, 'many.npz');
    writeFileSync(npz, writeRawZip(Array.from({ length: 100_000 }, (_, i) => ({ name: `a${i}.npy`, data: new Uint8Array(0) }))).bytes);
    expectNamed(await runCli('verify', ['--weights', npz, '--golden', timmGolden]), 'checkpoint/bad-header', TRAIN_BOUND, 'declares 100,000 entries', '10,000');
    const zip = join(root, 'many.zip');
    const entries: RawZipEntry[] = Array.from({ length: 400_000 }, (_, i) => ({ name: `eurosat/images/train/${i}.jpg`, data: new Uint8Array(0) }));
    writeFileSync(zip, writeRawZip(entries).bytes);
    expectNamed(await check(zip), 'data/not-a-zip', DATA_BOUND, 'declares 400,000 entries', '250,000');
  });
});

describe('2.5 data check and sweep --list are linear, grids and seed counts bounded', () => {
  it('a 999,999-line list with missing images (the check stays linear in the lines)', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    const lines = Array.from({ length: 999_999 }, (_, i) => `images/test/missing-${i}.jpg ${i % 10}`);
    writeFileSync(join(dir, 'test.txt'), lines.join('\n') + '\n');
    expectNamed(await check(root), 'data/missing-image', { cpuMs: 30_000, bytes: 1200 * MB }, 'missing-0.jpg', 'test.txt" line 1');
  });

  it('100,000 seeds, 60,000 sizes, a 250-point grid and 120,000 cells are refused at once; 90,000 cells list fast', async () => {
    const base = { tasks: ['synth_count'], methods: ['linear'] };
    const seeds = await runCli('sweep', [
      sweepFile({ ...base, sizes: [{ train: 64, epochs: 1 }], seeds: Array.from({ length: 100_000 }, (_, i) => i) }),
      '--list',
    ]);
    expectNamed(seeds, 'config/invalid', DATA_BOUND, 'at seeds');
    const sizes = Array.from({ length: 60_000 }, (_, i) => ({ train: 8 + (i % 19000), epochs: 1 + Math.floor(i / 19000) }));
    expectNamed(await runCli('sweep', [sweepFile({ ...base, sizes }), '--list']), 'config/invalid', DATA_BOUND, 'at sizes');
    // lr=1,2,...,250: 894 characters (under the schema's 1,000), 250 points (over 200).
    const grid = `lr=${Array.from({ length: 250 }, (_, i) => i + 1).join(',')}`;
    expectNamed(
      await runCli('sweep', [sweepFile({ ...base, sizes: [{ train: 64, epochs: 1 }], protocol: { kind: 'paper', grid } }), '--list']),
      'config/invalid',
      DATA_BOUND,
      'has 250 points',
    );
    const tooMany = { tasks: ['synth_count', 'synth_shapes'], methods: ['linear', 'ft', 'vpt_deep', 'vpt_shallow', 'mixed', 'ft_then_pt'] };
    const hundred = Array.from({ length: 100 }, (_, i) => ({ train: 8 + i, epochs: 1 }));
    expectNamed(
      await runCli('sweep', [sweepFile({ ...tooMany, sizes: hundred, seeds: 100 }), '--list']),
      'config/invalid',
      DATA_BOUND,
      '120,000 cells',
      '100,000',
    );
    // 3 tasks × 100 sizes × 3 methods × 100 seeds = 90,000 cells, each listed (also 8 MB of piped stdout, all of it).
    const ok = await runCli('sweep', [
      sweepFile({ tasks: ['synth_count', 'synth_shapes', 'clevr_like_count'], methods: ['linear', 'ft', 'vpt_deep'], sizes: hundred, seeds: 100 }),
      '--list',
      '--results',
      makeTempDir(),
    ]);
    expect(ok.code, ok.stderr.slice(-1000)).toBe(0);
    expect(ok.stdout.trimEnd().split('\n').length).toBe(90_000);
    expectBounded(ok, 'sweep --list of 90,000 cells', { cpuMs: 60_000, bytes: 900 * MB });
  });
});

describe('2.6 numeric options: documented ranges, decimal integers, given once', () => {
  it('--test-size 1e8 / 1e12 (a V8 heap OOM, "Invalid array length"), 0x2, 0b100, a repeated option', async () => {
    const base = [
      '--model',
      tinyModel,
      '--method',
      'ft',
      '--task',
      'dsprites_location',
      '--train-size',
      '16',
      '--val-size',
      '4',
      '--out',
      join(makeTempDir(), 'r.json'),
    ];
    for (const [opt, value, fragment] of [
      ['--test-size', '1e8', 'from 0 to 100,000'],
      ['--test-size', '1e12', 'from 0 to 100,000'],
      ['--test-size', '100001', 'from 0 to 100,000'],
      ['--epochs', '0x2', 'decimal digits'],
      ['--batch', '0b100', 'decimal digits'],
      ['--seed', '99999999999', 'to 2,147,483,647'],
      ['--lr', '0x10', 'positive number'],
    ] as const) {
      expectNamed(await runCli('train', [...base, opt, value]), 'usage/invalid', TRAIN_BOUND, opt, fragment);
    }
    expectNamed(await runCli('train', [...base, '--epochs', '1', '--epochs', '2']), 'usage/invalid', TRAIN_BOUND, '--epochs is given more than once');
  });
});

describe('2.7 large images are decoded one at a time', () => {
  it('eight 7000 × 7000 test images in data check, decoded one at a time', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    // 8-bit greyscale, all zero: small files that each decode to 196 MB of RGBA. Decode workers
    // that each kept their last image alive would hold 1.2-1.5 GB; one image at a time, about 0.4 GB.
    const png = pngWith({ width: 7000, height: 7000, depth: 8, colour: 0, interlace: 0 }, deflateSync(Buffer.alloc(7001 * 7000)));
    const names = Array.from({ length: 8 }, (_, i) => `images/test/big${i}.png`);
    for (const n of names) writeFileSync(join(dir, n), png);
    writeFileSync(join(dir, 'test.txt'), names.map((n, i) => `${n} ${i}`).join('\n') + '\n');
    const run = await check(root);
    expect(run.code, run.stderr.slice(-1500)).toBe(0);
    expect(run.stdout).toContain('all valid');
    expectBounded(run, 'data check, eight 49-megapixel images', { cpuMs: 90_000, bytes: 900 * MB });
  });
});

describe('3.1 verify never passes a non-finite value', () => {
  it('a golden grad/head.weight of +Inf is FAIL, never an infinite error read as ok', async () => {
    const p = join(makeTempDir(), 'inf.safetensors');
    writeFileSync(
      p,
      editSafetensors(fixture('timm_tiny_golden.safetensors'), (m) => void m.get('grad/head.weight')!.data.fill(Infinity)),
    );
    const run = await runCli('verify', ['--weights', tinyModel, '--golden', p]);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    const row = run.stdout.split('\n').find((l) => l.startsWith('grad/head.weight'));
    expect(row).toContain('FAIL');
    expect(row).toContain('non-finite expected value(s)');
    expect(run.stdout).toMatch(/verify: \d+ tensors, worst Infinity .* FAIL/);
    expectBounded(run, 'verify, an infinite golden value', TRAIN_BOUND);
  });

  it('computed values that overflow (golden pixels of 3e38, finite themselves) are FAIL, not compared', async () => {
    const p = join(makeTempDir(), 'huge-pixels.safetensors');
    writeFileSync(
      p,
      editSafetensors(fixture('timm_tiny_golden.safetensors'), (m) => void m.get('pixel_values')!.data.fill(3e38)),
    );
    const run = await runCli('verify', ['--weights', tinyModel, '--golden', p]);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    const row = run.stdout.split('\n').find((l) => l.startsWith('grad/head.weight'));
    expect(row).toContain('FAIL');
    expect(row).toContain('non-finite computed value(s)');
    expect(run.stdout).not.toMatch(/ PASS\s*$/m);
    expect(run.stdout).toMatch(/verify: \d+ tensors, worst Infinity .* FAIL/);
    expectBounded(run, 'verify, non-finite computed values', TRAIN_BOUND);
  });
});

describe('3.2 a test image in a training list is a named error', () => {
  it('test.txt made of train800.txt lines: data check and train', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    writeFileSync(join(dir, 'test.txt'), readFileSync(join(dir, 'train800.txt')));
    expectNamed(await check(root), 'data/split-overlap', DATA_BOUND, 'train800.txt', 'share 10 image(s)');
    expectNamed(await train(['--task', 'eurosat', '--data', root, '--out', join(makeTempDir(), 'r.json')]), 'data/split-overlap', TRAIN_BOUND, 'test accuracy');
  });
});

describe('3.3 the results record the real list lengths', () => {
  it('train800.txt with 16 lines and val200.txt with 4: trainSize 16, valSize 4, and a notice', async () => {
    const root = makeTempDir();
    writeVtabFixture(root, { train: 16, val: 4, test: 6 });
    const out = join(makeTempDir(), 'r.json');
    const run = await train(['--task', 'eurosat', '--data', root, '--out', out]);
    expect(run.code, run.stderr.slice(-1500)).toBe(0);
    const r = JSON.parse(readFileSync(out, 'utf8'));
    expect([r.config.trainSize, r.config.valSize]).toEqual([16, 4]);
    expect(r.config.requested).toEqual({ trainSize: 800, valSize: 200 });
    expect(run.stderr).toContain('"eurosat/train800.txt" lists 16 image(s), fewer than the 800 its name says');
    expectBounded(run, 'train, short lists', TRAIN_BOUND);
  });
});

describe('3.4 a run that could not mean what it says is refused', () => {
  it('vpt_deep --prompt-length 0 (trained as a linear probe), --val-size 0 (val acc NaN%)', async () => {
    const out = ['--out', join(makeTempDir(), 'r.json')];
    expectNamed(
      await runCli('train', ['--model', tinyModel, '--method', 'vpt_deep', ...procedural, '--prompt-length', '0', ...out]),
      'usage/invalid',
      TRAIN_BOUND,
      '--prompt-length',
      'from 1',
    );
    expectNamed(
      await runCli('train', ['--model', tinyModel, '--method', 'linear', ...procedural, '--prompt-length', '4', ...out]),
      'usage/invalid',
      TRAIN_BOUND,
      'linear has none',
    );
    expectNamed(
      await train(['--task', 'dsprites_location', '--train-size', '16', '--val-size', '0', ...out]),
      'usage/invalid',
      TRAIN_BOUND,
      '--val-size',
      'from 1',
    );
  });
});

describe('3.5 config and method names', () => {
  const withConfig = (edit: (cfg: Record<string, unknown>) => void) => {
    const p = join(makeTempDir(), 'm.safetensors');
    writeFileSync(
      p,
      editSafetensors(fixture('timm_tiny_model.safetensors'), (_m, meta) => {
        const cfg = JSON.parse(meta.config!) as Record<string, unknown>;
        edit(cfg);
        meta.config = JSON.stringify(cfg);
      }),
    );
    return p;
  };

  it('mean of 2 values, std as strings (trained with the defaults), in_chans 1 (error [internal])', async () => {
    const out = ['--out', join(makeTempDir(), 'r.json')];
    for (const [edit, fragment] of [
      [(c: Record<string, unknown>) => void (c.mean = [0.5, 0.5]), 'mean is [0.5,0.5]'],
      [(c: Record<string, unknown>) => void (c.std = ['0.5', '0.5', '0.5']), 'std is ["0.5","0.5","0.5"]'],
      [(c: Record<string, unknown>) => void (c.in_chans = 1), '1 input channel(s)'],
    ] as const) {
      expectNamed(await runCli('train', ['--model', withConfig(edit), '--method', 'linear', ...procedural, ...out]), 'config/invalid', TRAIN_BOUND, fragment);
    }
  });

  it('--method constructor, toString, __proto__ are usage errors', async () => {
    for (const m of ['constructor', 'toString', '__proto__'])
      expectNamed(
        await runCli('train', ['--model', tinyModel, '--method', m, ...procedural]),
        'usage/invalid',
        TRAIN_BOUND,
        `--method must be one of`,
        `"${m}"`,
      );
  });
});

describe('3.6 a tiny checkpoint std is named as the cause', () => {
  it('std 1e-40 is named as the checkpoint’s normalisation, not as a run that diverged', async () => {
    const p = join(makeTempDir(), 'm.safetensors');
    writeFileSync(
      p,
      editSafetensors(fixture('timm_tiny_model.safetensors'), (_m, meta) => {
        meta.config = JSON.stringify({ ...JSON.parse(meta.config!), std: [1e-40, 1e-40, 1e-40] });
      }),
    );
    const line = expectNamed(
      await runCli('train', ['--model', p, '--method', 'ft', '--epochs', '1', ...procedural, '--out', join(makeTempDir(), 'r.json')]),
      'config/invalid',
      TRAIN_BOUND,
      'normalisation std',
      '1e-40',
    );
    expect(line).not.toContain('learning rate');
  });
});

describe('3.7 ambiguous entries are refused', () => {
  it('a data zip with x and ./x or x twice, an npz with x twice or x and ./x, an .npy header with descr twice', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(join(root, 'src'));
    const files = unzipSync(await zipFolder(dir));
    const entries: RawZipEntry[] = Object.entries(files).map(([name, data]) => ({ name, data }));
    const zip = join(root, 'dup.zip');
    writeFileSync(zip, writeRawZip([...entries, { name: './eurosat/test.txt', data: new TextEncoder().encode('images/train/0001.jpg 1\n') }]).bytes);
    expectNamed(await check(zip), 'data/not-a-zip', DATA_BOUND, 'two entries for "eurosat/test.txt"', '"./eurosat/test.txt"', 'ambiguous');

    const npzEntries = Object.entries(unzipSync(fixture('timm_tiny_google.npz'))).map(([name, data]) => ({ name, data }));
    const dupNpz = join(root, 'dup.npz');
    writeFileSync(dupNpz, writeRawZip([...npzEntries, { name: npzEntries[0]!.name, data: npzEntries[0]!.data }]).bytes);
    expectNamed(await runCli('verify', ['--weights', dupNpz, '--golden', timmGolden]), 'checkpoint/bad-header', TRAIN_BOUND, 'two entries', 'ambiguous');
    const dotNpz = join(root, 'dot.npz');
    writeFileSync(dotNpz, writeRawZip([...npzEntries, { name: `./${npzEntries[0]!.name}`, data: npzEntries[0]!.data }]).bytes);
    expectNamed(await runCli('verify', ['--weights', dotNpz, '--golden', timmGolden]), 'checkpoint/bad-header', TRAIN_BOUND, 'two entries', 'ambiguous');
    const twice = join(root, 'twice.zip');
    writeFileSync(twice, writeRawZip([...entries, { name: 'eurosat/test.txt', data: new TextEncoder().encode('images/train/0001.jpg 1\n') }]).bytes);
    expectNamed(await check(twice), 'data/not-a-zip', DATA_BOUND, 'two entries for "eurosat/test.txt"', 'ambiguous');

    // numpy's header with descr given twice: one reader would take '<f4', another '>f8'.
    const cls = npzEntries.find((e) => e.name === 'cls.npy')!;
    const dict = "{'descr': '<f4', 'descr': '>f8', 'fortran_order': False, 'shape': (1, 1, 48), }";
    const header = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 11) + '\n';
    const npy = new Uint8Array(10 + header.length + 48 * 4);
    npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    npy.set(new TextEncoder().encode(header), 10);
    expect(cls).toBeDefined();
    const descrNpz = join(root, 'descr.npz');
    writeFileSync(descrNpz, writeRawZip(npzEntries.map((e) => (e.name === 'cls.npy' ? { name: e.name, data: npy } : e))).bytes);
    expectNamed(
      await runCli('verify', ['--weights', descrNpz, '--golden', timmGolden]),
      'checkpoint/bad-header',
      TRAIN_BOUND,
      "gives 'descr' twice",
      'ambiguous',
    );
  });
});

describe('3.8 messages that misled', () => {
  it('a zip with "../" names is not a "truncated download?"', async () => {
    const zip = join(makeTempDir(), 'up.zip');
    writeFileSync(zip, writeRawZip([{ name: '../../evil.txt', data: new Uint8Array(1) }]).bytes);
    const line = expectNamed(await check(zip), 'data/outside-source', DATA_BOUND, '"../../evil.txt"', 'leads out of the zip');
    expect(line).not.toContain('truncated');
  });

  it('--skip-bad with every test label bad does not say "test.txt is missing"', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    const test = readFileSync(join(dir, 'test.txt'), 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'test.txt'), test.map((l) => l.replace(/\d+$/, '99')).join('\n') + '\n');
    const line = expectNamed(await check(root, '--skip-bad'), 'data/too-few-items', DATA_BOUND, 'test.txt', 'every line was skipped');
    expect(line).not.toContain('missing');
  });

  it('a named pipe, a folder, a link to /dev/zero, a loop of links as a list or an image is named for what it is', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    const testList = readFileSync(join(dir, 'test.txt'));
    const img = join(dir, 'images', 'train', '0001.jpg');
    rmSync(img);
    makeFifo(img);
    expectNamed(await check(root), 'data/not-a-file', DATA_BOUND, 'images/train/0001.jpg', 'a named pipe');
    rmSync(img);
    mkdirSync(img);
    expectNamed(await check(root), 'data/not-a-file', DATA_BOUND, 'a folder');
    rmSync(img, { recursive: true });
    symlinkSync('/dev/zero', img);
    expectNamed(await check(root), 'data/outside-source', DATA_BOUND, 'a link to "/dev/zero"');
    rmSync(img);
    writeFileSync(img, '');
    rmSync(join(dir, 'test.txt'));
    makeFifo(join(dir, 'test.txt'));
    expectNamed(await check(root), 'data/not-a-file', DATA_BOUND, 'test.txt', 'a named pipe');
    rmSync(join(dir, 'test.txt'));
    mkdirSync(join(dir, 'test.txt'));
    expectNamed(await check(root), 'data/not-a-file', DATA_BOUND, 'test.txt', 'a folder');
    rmSync(join(dir, 'test.txt'), { recursive: true });
    symlinkSync('/dev/zero', join(dir, 'test.txt'));
    const zero = expectNamed(await check(root), 'data/outside-source', DATA_BOUND, 'test.txt', 'a link to "/dev/zero"');
    expect(zero).not.toContain('missing');
    // A link that leads back to itself, as the list and as an image (was "missing" for both).
    rmSync(join(dir, 'test.txt'));
    symlinkSync(join(dir, 'test.txt'), join(dir, 'test.txt'));
    expectNamed(await check(root), 'data/not-a-file', DATA_BOUND, 'test.txt', 'a loop of links');
    rmSync(join(dir, 'test.txt'));
    writeFileSync(join(dir, 'test.txt'), testList);
    rmSync(img);
    symlinkSync(img, img);
    expectNamed(await check(root), 'data/not-a-file', DATA_BOUND, 'images/train/0001.jpg', 'a loop of links');
  });

  it('a 900 MB sweep file is refused from its size, before it is read', async () => {
    const p = join(makeTempDir(), 'huge.sweep.json');
    writeFileSync(p, '{');
    truncateSync(p, 900_000_000); // sparse: no disk, no time
    expectNamed(await runCli('sweep', [p, '--list']), 'config/invalid', DATA_BOUND, 'it is 900.0 MB', 'more than the 16.8 MB');
    rmSync(p);
  });

  it('piped stderr is not cut at 64-128 kB: every warning line arrives', async () => {
    // A Playwright report with 4,000 results of one cell that disagree: one warning per repeat.
    const cell = (acc: number) =>
      Buffer.from(
        JSON.stringify({
          model: 'm',
          rows: [{ taskId: 'synth_count', method: 'linear', trainSize: 64, seed: 0, testAcc: acc, valAcc: acc, epochs: 1, seconds: 1, trainableParams: 1 }],
          frechet: {},
          sweep: { version: 1, sweep: 's', hash: 'abc', title: 'synth_count linear n=64 1 ep seed 0', backend: 'wasm', seconds: 1, finishedAt: '', curves: [] },
        }),
      ).toString('base64');
    const attachments = Array.from({ length: 4000 }, (_, i) => ({ name: 'sweep-cell', body: cell(i / 100) }));
    const report = join(makeTempDir(), 'report.json');
    writeFileSync(report, JSON.stringify({ config: {}, suites: [{ specs: [{ title: 't', tests: [{ results: [{ attachments }] }] }] }] }));
    const run = await runCli('study', ['--table', report]);
    expect(run.code, errorLine(run)).toBe(0);
    expect(run.stderr.length).toBeGreaterThan(200_000);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('warning: cell')).length).toBe(3999);
    expect(run.stdout).toContain('| synth_count |');
    expectBounded(run, 'study --table, 3,999 warnings piped', DATA_BOUND);
  });
});

// The inputs above are what they claim (so a test cannot pass on a mis-made file).
describe('the hostile inputs are what they claim', () => {
  it('the PNG bomb inflates to 1.5 GB; the npz holds 100,000 entries a zip reader can list', async () => {
    const { createInflateRaw } = await import('node:zlib');
    const n = await new Promise<number>((resolve, reject) => {
      let total = 0;
      const inf = createInflateRaw({ chunkSize: 1 << 20 });
      inf.on('data', (c: Buffer) => void (total += c.length));
      inf.on('end', () => resolve(total));
      inf.on('error', reject);
      inf.end(deflateZeros(1_500_000_000));
    });
    expect(n).toBe(1_500_000_000);
    // zip.js lists the zip64 fixture's entries one at a time (keeping none).
    const { ZipReader, Uint8ArrayReader } = await import('@zip.js/zip.js');
    const bytes = writeRawZip(Array.from({ length: 100_000 }, (_, i) => ({ name: `a${i}.npy`, data: new Uint8Array(0) }))).bytes;
    let count = 0;
    for await (const e of new ZipReader(new Uint8ArrayReader(bytes), { useWebWorkers: false }).getEntriesGenerator()) if (e.filename.endsWith('.npy')) count++;
    expect(count).toBe(100_000);
  });
});

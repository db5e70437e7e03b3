/**
 * Hostile or broken inputs (pixel and zip bombs, truncated and lying files), made in a temp dir and
 * given to the CLI a user would run. Each must end with one line naming the problem
 * (`error [<code>]: ...`), no stack trace, exit 1 (2 for usage errors), within a CPU time and a
 * peak memory far below what decoding such an input unguarded costs (a minute and gigabytes).
 */
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it, vi } from 'vitest';
import { type CliRun, errorLine, runCli } from './testutil';
import {
  type RawZipEntry,
  concat,
  deflateZeros,
  jpegDeclaring,
  makeTempDir,
  npyBytes,
  storedBlock,
  writeRawZip,
  writeVtabFixture,
  zipFolder,
} from '../data/fixtures.node';
import { editSafetensors, fixture, FIXTURES } from '../weights/testutil';

// Several CLI runs per test; on a busy 2-core CI machine each can wait long for a core.
vi.setConfig({ testTimeout: 900_000 });

const MB = 1e6;
/**
 * Bounds for a CLI that reads data only, and for one that loads tfjs and a model: CPU time of the
 * CLI process (on a quiet machine the data CLIs spend 1-3 s, train and verify 3-8 s; wall time on
 * a shared CI machine depends on the neighbours) and its peak resident memory.
 */
const DATA = { cpuMs: 20_000, bytes: 400 * MB };
const TRAIN = { cpuMs: 40_000, bytes: 900 * MB };

function expectNamed(run: CliRun, code: string, bound: { cpuMs: number; bytes: number }, ...fragments: string[]): string {
  const line = errorLine(run);
  expect(line, run.stderr.slice(-2000)).toContain(code.endsWith('/') ? `[${code}` : `[${code}]`);
  for (const f of fragments) expect(line).toContain(f);
  expect(run.code).toBe(code.startsWith('usage/') ? 2 : 1);
  expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  expect(run.stderr.split('\n').filter((l) => l.startsWith('error')).length).toBe(1);
  expect(line.length).toBeLessThan(1500);
  console.log(`${code}: ${(run.cpuMs / 1000).toFixed(1)} s CPU, ${(run.ms / 1000).toFixed(1)} s wall, peak ${(run.peakBytes / MB).toFixed(0)} MB`);
  expect(run.cpuMs).toBeLessThan(bound.cpuMs);
  expect(run.peakBytes).toBeLessThan(bound.bytes);
  return line;
}

const tinyModel = join(FIXTURES, 'timm_tiny_model.safetensors');
const train = (extra: string[]) => runCli('train', ['--model', tinyModel, '--method', 'ft', '--epochs', '1', '--batch', '4', ...extra]);
const check = (src: string, task = 'eurosat', ...extra: string[]) => runCli('data', ['check', src, '--task', task, ...extra]);

describe('1. image pixel bombs are refused from the header', () => {
  it('a 66-byte PNG declaring 30000 x 30000: data check and train', async () => {
    const root = makeTempDir();
    writeVtabFixture(root, { breakage: 'pixel-bomb' });
    expectNamed(await check(root), 'data/image-too-large', DATA, '30000 × 30000', 'eurosat/train800.txt" line 4', '50 megapixels');
    // Outputs go outside the data folder (the lab refuses to write into one it reads).
    const out = join(makeTempDir(), 'r.json');
    expectNamed(await train(['--task', 'eurosat', '--data', root, '--out', out]), 'data/image-too-large', TRAIN, '30000 × 30000');
  });

  it('a real JPEG whose frame header declares 10000 x 10000', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    writeFileSync(join(dir, 'images', 'test', '0002.jpg'), jpegDeclaring(10000, 10000));
    expectNamed(await check(root), 'data/image-too-large', DATA, '10000 × 10000', 'test.txt" line 3');
  });
});

/** The fixture .npz with one entry replaced: its directory declares 2 GB and its deflate stream really inflates to 2 GB. */
function npzWithBomb(): string {
  const entries = unzipSync(fixture('timm_tiny_google.npz'));
  const head = npyBytes([1, 1, 48], new Uint8Array(0));
  const size = 2 ** 31;
  const raw: RawZipEntry[] = Object.entries(entries).map(([name, data]) =>
    name === 'cls.npy' ? { name, data: concat([storedBlock(head), deflateZeros(size - head.length)]), method: 8, declaredSize: size } : { name, data },
  );
  const p = join(makeTempDir(), 'bomb.npz');
  writeFileSync(p, writeRawZip(raw).bytes);
  return p;
}

describe('2. an npz entry that inflates to 2 GB behind a 320-byte array', () => {
  it('is refused from its declared size before it inflates: verify and train', async () => {
    const p = npzWithBomb();
    const golden = join(FIXTURES, 'timm_tiny_golden.safetensors');
    expectNamed(
      await runCli('verify', ['--weights', p, '--golden', golden]),
      'checkpoint/bad-header',
      TRAIN,
      "entry 'cls.npy'",
      'declares 2147483648 bytes',
      'needs 320',
    );
    expectNamed(
      await runCli('train', [
        '--model',
        p,
        '--task',
        'dsprites_location',
        '--method',
        'linear',
        '--epochs',
        '1',
        '--train-size',
        '64',
        '--out',
        join(makeTempDir(), 'r.json'),
      ]),
      'checkpoint/bad-header',
      TRAIN,
      'declares 2147483648 bytes',
    );
  });
});

describe('3. list-file bombs', () => {
  it('a zip whose test.txt inflates to 640 MB (declared, or hidden behind a small declared size)', async () => {
    const dir = writeVtabFixture(makeTempDir());
    const files = unzipSync(await zipFolder(dir));
    const base = Object.entries(files)
      .filter(([n]) => n !== 'eurosat/test.txt')
      .map(([name, data]) => ({ name, data }));
    const bomb = deflateZeros(640_000_000);
    const root = makeTempDir();
    const declared = join(root, 'declared.zip');
    writeFileSync(declared, writeRawZip([...base, { name: 'eurosat/test.txt', data: bomb, method: 8, declaredSize: 640_000_000 }]).bytes);
    expectNamed(await check(declared), 'data/list-too-large', DATA, 'test.txt', '640.0 MB');
    const hidden = join(root, 'hidden.zip');
    writeFileSync(hidden, writeRawZip([...base, { name: 'eurosat/test.txt', data: bomb, method: 8, declaredSize: 1000 }]).bytes);
    expectNamed(await check(hidden), 'data/not-a-zip', DATA, 'eurosat/test.txt', 'inflates to more than the 1.0 kB');
  });

  it('a list of 8 million lines', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    writeFileSync(join(dir, 'test.txt'), Buffer.alloc(8_000_000 * 4, 'a 0\n'));
    expectNamed(await check(root), 'data/list-too-large', DATA, '8,000,001 lines', '1,000,000 lines');
  });
});

/** A zip whose first central-directory entry claims an extra field of 65535 bytes, past the directory's end. */
function extraFieldPastDirectory(zip: Uint8Array): Uint8Array {
  const out = zip.slice();
  const dv = new DataView(out.buffer);
  const cd = dv.getUint32(out.length - 22 + 16, true);
  dv.setUint16(cd + 30, 0xffff, true);
  return out;
}

/** A zip whose end record points (through a zip64 locator) at a zip64 record a terabyte past the end of the file. */
function zip64LocatorPastEnd(zip: Uint8Array): Uint8Array {
  const eocd = zip.slice(zip.length - 22);
  const ev = new DataView(eocd.buffer);
  ev.setUint16(8, 0xffff, true);
  ev.setUint16(10, 0xffff, true);
  ev.setUint32(12, 0xffffffff, true);
  ev.setUint32(16, 0xffffffff, true);
  const loc = new Uint8Array(20);
  const lv = new DataView(loc.buffer);
  lv.setUint32(0, 0x07064b50, true);
  lv.setBigUint64(8, 2n ** 40n, true);
  lv.setUint32(16, 1, true);
  return concat([zip.subarray(0, zip.length - 22), loc, eocd]);
}

describe('4. malformed zip directories', () => {
  it('an extra field past the directory, a zip64 locator past the end: data check, train, verify', async () => {
    const dir = writeVtabFixture(makeTempDir());
    const zip = await zipFolder(dir);
    const root = makeTempDir();
    for (const [kind, bytes] of [
      ['extra', extraFieldPastDirectory(zip)],
      ['zip64', zip64LocatorPastEnd(zip)],
    ] as const) {
      const p = join(root, `${kind}.zip`);
      writeFileSync(p, bytes);
      expectNamed(await check(p), 'data/not-a-zip', DATA, `${kind}.zip`);
      expectNamed(await train(['--task', 'eurosat', '--data', p, '--out', join(root, 'r.json')]), 'data/not-a-zip', TRAIN, `${kind}.zip`);
      const npz = join(root, `${kind}.npz`);
      writeFileSync(npz, kind === 'extra' ? extraFieldPastDirectory(fixture('timm_tiny_google.npz')) : zip64LocatorPastEnd(fixture('timm_tiny_google.npz')));
      const line = expectNamed(
        await runCli('verify', ['--weights', npz, '--golden', join(FIXTURES, 'timm_tiny_golden.safetensors')]),
        'checkpoint/',
        TRAIN,
        `${kind}.npz`,
      );
      expect(line).not.toContain('Offset is outside the bounds');
    }
  });
});

describe('5. an unwritable --out is refused before the first step', () => {
  it('a missing folder, a folder, an unwritable --save-params', async () => {
    const root = makeTempDir();
    const args = ['--task', 'dsprites_location', '--train-size', '64'];
    for (const out of [join(root, 'missing', 'r.json'), root]) {
      const run = await train([...args, '--out', out]);
      expectNamed(run, 'output/unwritable', TRAIN, '--out');
      expect(run.stderr).not.toContain('epoch 1');
    }
    const run = await train([...args, '--out', join(root, 'r.json'), '--save-params', join(root, 'r.json', 'p.safetensors')]);
    expectNamed(run, 'output/unwritable', TRAIN, '--save-params');
  });
});

describe('6. a folder for one task does not pass as another', () => {
  it('a root holding only eurosat/ given for dtd: data check and train', async () => {
    const root = makeTempDir();
    writeVtabFixture(root);
    expectNamed(await check(root, 'dtd'), 'data/wrong-task', DATA, '"eurosat/"', 'EuroSAT', '--task eurosat');
    expectNamed(await train(['--task', 'dtd', '--data', root, '--out', join(makeTempDir(), 'r.json')]), 'data/wrong-task', TRAIN, '"eurosat/"');
    const dir = join(root, 'eurosat');
    expectNamed(await check(dir, 'dtd'), 'data/wrong-task', DATA, '"eurosat/"'); // the task folder itself
  });
});

describe('7. silent divergence', () => {
  it('a checkpoint with one NaN weight, layer_norm_eps -10: refused at load', async () => {
    const root = makeTempDir();
    const nan = join(root, 'nan.safetensors');
    writeFileSync(
      nan,
      editSafetensors(fixture('timm_tiny_model.safetensors'), (m) => void (m.get('blocks.1.mlp.fc1.weight')!.data[7] = NaN)),
    );
    const args = ['--task', 'dsprites_location', '--train-size', '64', '--out', join(root, 'r.json')];
    expectNamed(await runCli('train', ['--model', nan, '--method', 'ft', ...args]), 'checkpoint/non-finite', TRAIN, 'blocks.1.mlp.fc1.weight', '1 NaN');
    const eps = join(root, 'eps.safetensors');
    writeFileSync(
      eps,
      editSafetensors(fixture('timm_tiny_model.safetensors'), (_m, meta) => void (meta.config = JSON.stringify({ ...JSON.parse(meta.config!), eps: -10 }))),
    );
    expectNamed(await runCli('train', ['--model', eps, '--method', 'ft', ...args]), 'config/invalid', TRAIN, 'layer_norm_eps', '-10');
  });

  it('--lr 1e30 stops at the first non-finite loss, naming the step and the fix', async () => {
    const root = makeTempDir();
    // Its own --batch: an option given twice is a usage error.
    const run = await runCli('train', [
      '--model',
      tinyModel,
      '--method',
      'ft',
      '--epochs',
      '1',
      '--task',
      'dsprites_location',
      '--train-size',
      '64',
      '--test-size',
      '16',
      '--batch',
      '16',
      '--lr',
      '1e30',
      '--out',
      join(root, 'r.json'),
    ]);
    expectNamed(run, 'run/diverged', TRAIN, 'epoch 1, step', 'Lower the learning rate');
    expect(run.stdout).not.toContain('test accuracy');
  });
});

describe('8. empty lists', () => {
  it('an empty test.txt: data check and train', async () => {
    const root = makeTempDir();
    writeVtabFixture(root, { breakage: 'empty-test' });
    expectNamed(await check(root), 'data/empty-list', DATA, 'eurosat/test.txt');
    const run = await train(['--task', 'eurosat', '--data', root, '--out', join(makeTempDir(), 'r.json')]);
    expectNamed(run, 'data/empty-list', TRAIN, 'test.txt');
    expect(run.stdout).not.toContain('NaN');
  });
});

describe('9. the smaller ones', () => {
  it("a dtype named 'toString' (an Object member) is an unknown dtype, not bad offsets", async () => {
    const bytes = fixture('timm_tiny_model.safetensors');
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    // The header grows: its length field is rewritten, the data offsets stay right.
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n)).replace('"dtype":"F32"', '"dtype":"toString"');
    expect(header).toContain('toString');
    const edited = new TextEncoder().encode(header);
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(edited.length), true);
    const p = join(makeTempDir(), 'dtype.safetensors');
    writeFileSync(p, concat([len, edited, bytes.subarray(8 + n)]));
    expectNamed(
      await runCli('verify', ['--weights', p, '--golden', join(FIXTURES, 'timm_tiny_golden.safetensors')]),
      'checkpoint/unknown-dtype',
      TRAIN,
      '"toString"',
    );
  });

  it('verify --tol abc is a usage error', async () => {
    const run = await runCli('verify', ['--weights', tinyModel, '--golden', join(FIXTURES, 'timm_tiny_golden.safetensors'), '--tol', 'abc']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--tol must be a positive number, got "abc"');
  });

  it('a 50 MB path line is echoed cut to about 200 characters', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    writeFileSync(join(dir, 'test.txt'), `images/${'x'.repeat(50_000_000)}.jpg 0\n`);
    const line = expectNamed(await check(root), 'data/bad-line', DATA, 'test.txt" line 1', '… (50,000,013 characters)', '4,096');
    expect(line.length).toBeLessThan(800);
  });

  it('an image that is a link: never its contents, never outside the chosen folder', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    const secret = join(makeTempDir(), 'secret.txt');
    writeFileSync(secret, 'SECRET-CONTENT do not print\n');
    const img = join(dir, 'images', 'train', '0001.jpg');
    writeFileSync(img, ''); // replaced by the link
    rmSync(img);
    symlinkSync(secret, img);
    const outside = await check(root);
    expectNamed(outside, 'data/outside-source', DATA, 'images/train/0001.jpg', 'outside the folder you chose');
    expect(outside.stderr + outside.stdout).not.toContain('SECRET');
    // A link inside the folder to a text file: named as not an image, without its words.
    const inside = join(dir, 'notes.txt');
    writeFileSync(inside, 'SECRET-CONTENT inside\n');
    rmSync(img);
    symlinkSync(inside, img);
    const text = await check(root);
    expectNamed(text, 'data/bad-image', DATA, 'not a JPEG or PNG', 'plain text');
    expect(text.stderr + text.stdout).not.toContain('SECRET');
  });

  it('a folder given as the checkpoint', async () => {
    expectNamed(
      await runCli('verify', ['--weights', FIXTURES, '--golden', join(FIXTURES, 'hf_tiny_golden.safetensors')]),
      'checkpoint/unreadable',
      TRAIN,
      'is a folder',
    );
  });

  it('a golden file with a wrong head shape', async () => {
    const p = join(makeTempDir(), 'golden.safetensors');
    writeFileSync(
      p,
      editSafetensors(fixture('hf_tiny_golden.safetensors'), (m) => void m.set('head.weight', { shape: [5, 40], data: new Float32Array(200) })),
    );
    expectNamed(
      await runCli('verify', ['--weights', join(FIXTURES, 'hf_tiny_model.safetensors'), '--golden', p]),
      'golden/invalid',
      TRAIN,
      "'head.weight' is [5,40], expected [classes,48]",
    );
  });

  it('duplicate list lines are warned about', async () => {
    const root = makeTempDir();
    const dir = writeVtabFixture(root);
    const test = readFileSync(join(dir, 'test.txt'), 'utf8').trim().split('\n');
    writeFileSync(join(dir, 'test.txt'), [...test, test[1]].join('\n') + '\n');
    const run = await check(root);
    expect(run.code).toBe(0);
    const warning = '"eurosat/test.txt" lists 1 image(s) more than once (e.g. "eurosat/images/test/0001.jpg" on lines 2 and 7)';
    expect(run.stdout).toContain(`warning: ${warning}`);
    const results = join(makeTempDir(), 'r.json');
    const trained = await train(['--task', 'eurosat', '--data', root, '--out', results]);
    expect(trained.code).toBe(0);
    expect(trained.stderr).toContain(`notice: ${warning}`);
    expect((JSON.parse(readFileSync(results, 'utf8')).notices as string[]).some((n) => n.includes(warning))).toBe(true);
  });

  it('bench --hosts mars, study --table missing.json', async () => {
    const bench = await runCli('bench', ['--hosts', 'mars']);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toContain('--hosts: "mars" is not one of node, chromium');
    expectNamed(await runCli('study', ['--table', 'missing.json']), 'config/invalid', DATA, '"missing.json"', 'no such file');
    const notStudy = join(makeTempDir(), 'x.json');
    writeFileSync(notStudy, '{"rows": 3}');
    expectNamed(await runCli('study', ['--table', notStudy]), 'config/invalid', DATA, 'not a study results file');
  });

  it('exit codes: 2 for usage errors, 0 for --help, in every CLI', async () => {
    for (const cli of ['verify', 'train', 'data', 'bench', 'study', 'sweep', 'pretrain']) {
      const bad = await runCli(cli, ['--no-such-option']);
      expect(bad.code, cli).toBe(2);
      expect(bad.stderr, cli).toContain('Unknown option "--no-such-option"');
      const help = await runCli(cli, ['--help']);
      expect(help.code, cli).toBe(0);
      expect(help.stdout, cli).toMatch(/usage/i);
    }
  });
});

// A check that the inputs above are what they claim (so a test cannot pass on a mis-made file).
describe('the hostile files are what they claim', () => {
  it('the npz bomb inflates to 2 GB; the list bomb to 640 MB', async () => {
    const { createInflateRaw } = await import('node:zlib');
    // zlib counts the inflated bytes as they stream by (about a second per GB, nothing kept).
    const count = (stream: Uint8Array) =>
      new Promise<number>((resolve, reject) => {
        let n = 0;
        const inf = createInflateRaw({ chunkSize: 1 << 20 });
        inf.on('data', (chunk: Buffer) => void (n += chunk.length));
        inf.on('end', () => resolve(n));
        inf.on('error', reject);
        inf.end(stream);
      });
    expect(await count(deflateZeros(640_000_000))).toBe(640_000_000);
    const head = npyBytes([1, 1, 48], new Uint8Array(0));
    expect(head.length).toBe(128);
    expect(await count(concat([storedBlock(head), deflateZeros(2 ** 31 - head.length)]))).toBe(2 ** 31);
  });
});

/**
 * Seeded fuzzing of every loader a user's file reaches: checkpoints (safetensors in the hub and
 * timm layouts, stored and deflated .npz), data zips, list files and images. A few hundred
 * mutations of valid files (bit flips, byte and field overwrites, truncations, inserted and
 * deleted runs, and edits that know the format: header JSON, zip directory fields, PNG/JPEG
 * sizes, list lines), names holding control characters (tensors, zip entries, list paths), zips
 * holding or declaring too many entries, and pipes, folders and device links where a file should
 * be. For each, the loader must either give a correct result (checked: finite
 * weights of the declared shapes, labels in range, pixels of the declared size) or reject with a
 * LabError carrying a known code and a bounded message free of control characters; never another exception, never more than
 * 3 s of CPU, and the process's peak memory stays bounded.
 *
 * Reproduce a failure: FUZZ_SEED=<seed> npx vitest run src/cli/fuzz.test.ts (the failure lists the
 * case's index and mutation).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, LabError } from '../domain/errors';
import { mulberry32 } from '../data/rng';
import { encodeJpeg, encodePng, makeTempDir, patternImage, writeRawZip, writeVtabFixture, zipFolder } from '../data/fixtures.node';
import { nodeDecoder } from '../data/decode.node';
import { MAX_IMAGE_PIXELS } from '../data/limits';
import { FileListSource } from '../data/source';
import { NodeDirSource } from '../data/source.node';
import { openVtabTask, validateImages } from '../data/vtab';
import { ZipSource } from '../data/zip';
import { checkConfig } from '../model/config';
import { loadCheckpoint } from '../weights/load';
import { loadCheckpointFromPath } from '../weights/node';
import { countNonFinite } from '../weights/tensor';
import { fixture } from '../weights/testutil';
import { makeFifo } from './testutil';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const rand = mulberry32(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

/**
 * Bounds on one case, in CPU time of this process (wall time on a shared 2-core CI machine says
 * more about the neighbours than about the loader; a normal case takes well under 0.3 s either
 * way) and, loosely, in wall time. Inflating or decoding a bomb would cost far more.
 */
const CASE_CPU_MS = 3_000;
const CASE_WALL_MS = 60_000;
/** Peak resident memory of this test process over all cases (a 2 GB allocation would break it). */
const PEAK_BYTES = 1.5e9;

interface Mutation {
  name: string;
  bytes: Uint8Array;
}

// ---------------------------------------------------------------- generic byte mutations

const EXTREMES32 = [0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 0x80000000];

function generic(src: Uint8Array): Mutation {
  const b = src.slice();
  switch (int(7)) {
    case 0: {
      const k = 1 + int(8);
      for (let i = 0; i < k; i++) {
        const p = int(b.length);
        b[p]! ^= 1 << int(8);
      }
      return { name: `flip ${k} bit(s)`, bytes: b };
    }
    case 1: {
      const p = int(b.length);
      b[p] = pick([0, 0xff, 0x7f, 0x80, int(256)]);
      return { name: `set byte ${p}`, bytes: b };
    }
    case 2: {
      const n = int(b.length);
      return { name: `truncate to ${n}`, bytes: b.slice(0, n) };
    }
    case 3: {
      const n = 1 + int(Math.min(64, b.length));
      return { name: `cut ${n} tail bytes`, bytes: b.slice(0, b.length - n) };
    }
    case 4: {
      const p = int(b.length - 4);
      new DataView(b.buffer).setUint32(p, pick(EXTREMES32), true);
      return { name: `u32 at ${p}`, bytes: b };
    }
    case 5: {
      const p = int(b.length),
        n = 1 + int(256);
      const out = new Uint8Array(b.length + n);
      out.set(b.subarray(0, p));
      out.set(b.subarray(p, Math.min(b.length, p + n)), p);
      out.set(b.subarray(p), p + Math.min(n, b.length - p));
      return { name: `insert ${n} bytes at ${p}`, bytes: out.subarray(0, b.length + Math.min(n, b.length - p)) };
    }
    default: {
      const p = int(b.length),
        n = 1 + int(256);
      const out = new Uint8Array(b.length);
      out.set(b.subarray(0, p));
      out.set(b.subarray(p + n), p);
      return { name: `delete ${n} bytes at ${p}`, bytes: out.subarray(0, Math.max(p, b.length - n)) };
    }
  }
}

// ---------------------------------------------------------------- format-aware edits

function safetensorsEdit(src: Uint8Array): Mutation {
  const n = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> & {
    __metadata__?: Record<string, string>;
  };
  const keys = Object.keys(header).filter((k) => k !== '__metadata__');
  const key = pick(keys);
  const t = header[key]!;
  let name: string;
  let data = src.subarray(8 + n);
  switch (int(6)) {
    case 5: {
      // The tensor is renamed (a control character, a bidi override, a 100 kB name).
      const nasty = pick(NASTY_NAMES);
      header[`${key}${nasty}`] = t;
      delete header[key];
      name = `${key} renamed with ${JSON.stringify(nasty.slice(0, 20))}`;
      break;
    }
    case 0: {
      const i = int(Math.max(1, t.shape.length));
      t.shape[i] = pick([0, -1, 1e9, (t.shape[i] ?? 1) + 1, 2 ** 53, 0.5]);
      name = `${key} shape[${i}] = ${t.shape[i]}`;
      break;
    }
    case 1:
      t.data_offsets = pick([
        [t.data_offsets[1], t.data_offsets[0]],
        [t.data_offsets[0]! + 1, t.data_offsets[1]! + 1],
        [0, 2 ** 40],
        [-4, 4],
      ]) as number[];
      name = `${key} data_offsets = ${JSON.stringify(t.data_offsets)}`;
      break;
    case 2:
      t.dtype = pick(['F16', 'BF16', 'F64', 'I8', 'toString', '__proto__', 'constructor', '', 'F32 ']);
      name = `${key} dtype = ${t.dtype}`;
      break;
    case 3: {
      const meta = header.__metadata__ ?? {};
      const cfg = meta.config ? (JSON.parse(meta.config) as Record<string, unknown>) : {};
      const field = pick(Object.keys(cfg).length ? Object.keys(cfg) : ['eps']);
      cfg[field] = pick([-10, 0, 1e30, null, 'abc', -1, 3.5, 1e9, [], {}]);
      meta.config = pick([JSON.stringify(cfg), '{not json', '']);
      header.__metadata__ = meta;
      name = `config.${field} = ${JSON.stringify(cfg[field])}`;
      break;
    }
    default: {
      // One stored weight becomes NaN or ±Infinity.
      data = data.slice();
      const [b0] = t.data_offsets as [number, number];
      const at = b0 + 4 * int(Math.max(1, (t.data_offsets[1]! - b0) / 4));
      new DataView(data.buffer, data.byteOffset).setUint32(at, pick([0x7fc00000, 0x7f800000, 0xff800000]), true);
      name = `${key} value at byte ${at} non-finite`;
    }
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return { name, bytes: out };
}

/** Offsets of the end record, each central directory entry and each local header of a (valid) zip. */
function zipLayout(b: Uint8Array): { eocd: number; central: number[]; local: number[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = b.length - 22;
  while (dv.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const central: number[] = [];
  const local: number[] = [];
  let p = dv.getUint32(eocd + 16, true);
  for (let i = 0; i < dv.getUint16(eocd + 10, true); i++) {
    central.push(p);
    local.push(dv.getUint32(p + 42, true));
    p += 46 + dv.getUint16(p + 28, true) + dv.getUint16(p + 30, true) + dv.getUint16(p + 32, true);
  }
  return { eocd, central, local };
}

function zipEdit(src: Uint8Array): Mutation {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  const { eocd, central, local } = zipLayout(b);
  const v32 = () => pick([...EXTREMES32, b.length, b.length + 1, int(b.length)]);
  const v16 = () => pick([0, 1, 0xff, 0xffff, int(0x10000)]);
  switch (int(4)) {
    case 0: {
      const [field, off, size] = pick([
        ['count', 10, 2],
        ['central size', 12, 4],
        ['central offset', 16, 4],
        ['disk entries', 8, 2],
      ] as const);
      const v = size === 2 ? v16() : v32();
      if (size === 2) dv.setUint16(eocd + off, v, true);
      else dv.setUint32(eocd + off, v, true);
      return { name: `end record ${field} = ${v}`, bytes: b };
    }
    case 1: {
      const i = int(central.length);
      const [field, off, size] = pick([
        ['method', 10, 2],
        ['compressed size', 20, 4],
        ['size', 24, 4],
        ['name length', 28, 2],
        ['extra length', 30, 2],
        ['comment length', 32, 2],
        ['local offset', 42, 4],
        ['flags', 8, 2],
      ] as const);
      const v = size === 2 ? v16() : v32();
      if (size === 2) dv.setUint16(central[i]! + off, v, true);
      else dv.setUint32(central[i]! + off, v, true);
      return { name: `central entry ${i} ${field} = ${v}`, bytes: b };
    }
    case 2: {
      const i = int(local.length);
      const [field, off, size] = pick([
        ['method', 8, 2],
        ['compressed size', 18, 4],
        ['size', 22, 4],
        ['name length', 26, 2],
        ['extra length', 28, 2],
        ['signature', 0, 4],
      ] as const);
      const v = size === 2 ? v16() : v32();
      if (local[i]! + off + size > b.length) return generic(src);
      if (size === 2) dv.setUint16(local[i]! + off, v, true);
      else dv.setUint32(local[i]! + off, v, true);
      return { name: `local header ${i} ${field} = ${v}`, bytes: b };
    }
    default: {
      // Data of one entry flipped: a damaged deflate stream or image.
      const i = int(local.length);
      const start = local[i]! + 30 + dv.getUint16(local[i]! + 26, true) + dv.getUint16(local[i]! + 28, true);
      const len = dv.getUint32(central[i]! + 20, true);
      if (len === 0) return generic(src);
      b[start + int(len)]! ^= 1 << int(8);
      return { name: `entry ${i} data bit flip`, bytes: b };
    }
  }
}

/** One entry of a zip renamed: a control character, a bidi override or a 100 kB name appended or prefixed. */
function zipRename(src: Uint8Array): Mutation {
  const entries = Object.entries(unzipSync(src));
  const i = int(entries.length);
  const nasty = pick(NASTY_NAMES);
  const [old] = entries[i]!;
  const renamed = rand() < 0.5 ? `${old}${nasty}` : old.replace(/[^/]*$/, (base) => `${nasty}${base}`);
  entries[i] = [renamed, entries[i]![1]];
  return { name: `entry ${i} renamed with ${JSON.stringify(nasty.slice(0, 20))}`, bytes: writeRawZip(entries.map(([name, data]) => ({ name, data }))).bytes };
}

/**
 * A zip whose entry count is hostile: many real empty entries (past the bound), or an end record
 * (classic or zip64) that declares far more entries than the directory holds.
 */
function zipCount(src: Uint8Array, bound: number): Mutation {
  const entries = Object.entries(unzipSync(src)).map(([name, data]) => ({ name, data }));
  switch (int(3)) {
    case 0: {
      // Over the bound only: a data zip of 65,536 real entries is allowed, and takes its reader longer than a case may.
      const n = pick([bound + 1, Math.max(65_536, bound + 2), Math.round(1.2 * bound)]);
      const extra = Array.from({ length: n - entries.length }, (_, k) => ({ name: `pad/${k}.npy`, data: new Uint8Array(0) }));
      return { name: `${n} entries`, bytes: writeRawZip([...entries, ...extra]).bytes };
    }
    case 1: {
      const b = src.slice();
      const { eocd } = zipLayout(b);
      const v = pick([0xfffe, 0xffff, entries.length + 1]);
      new DataView(b.buffer).setUint16(eocd + 10, v, true);
      new DataView(b.buffer).setUint16(eocd + 8, v, true);
      return { name: `end record declares ${v} entries`, bytes: b };
    }
    default: {
      // A real zip64 end record (70,000 entries), then its count rewritten to 2^40 or 2^53 - 1.
      const big = writeRawZip([...entries, ...Array.from({ length: 70_000 - entries.length }, (_, k) => ({ name: `p${k}`, data: new Uint8Array(0) }))]);
      const b = big.bytes.slice();
      const v = pick([2n ** 40n, 2n ** 53n - 1n, 0n]);
      new DataView(b.buffer).setBigUint64(big.eocdOffset - 76 + 24, v, true);
      new DataView(b.buffer).setBigUint64(big.eocdOffset - 76 + 32, v, true);
      return { name: `zip64 end record declares ${v} entries`, bytes: b };
    }
  }
}

function pngEdit(src: Uint8Array): Mutation {
  const b = src.slice();
  const dv = new DataView(b.buffer);
  switch (int(3)) {
    case 0: {
      const w = pick([0, 1, 30000, 2 ** 31 - 1, 65535, int(100000)]),
        h = pick([0, 1, 30000, 7, int(100000)]);
      dv.setUint32(16, w);
      dv.setUint32(20, h);
      return { name: `IHDR ${w} x ${h}`, bytes: b };
    }
    case 1:
      b[24] = pick([1, 2, 4, 8, 16, 3, 0, 255]);
      b[25] = pick([0, 2, 3, 4, 6, 7, 255]);
      return { name: `IHDR depth ${b[24]} colour ${b[25]}`, bytes: b };
    default: {
      dv.setUint32(8, pick([0, 13, 0xffffffff, 0x7fffffff, 1e6]));
      return { name: `IHDR chunk length ${dv.getUint32(8)}`, bytes: b };
    }
  }
}

function jpegEdit(src: Uint8Array): Mutation {
  const b = src.slice();
  const segments: { at: number; marker: number }[] = [];
  for (let p = 2; p + 4 < b.length && b[p] === 0xff;) {
    const marker = b[p + 1]!;
    segments.push({ at: p, marker });
    if (marker === 0xda) break;
    p += 2 + ((b[p + 2]! << 8) | b[p + 3]!);
  }
  const sof = segments.find((s) => s.marker === 0xc0);
  if (sof && rand() < 0.6) {
    const h = pick([0, 1, 10000, 65535, int(70000) & 0xffff]),
      w = pick([0, 1, 10000, 65535, int(70000) & 0xffff]);
    b[sof.at + 5] = h >> 8;
    b[sof.at + 6] = h & 0xff;
    b[sof.at + 7] = w >> 8;
    b[sof.at + 8] = w & 0xff;
    return { name: `SOF0 ${w} x ${h}`, bytes: b };
  }
  const s = pick(segments);
  const len = pick([0, 1, 2, 0xffff, int(0x10000)]);
  b[s.at + 2] = len >> 8;
  b[s.at + 3] = len & 0xff;
  return { name: `segment ${s.marker.toString(16)} length ${len}`, bytes: b };
}

function listEdit(text: string): Mutation {
  const lines = text.trimEnd().split('\n');
  const i = int(lines.length);
  const enc = (t: string) => new TextEncoder().encode(t);
  switch (int(8)) {
    case 0:
      lines.splice(i, 0, lines[i]!);
      return { name: `duplicate line ${i + 1}`, bytes: enc(lines.join('\n') + '\n') };
    case 1:
      lines.splice(i, 1);
      return { name: `delete line ${i + 1}`, bytes: enc(lines.join('\n') + '\n') };
    case 2: {
      const label = pick(['-1', '999', '1e20', 'x', '', '3.5', '+2', '00000000000000000000007']);
      lines[i] = lines[i]!.replace(/\S+$/, label);
      return { name: `line ${i + 1} label '${label}'`, bytes: enc(lines.join('\n') + '\n') };
    }
    case 3: {
      const path = pick([
        '../../etc/passwd',
        '/etc/passwd',
        'images/' + 'a'.repeat(5000) + '.jpg',
        'images/train/',
        '',
        'images/train/0001.jpg\u0000x',
        'C:\\images\\x.jpg',
        ...NASTY_NAMES.map((n) => `images/${n}.jpg`),
      ]);
      lines[i] = `${path} 1`;
      return { name: `line ${i + 1} path '${path.slice(0, 30)}'`, bytes: enc(lines.join('\n') + '\n') };
    }
    case 4:
      return { name: 'CRLF and BOM', bytes: enc('\uFEFF' + lines.join('\r\n') + '\r\n') };
    case 5:
      return { name: 'empty', bytes: new Uint8Array(0) };
    case 6: {
      const junk = new Uint8Array(1 + int(200)).map(() => int(256));
      return { name: `${junk.length} binary bytes appended`, bytes: new Uint8Array([...enc(lines.join('\n') + '\n'), ...junk]) };
    }
    default:
      return { name: 'tabs and spaces', bytes: enc(lines.map((l) => l.replace(' ', pick(['\t', '   ', ' \t ']))).join('\n')) };
  }
}

// ---------------------------------------------------------------- oracles and the loop

interface Outcome {
  ok: boolean;
  code?: string;
}

const KNOWN = new Set<string>(ERROR_CODES.filter((c) => c !== 'internal'));
/** What no message may carry to a terminal: control characters, line separators, bidi overrides. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_CHAR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** Names that would forge a line, clear the screen, set the title or reverse the text if echoed raw. */
const NASTY_NAMES = ['a\nerror [fake]: ok', 'b\r\x1b[2J', 'c\x1b]0;title\x07', 'd\u202etxt.exe', 'e\u0000f', 'g\u2028h', 'x'.repeat(100_000)];

/** Runs every case; returns the failures (described) and how the cases ended. */
async function fuzz(
  kind: string,
  cases: Mutation[],
  run: (m: Mutation) => Promise<void>,
): Promise<{ failures: string[]; outcomes: Map<string, number>; slowest: number }> {
  const failures: string[] = [];
  const outcomes = new Map<string, number>();
  let slowest = 0;
  for (const [i, m] of cases.entries()) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let outcome: Outcome;
    try {
      await run(m);
      outcome = { ok: true };
    } catch (e) {
      if (!(e instanceof LabError)) {
        failures.push(`${kind} #${i} (${m.name}): not a named error: ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
        continue;
      }
      if (!KNOWN.has(e.code)) failures.push(`${kind} #${i} (${m.name}): unknown code ${e.code}`);
      if (e.message.length > 2000) failures.push(`${kind} #${i} (${m.name}): message of ${e.message.length} characters`);
      if (UNSAFE_CHAR.test(e.message))
        failures.push(`${kind} #${i} (${m.name}): a control character in the message ${JSON.stringify(e.message.slice(0, 200))}`);
      outcome = { ok: false, code: e.code };
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    slowest = Math.max(slowest, cpuMs);
    if (cpuMs > CASE_CPU_MS || ms > CASE_WALL_MS)
      failures.push(`${kind} #${i} (${m.name}): took ${cpuMs.toFixed(0)} ms of CPU, ${ms.toFixed(0)} ms of wall time`);
    const key = outcome.ok ? 'loaded' : outcome.code!;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  return { failures, outcomes, slowest };
}

function report(kind: string, r: { failures: string[]; outcomes: Map<string, number>; slowest: number }): void {
  const summary = [...r.outcomes].map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`fuzz ${kind} (seed ${SEED}): ${summary}; slowest case ${r.slowest.toFixed(0)} ms of CPU`);
  expect(r.failures, `reproduce with FUZZ_SEED=${SEED}`).toEqual([]);
}

function mutations(n: number, src: Uint8Array, aware: (b: Uint8Array) => Mutation): Mutation[] {
  return Array.from({ length: n }, () => (rand() < 0.5 ? aware(src) : generic(src)));
}

/** A loaded checkpoint must be usable: a valid config and finite weights (shapes were checked by the loader). */
async function loadsCorrectly(m: Mutation, name: string): Promise<void> {
  const c = await loadCheckpoint(m.bytes, { name });
  checkConfig(c.config);
  for (const [k, t] of c.tensors) {
    if (countNonFinite(t.data).count) throw new Error(`loaded non-finite '${k}'`);
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new Error(`'${k}' has ${t.data.length} values for shape [${t.shape}]`);
  }
}

describe(`seeded fuzzing (FUZZ_SEED=${SEED})`, () => {
  it('checkpoints: safetensors (hub and timm layouts), stored and deflated .npz', async () => {
    const hf = fixture('hf_tiny_model.safetensors');
    const timm = fixture('timm_tiny_model.safetensors');
    const npz = fixture('timm_tiny_google.npz');
    const deflated = zipSync(unzipSync(npz), { level: 6 });
    for (const [kind, src, n, aware] of [
      ['hf.safetensors', hf, 50, safetensorsEdit],
      ['timm.safetensors', timm, 40, safetensorsEdit],
      ['stored.npz', npz, 40, zipEdit],
      ['deflated.npz', deflated, 30, zipEdit],
      ['renamed.npz', npz, 20, zipRename],
    ] as const) {
      report(kind, await fuzz(kind, mutations(n, src, aware), (m) => loadsCorrectly(m, kind)));
    }
  });

  it('entry counts: .npz and data zips that hold or declare too many entries', async () => {
    const npz = fixture('timm_tiny_google.npz');
    const cases = Array.from({ length: 12 }, () => zipCount(npz, 10_000));
    report('count.npz', await fuzz('count.npz', cases, (m) => loadsCorrectly(m, 'count.npz')));
    const zip = await zipFolder(writeVtabFixture(makeTempDir(), { train: 8, val: 4, test: 4 }));
    const dataCases = Array.from({ length: 4 }, () => zipCount(zip, 250_000));
    report(
      'count.zip',
      await fuzz('count.zip', dataCases, async (m) => {
        const splits = await openVtabTask(await ZipSource.open(m.bytes, 'count.zip'), 'eurosat', { decoder: nodeDecoder });
        await validateImages(splits);
      }),
    );
  });

  it('non-regular files: a pipe, a folder, a device link, a dangling link as a list, an image or a checkpoint', async () => {
    const cases: (Mutation & { target: string; kind: string })[] = Array.from({ length: 24 }, () => {
      const target = pick(['train800.txt', 'test.txt', 'images/train/0001.jpg', 'images/test/0002.jpg', 'checkpoint']);
      const kind = pick(['fifo', 'folder', 'dev-zero', 'dev-null', 'dangling', 'self-loop']);
      return { name: `${target} as ${kind}`, bytes: new Uint8Array(0), target, kind };
    });
    report(
      'non-regular',
      await fuzz('non-regular', cases, async (m) => {
        const { target, kind } = m as Mutation & { target: string; kind: string };
        const root = makeTempDir();
        const dir = writeVtabFixture(root, { train: 8, val: 4, test: 4 });
        const path = target === 'checkpoint' ? join(root, 'model.safetensors') : join(dir, target);
        rmSync(path, { force: true });
        if (kind === 'fifo') makeFifo(path);
        else if (kind === 'folder') mkdirSync(path);
        else if (kind === 'self-loop') symlinkSync(path, path);
        else symlinkSync(kind === 'dev-zero' ? '/dev/zero' : kind === 'dev-null' ? '/dev/null' : join(root, 'absent'), path);
        if (target === 'checkpoint') {
          await loadCheckpointFromPath(path);
          return;
        }
        const splits = await openVtabTask(new NodeDirSource(root), 'eurosat', { decoder: nodeDecoder });
        await validateImages(splits);
      }),
    );
  });

  it('data zips: a vtab-1k task folder', async () => {
    const dir = writeVtabFixture(makeTempDir(), { train: 8, val: 4, test: 4 });
    const zip = await zipFolder(dir);
    report(
      'data.zip',
      await fuzz('data.zip', [...mutations(60, zip, zipEdit), ...mutations(20, zip, zipRename)], async (m) => {
        const source = await ZipSource.open(m.bytes, 'fuzz.zip');
        const splits = await openVtabTask(source, 'eurosat', { decoder: nodeDecoder });
        await validateImages(splits);
        for (const items of Object.values(splits.lists))
          for (const it of items ?? []) if (!(it.label >= 0 && it.label < 10)) throw new Error(`label ${it.label} loaded`);
      }),
    );
  });

  it('list files', async () => {
    const dir = writeVtabFixture(makeTempDir(), { train: 8, val: 4, test: 4 });
    const files: { path: string; file: Blob }[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.push({ path: relative(join(dir, '..'), p), file: new Blob([readFileSync(p)]) });
      }
    };
    walk(dir);
    const lists = ['train800.txt', 'val200.txt', 'train800val200.txt', 'test.txt'];
    const cases = Array.from({ length: 60 }, () => {
      const list = pick(lists);
      const m = listEdit(readFileSync(join(dir, list), 'utf8'));
      return { name: `${list}: ${m.name}`, bytes: m.bytes, list };
    });
    report(
      'lists',
      await fuzz('lists', cases, async (m) => {
        const list = (m as Mutation & { list: string }).list;
        const source = new FileListSource(
          files.map((f) => (f.path === `eurosat/${list}` ? { path: f.path, file: new Blob([m.bytes as Uint8Array<ArrayBuffer>]) } : f)),
        );
        const splits = await openVtabTask(source, 'eurosat', { decoder: nodeDecoder });
        await validateImages(splits);
        for (const items of Object.values(splits.lists))
          for (const it of items ?? []) if (!(Number.isInteger(it.label) && it.label >= 0 && it.label < 10)) throw new Error(`label ${it.label} loaded`);
      }),
    );
  });

  it('images: PNG and JPEG', async () => {
    const img = patternImage(5, 24, 16);
    for (const [kind, src, aware] of [
      ['png', encodePng(img), pngEdit],
      ['jpeg', encodeJpeg(img), jpegEdit],
    ] as const) {
      report(
        kind,
        await fuzz(kind, mutations(40, src, aware), async (m) => {
          const out = await nodeDecoder(m.bytes, `fuzz.${kind}`);
          if (out.width < 1 || out.height < 1 || out.width * out.height > MAX_IMAGE_PIXELS || out.data.length !== out.width * out.height * 4) {
            throw new Error(`decoded ${out.width} x ${out.height} with ${out.data.length} bytes`);
          }
        }),
      );
    }
  });

  it('the whole run stayed within its memory bound', () => {
    const peak = process.resourceUsage().maxRSS * 1024;
    console.log(`fuzz: peak resident memory of the test process ${(peak / 1e6).toFixed(0)} MB`);
    expect(peak).toBeLessThan(PEAK_BYTES);
  });
});

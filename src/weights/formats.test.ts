import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readAll, readAllAsync } from './formats/archive';
import { openNpz, parseNpy } from './formats/npz';
import { parseSafetensors, writeSafetensors } from './formats/safetensors';
import { loadCheckpoint, openArchive } from './load';
import { floatToBf16, floatToHalf, halfToFloat, permute } from './tensor';
import type { HostTensor } from './types';
import { catchError, fixture, makeNpy, maxAbsDiff, rawSafetensors, rejectionOf } from './testutil';

const t = (shape: number[], values: number[]): HostTensor => ({ shape, data: Float32Array.from(values) });
const u16 = (vals: number[]) => new Uint8Array(Uint16Array.from(vals).buffer);

describe('safetensors', () => {
  it('writes an 8-byte aligned header padded with spaces and reads it back as zero-copy views', async () => {
    const m = new Map([
      ['a', t([2, 3], [1, 2, 3, 4, 5, 6])],
      ['b.c', t([1], [-7.5])],
    ]);
    const bytes = writeSafetensors(m, { config: '{"x":1}' });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + n) % 8).toBe(0);
    expect(bytes[8 + n - 1] === 0x20 || bytes[8 + n - 1] === 0x7d).toBe(true);
    const a = parseSafetensors(bytes, 'x.safetensors');
    expect(a.metadata).toEqual({ config: '{"x":1}' });
    expect(a.keys()).toEqual(['a', 'b.c']);
    expect(a.shape('a')).toEqual([2, 3]);
    const read = a.read('a');
    expect(Array.from(read.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(read.data.buffer).toBe(bytes.buffer); // aligned F32: a view, not a copy
    expect(maxAbsDiff(readAll(a), m)).toBe(0);
  });

  it('reads unaligned F32 data (copying one tensor)', async () => {
    const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const bytes = rawSafetensors({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data);
    // also from a Uint8Array at an odd byte offset inside a larger buffer
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    for (const b of [bytes, host.subarray(3)]) expect(Array.from(parseSafetensors(b, 'u').read('w').data)).toEqual([1.5, -2]);
  });

  it('decodes F16 bit patterns exactly', async () => {
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x8000, 0x3555, 0x0400];
    const bytes = rawSafetensors({ h: { dtype: 'F16', shape: [8], data_offsets: [0, 16] } }, u16(bits));
    const got = Array.from(parseSafetensors(bytes, 'h').read('h').data);
    expect(got).toEqual([1, -2, 65504, 2 ** -24, Infinity, -0, 0.333251953125, 2 ** -14]);
  });

  it('decodes BF16 and F64', async () => {
    const bf = rawSafetensors({ b: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 8] } }, u16([0x3f80, 0xc040, 0x7f80, 0x4049]));
    expect(Array.from(parseSafetensors(bf, 'b').read('b').data)).toEqual([1, -3, Infinity, 3.140625]);
    const f64 = rawSafetensors({ d: { dtype: 'F64', shape: [3], data_offsets: [0, 24] } }, new Uint8Array(new Float64Array([0.1, -1e300, 2]).buffer));
    const d = parseSafetensors(f64, 'd').read('d').data;
    expect(d[0]).toBe(Math.fround(0.1));
    expect(d[1]).toBe(-Infinity);
    expect(d[2]).toBe(2);
  });

  it('round-trips F16 and BF16 through the writer (representable values exactly, others to nearest)', async () => {
    const exact = [0, 1, -2, 0.5, 1.5, 65504, 2 ** -24, -0.125, 1024];
    for (const dtype of ['F16', 'BF16'] as const) {
      const bytes = writeSafetensors(new Map([['x', t([exact.length], exact)]]), undefined, { dtype });
      const a = parseSafetensors(bytes, dtype);
      expect(Array.from(a.read('x').data)).toEqual(exact.map((v) => (dtype === 'BF16' && v === 65504 ? 65536 : v)) /* 65504 needs 11 mantissa bits */);
    }
    const rnd = Array.from({ length: 257 }, (_, i) => Math.sin(i * 12.9898) * 43.7);
    const f16 = parseSafetensors(writeSafetensors(new Map([['r', t([257], rnd)]]), {}, { dtype: 'F16' }), 'r').read('r').data;
    const b16 = parseSafetensors(writeSafetensors(new Map([['r', t([257], rnd)]]), {}, { dtype: 'BF16' }), 'r').read('r').data;
    rnd.forEach((v, i) => {
      expect(Math.abs(f16[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 1e-7);
      expect(Math.abs(b16[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8 + 1e-30);
    });
  });

  it('rounds half precision to nearest even', async () => {
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1); // tie -> even
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9); // tie -> even (up)
    expect(halfToFloat(floatToHalf(70000))).toBe(Infinity);
    expect(halfToFloat(floatToHalf(2 ** -25))).toBe(0); // tie to even zero
    expect(halfToFloat(floatToHalf(3 * 2 ** -26))).toBe(2 ** -24);
    expect(floatToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(floatToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Number.isNaN(halfToFloat(floatToHalf(NaN)))).toBe(true);
  });

  describe('errors', () => {
    const good = writeSafetensors(
      new Map([
        ['w', t([2, 2], [1, 2, 3, 4])],
        ['b', t([2], [5, 6])],
      ]),
    );

    it('truncated: shorter than 8 bytes, header past the end, data cut off', async () => {
      for (const bytes of [good.subarray(0, 5), good.subarray(0, 20), good.subarray(0, good.length - 4)]) {
        const e = catchError(() => parseSafetensors(bytes, 'cut.safetensors'));
        expect(e.code).toBe('checkpoint/truncated');
        expect(e.message).toContain('cut.safetensors');
      }
      const e = catchError(() => parseSafetensors(good.subarray(0, good.length - 4), 'cut.safetensors'));
      expect(e.message).toMatch(/'b'|'w'/);
      expect(e.message).toMatch(/download it again/i);
    });

    it('not a checkpoint: PNG, JPEG, HTML, random text, zip bytes as safetensors', async () => {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
      const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]);
      const html = new TextEncoder().encode('<!DOCTYPE html><html><body>Sign in</body></html>');
      const text = new TextEncoder().encode('hello, this is not a checkpoint at all');
      const zip = zipSync({ 'a.txt': new Uint8Array([1, 2, 3]) });
      const small = new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('[1,2,3]         ')]);
      for (const [what, bytes] of [
        ['png', png],
        ['jpeg', jpeg],
        ['html', html],
        ['text', text],
        ['zip', zip],
        ['json array', small],
      ] as const) {
        const e = catchError(() => parseSafetensors(bytes, `${what}.safetensors`));
        expect(e.code, what).toBe('checkpoint/not-a-checkpoint');
        expect(e.message).toContain(`${what}.safetensors`);
      }
      expect(catchError(() => parseSafetensors(png, 'p')).message).toContain('PNG');
      expect(catchError(() => parseSafetensors(html, 'p')).message).toContain('HTML');
    });

    it('bad header: not JSON, not an object, bad metadata', async () => {
      const notJson = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{"a": 1,')]);
      expect(catchError(() => parseSafetensors(notJson, 'nj')).code).toBe('checkpoint/bad-header');
      const meta = rawSafetensors({ __metadata__: { a: 1 } }, new Uint8Array(0));
      expect(catchError(() => parseSafetensors(meta, 'm')).code).toBe('checkpoint/bad-header');
    });

    it('bad offsets: lying sizes, overlap, gap, out of range, trailing bytes', async () => {
      const data = new Uint8Array(24);
      const cases: [string, unknown, Uint8Array][] = [
        ['size', { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [3], data_offsets: [12, 24] } }, data],
        [
          'overlap',
          { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } },
          data.subarray(0, 20),
        ],
        ['gap', { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } }, data.subarray(0, 20)],
        ['trailing', { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data.subarray(0, 16)],
        ['negative', { w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, data.subarray(0, 8)],
        ['reversed', { w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data.subarray(0, 8)],
      ];
      for (const [what, header, d] of cases) {
        const e = catchError(() => parseSafetensors(rawSafetensors(header, d), `${what}.safetensors`));
        expect(e.code, what).toBe('checkpoint/bad-offsets');
        expect(e.message).toContain(`${what}.safetensors`);
      }
      expect(catchError(() => parseSafetensors(rawSafetensors(cases[0][1], data), 'f')).message).toContain("'w'");
      expect(catchError(() => parseSafetensors(rawSafetensors(cases[1][1], cases[1][2]), 'f')).message).toMatch(/overlap/);
    });

    it('unknown dtype', async () => {
      for (const dtype of ['I64', 'Q4_K', 'F8_E4M3']) {
        const e = catchError(() => parseSafetensors(rawSafetensors({ step: { dtype, shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), 'd.safetensors'));
        expect(e.code).toBe('checkpoint/unknown-dtype');
        expect(e.message).toContain('step');
        expect(e.message).toContain(dtype);
      }
    });
  });
});

describe('npy / npz', () => {
  it('parses v1/v2/v3 headers with f4, f8, f2 and big-endian f4', async () => {
    const f4 = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    for (const v of [1, 2, 3])
      expect(parseNpy(makeNpy('<f4', [2, 3], f4, false, v), 'x')).toEqual({ shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });
    const f8 = parseNpy(makeNpy('<f8', [3], new Uint8Array(new Float64Array([0.5, -1, 3]).buffer)), 'x');
    expect(Array.from(f8.data)).toEqual([0.5, -1, 3]);
    expect(Array.from(parseNpy(makeNpy('<f2', [2], u16([0x3c00, 0xc000])), 'x').data)).toEqual([1, -2]);
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.25, false);
    new DataView(be.buffer).setFloat32(4, -3, false);
    expect(Array.from(parseNpy(makeNpy('>f4', [2], be), 'x').data)).toEqual([1.25, -3]);
  });

  it('transposes fortran-order arrays to C order', async () => {
    // C-order [[1,2,3],[4,5,6]] stored column-major is 1,4,2,5,3,6
    const f = parseNpy(makeNpy('<f4', [2, 3], new Uint8Array(new Float32Array([1, 4, 2, 5, 3, 6]).buffer), true), 'x');
    expect(f.shape).toEqual([2, 3]);
    expect(Array.from(f.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const c3 = Float32Array.from({ length: 24 }, (_, i) => i); // C order of [2,3,4]
    const fortranBytes = permute({ shape: [2, 3, 4], data: c3 }, [2, 1, 0]).data; // = F order of [2,3,4]
    const g = parseNpy(makeNpy('<f4', [2, 3, 4], new Uint8Array(fortranBytes.buffer), true), 'x');
    expect(Array.from(g.data)).toEqual(Array.from(c3));
  });

  it('rejects bad npy headers and dtypes', async () => {
    const f4 = new Uint8Array(16);
    expect(catchError(() => parseNpy(makeNpy('<i8', [2], f4), 'a.npy')).code).toBe('checkpoint/unknown-dtype');
    expect(catchError(() => parseNpy(makeNpy('<f4', [8], f4), 'a.npy')).code).toBe('checkpoint/truncated');
    const broken = makeNpy('<f4', [4], f4);
    broken[6] = 9;
    expect(catchError(() => parseNpy(broken, 'a.npy')).code).toBe('checkpoint/bad-header');
    const noShape = makeNpy('<f4', [4], f4);
    noShape.set(new TextEncoder().encode('XXXXX'), 40); // clobber part of 'shape'
    expect(catchError(() => parseNpy(noShape, 'a.npy')).code).toBe('checkpoint/bad-header');
  });

  it('reads the stored fixture npz (zip64 local headers) and a deflated copy identically', async () => {
    const stored = fixture('timm_tiny_google.npz');
    const a = await openNpz(stored, 'timm_tiny_google.npz');
    expect(a.keys()).toContain('embedding/kernel');
    expect(a.shape('embedding/kernel')).toEqual([16, 16, 3, 48]);
    expect(a.shape('Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel')).toEqual([48, 3, 16]);
    const files = unzipSync(stored);
    const deflated = zipSync(files, { level: 6 });
    expect(deflated.length).toBeLessThan(stored.length);
    const b = await openNpz(deflated, 'deflated.npz');
    expect(b.keys().sort()).toEqual(a.keys().sort());
    for (const k of a.keys()) expect(b.shape(k)).toEqual(a.shape(k));
    expect(maxAbsDiff(await readAllAsync(a), await readAllAsync(b))).toBe(0);
    const ca = await loadCheckpoint(stored, { name: 'stored.npz' });
    const cb = await loadCheckpoint(deflated, { name: 'deflated.npz' });
    expect(maxAbsDiff(ca.tensors, cb.tensors)).toBe(0);
  });

  it('errors: truncated zip, zip without .npy, single .npy', async () => {
    const stored = fixture('timm_tiny_google.npz');
    const cut = await rejectionOf(openArchive(stored.subarray(0, 100_000), 'cut.npz'));
    expect(cut.code).toBe('checkpoint/truncated');
    expect(cut.message).toContain('cut.npz');
    const notNpz = await rejectionOf(openArchive(zipSync({ 'readme.txt': new Uint8Array([65]) }), 'r.npz'));
    expect(notNpz.code).toBe('checkpoint/not-a-checkpoint');
    expect(notNpz.message).toContain('readme.txt');
    const npy = await rejectionOf(openArchive(makeNpy('<f4', [1], new Uint8Array(4)), 'one.npy'));
    expect(npy.code).toBe('checkpoint/not-a-checkpoint');
    // central directory intact but an entry's data cut short
    const files = unzipSync(stored);
    const z = zipSync(files, { level: 0 });
    const dv = new DataView(z.buffer);
    let eocd = z.length - 22;
    while (dv.getUint32(eocd, true) !== 0x06054b50) eocd--;
    const cdOffset = dv.getUint32(eocd + 16, true);
    const mangled = z.slice();
    // Point the first central entry at a local offset past the end of the file.
    new DataView(mangled.buffer).setUint32(cdOffset + 42, z.length + 10, true);
    expect((await rejectionOf(openNpz(mangled, 'm.npz').then(readAllAsync))).code).toBe('checkpoint/truncated');
  });
});

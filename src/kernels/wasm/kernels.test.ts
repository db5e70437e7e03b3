/**
 * Every SIMD kernel on fixed, seeded inputs against test/fixtures/simd_kernels.safetensors, byte
 * for byte, over a shared memory and an unshared one; the memory contract (a kernel writes its
 * outputs and nothing else of the memory it imports, and the module has no state of its own); and
 * that module.gen.ts is what the sources assemble to.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../data/rng';
import { readAll } from '../../weights/formats/archive';
import { parseSafetensors, writeSafetensors } from '../../weights/formats/safetensors';
import { moduleSource } from './assemble';
import { KERNELS, type SimdKernels } from './kernels';
import { SIMD_MODULE } from './module.gen';
import { simdKernelsFor } from './simd';

const FIXTURE = new URL('../../../test/fixtures/simd_kernels.safetensors', import.meta.url);
const PAGES = 16; // 1 MiB: every case below fits

/** A float32 region of the test memory: its byte offset and length in floats. */
interface Region {
  at: number;
  n: number;
}

/** Lays regions out one after the other; `skew` bytes (a multiple of 4) shift a region off 16-byte alignment. */
class Heap {
  private next = 64;
  constructor(readonly memory: WebAssembly.Memory) {}
  region(n: number, skew = 0): Region {
    const at = Math.ceil(this.next / 16) * 16 + skew;
    this.next = at + 4 * n + 16;
    return { at, n };
  }
  view(r: Region): Float32Array {
    return new Float32Array(this.memory.buffer, r.at, r.n);
  }
  fill(r: Region, values: (i: number) => number): Region {
    const v = this.view(r);
    for (let i = 0; i < r.n; i++) v[i] = values(i);
    return r;
  }
}

/** One call of a kernel: what it reads is filled in already; `outputs` are the regions it may write. */
interface Case {
  outputs: Record<string, Region>;
  call(k: SimdKernels): void;
}

/** Seeded values in [lo, hi). */
function uniform(seed: number, lo = -4, hi = 4): (i: number) => number {
  const rand = mulberry32(seed);
  return () => lo + (hi - lo) * rand();
}

/** Normal values plus the tails and the points where a sign test or the exp clamp could go wrong. */
const GELU_SPECIAL = [0, -0, 1e-8, -1e-8, 6, -6, 12, -12, 40, -40, 1e30, -1e30, 87, -87, 13.2, -13.2];

/** The cases of each kernel, on inputs laid out in `h`. A new kernel without a case fails the test below. */
const CASES: { [K in keyof SimdKernels]: (h: Heap) => Case } = {
  gelu: (h) => {
    const n4 = 68; // 272 floats: 256 seeded, then the special points
    const r = uniform(1);
    const x = h.fill(h.region(4 * n4), (i) => (i < 256 ? r(i) : GELU_SPECIAL[i - 256]));
    const y = h.region(4 * n4);
    return { outputs: { y }, call: (k) => k.gelu(x.at, y.at, n4) };
  },
  geluGrad: (h) => {
    const n4 = 68;
    const r = uniform(2);
    const dy = h.fill(h.region(4 * n4), uniform(3, -1, 1));
    const x = h.fill(h.region(4 * n4, 4), (i) => (i < 256 ? r(i) : GELU_SPECIAL[i - 256]));
    const dx = h.region(4 * n4, 8);
    return { outputs: { dx }, call: (k) => k.geluGrad(dy.at, x.at, dx.at, n4) };
  },
  columnSum: (h) => {
    const [rows, cols4] = [7, 3]; // src [7, 12] -> dst [12]
    const src = h.fill(h.region(rows * 4 * cols4), uniform(4));
    const dst = h.region(4 * cols4);
    return { outputs: { dst }, call: (k) => k.columnSum(src.at, dst.at, rows, cols4) };
  },
  transpose4: (h) => {
    const [m, n] = [9, 10]; // src [9, 10] -> dst [10, 9]: 2 × 2 whole blocks, the edge left as it was
    const src = h.fill(h.region(m * n), uniform(5));
    const dst = h.fill(h.region(n * m), () => -1);
    return { outputs: { dst }, call: (k) => k.transpose4(src.at, dst.at, m, n) };
  },
  copyRuns: (h) => {
    // 5 runs of 3 floats, read 7 floats apart, written 4 floats apart (the 4th float of each stays).
    const src = h.fill(h.region(5 * 7), uniform(6));
    const dst = h.fill(h.region(5 * 4, 4), () => -1);
    return { outputs: { dst }, call: (k) => k.copyRuns(src.at, dst.at, 5, 12, 28, 16) };
  },
  layerNorm: (h) => {
    const [rows, d4] = [5, 5]; // x [5, 20]
    const x = h.fill(h.region(rows * 4 * d4), uniform(7, -3, 5));
    const g = h.fill(h.region(4 * d4), uniform(8, 0.5, 1.5));
    const b = h.fill(h.region(4 * d4), uniform(9, -0.5, 0.5));
    const [y, xh, rs] = [h.region(rows * 4 * d4), h.region(rows * 4 * d4), h.region(rows)];
    return { outputs: { y, xh, rs }, call: (k) => k.layerNorm(x.at, g.at, b.at, y.at, xh.at, rs.at, rows, d4, 1e-5) };
  },
  layerNormGrad: (h) => {
    const [rows, d4] = [5, 5]; // dy, x̂ [5, 20], rs [5], γ [20]
    const dy = h.fill(h.region(rows * 4 * d4), uniform(10, -1, 1));
    const xh = h.fill(h.region(rows * 4 * d4), uniform(11, -2, 2));
    const rs = h.fill(h.region(rows), uniform(12, 0.2, 3));
    const g = h.fill(h.region(4 * d4), uniform(13, 0.5, 1.5));
    const [dx, dg, db] = [h.region(rows * 4 * d4), h.region(4 * d4), h.region(4 * d4)];
    return { outputs: { dx, dg, db }, call: (k) => k.layerNormGrad(dy.at, xh.at, rs.at, g.at, dx.at, dg.at, db.at, rows, d4) };
  },
  adamW: (h) => {
    const n4 = 24; // 96 floats
    const w = h.fill(h.region(4 * n4), uniform(14, -1, 1));
    const g = h.fill(h.region(4 * n4), uniform(15, -0.1, 0.1));
    const m = h.fill(h.region(4 * n4), uniform(16, -0.01, 0.01));
    const v = h.fill(h.region(4 * n4), uniform(17, 0, 1e-3));
    const [w2, m2, v2] = [h.region(4 * n4), h.region(4 * n4), h.region(4 * n4)];
    const [b1, b2, lr, t] = [0.9, 0.999, 1e-3, 7];
    const [decay, c1, c2, eps] = [1 - lr * 0.05, 1 - b1 ** t, 1 - b2 ** t, 1e-8];
    return { outputs: { w2, m2, v2 }, call: (k) => k.adamW(w.at, g.at, m.at, v.at, w2.at, m2.at, v2.at, n4, b1, 1 - b1, b2, 1 - b2, decay, c1, c2, eps, lr) };
  },
  softmaxGrad: (h) => {
    const [rows, n] = [4, 13]; // p, dp [4, 13]: a ragged row, off 16-byte alignment
    const p = h.fill(h.region(rows * n, 4), uniform(18, 0, 0.2));
    const dp = h.fill(h.region(rows * n, 8), uniform(19, -1, 1));
    const ds = h.region(rows * n, 12);
    return { outputs: { ds }, call: (k) => k.softmaxGrad(p.at, dp.at, ds.at, rows, n) };
  },
  gemm: (h) => {
    // C [9, 13] = Aᵀ·B with A stored [k=7, m=9] (read transposed in place), B [7, 13] in rows of 15
    // floats, C in rows of 14: 4-row and 1-row tiles, 8-, 4- and 1-column tiles, padded strides.
    const [m, n, kk] = [9, 13, 7];
    const a = h.fill(h.region(kk * m), uniform(20));
    const b = h.fill(h.region(kk * 15), uniform(21));
    const c = h.fill(h.region(m * 14), () => -1);
    return { outputs: { c }, call: (k) => k.gemm(a.at, b.at, c.at, m, n, kk, 4, 4 * m, 4 * 15, 4 * 14) };
  },
  bgemm: (h) => {
    // 3 products C_i [6, 9] = A_i [6, 5]·B_i [5, 9], the operands of each a little apart.
    const [count, m, n, kk] = [3, 6, 9, 5];
    const [sa, sb, sc] = [4 * (m * kk + 3), 4 * (kk * n + 1), 4 * (m * n + 2)];
    const a = h.fill(h.region((count * sa) / 4), uniform(22));
    const b = h.fill(h.region((count * sb) / 4), uniform(23));
    const c = h.fill(h.region((count * sc) / 4), () => -1);
    return { outputs: { c }, call: (k) => k.bgemm(a.at, b.at, c.at, count, sa, sb, sc, m, n, kk, 4 * kk, 4, 4 * n, 4 * n) };
  },
};

/**
 * Runs one kernel's case on a fresh memory filled with a byte pattern, checks that every byte
 * outside its output regions is as it was, and returns the outputs' contents.
 */
function run(name: keyof SimdKernels, shared: boolean): Map<string, Float32Array> {
  const memory = new WebAssembly.Memory(shared ? { initial: PAGES, maximum: 65536, shared: true } : { initial: PAGES });
  const bytes = new Uint8Array(memory.buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + 7) & 0xff;
  const h = new Heap(memory);
  const c = CASES[name](h);
  const before = bytes.slice();
  const kernels = simdKernelsFor(memory);
  expect(kernels, 'this engine compiles the SIMD module').not.toBeNull();
  c.call(kernels!);
  const written = new Uint8Array(bytes.length);
  for (const r of Object.values(c.outputs)) written.fill(1, r.at, r.at + 4 * r.n);
  const stray = bytes.findIndex((b, i) => !written[i] && b !== before[i]);
  expect(stray, `${name} wrote outside its outputs (byte ${stray})`).toBe(-1);
  return new Map(Object.entries(c.outputs).map(([key, r]) => [`${name}.${key}`, h.view(r).slice()]));
}

/** The ids of a WebAssembly binary's sections, in order (each: id byte, LEB128 size, contents). */
function sectionIds(wasm: Uint8Array): number[] {
  const ids: number[] = [];
  for (let at = 8; at < wasm.length;) {
    ids.push(wasm[at++]);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = wasm[at++];
      size += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    at += size;
  }
  return ids;
}

const names = Object.keys(CASES) as (keyof SimdKernels)[];

/**
 * A new kernel has no recorded outputs yet: `SIMD_FIXTURE=add npx vitest run
 * src/kernels/wasm/kernels.test.ts` appends its case's outputs once its own test has shown them
 * right. Recorded outputs are never rewritten.
 */
function addMissing(): void {
  const file = parseSafetensors(readFileSync(FIXTURE), 'simd_kernels.safetensors');
  const recorded = readAll(file);
  const missing = names.filter((n) => ![...recorded.keys()].some((k) => k.startsWith(`${n}.`)));
  for (const n of missing) for (const [key, data] of run(n, false)) recorded.set(key, { shape: [data.length], data });
  if (missing.length) writeFileSync(FIXTURE, writeSafetensors(recorded, { ...file.metadata }));
}
if (process.env.SIMD_FIXTURE === 'add') addMissing();

const fixture = parseSafetensors(readFileSync(FIXTURE), 'simd_kernels.safetensors');

describe.each([false, true])('SIMD kernels over %s memory', (shared) => {
  it.each(names)('%s: the recorded outputs, bit for bit, and nothing written beside them', (name) => {
    const outputs = run(name, shared);
    expect([...outputs.keys()]).toEqual(fixture.keys().filter((k) => k.startsWith(`${name}.`)));
    for (const [key, got] of outputs) {
      const want = fixture.read(key);
      const [g, w] = [new Uint32Array(got.buffer), new Uint32Array(want.data.buffer, want.data.byteOffset, want.data.length)];
      const first = g.findIndex((bits, i) => bits !== w[i]);
      expect(first, `${key}[${first}]: ${got[first]} (0x${g[first]?.toString(16)}), recorded ${want.data[first]} (0x${w[first]?.toString(16)})`).toBe(-1);
      expect(g.length).toBe(w.length);
    }
  });
});

describe('the SIMD module', () => {
  it('is what wat/ and kernels.ts assemble to (after editing them, run `npm run kernels:build`)', () => {
    expect(moduleSource()).toBe(readFileSync(new URL('./module.gen.ts', import.meta.url), 'utf8'));
  });

  it('imports tfjs’ memory and nothing else, and exports one function per row of KERNELS, each with a case above', () => {
    expect(names).toEqual(Object.keys(KERNELS));
    for (const base64 of [SIMD_MODULE.unshared, SIMD_MODULE.shared]) {
      const module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
      expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      expect(WebAssembly.Module.exports(module)).toEqual(names.map((name) => ({ name, kind: 'function' })));
    }
  });

  it('declares no memory, table, global or data of its own: a kernel reaches only what its arguments point at', () => {
    for (const base64 of [SIMD_MODULE.unshared, SIMD_MODULE.shared]) {
      // Sections (binary format §5.5): custom 0, type 1, import 2, function 3, export 7, code 10 and
      // nothing else: no table 4, memory 5, global 6, start 8, element 9, data 11 or data count 12.
      expect([...new Set(sectionIds(Buffer.from(base64, 'base64')))].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 7, 10]);
    }
  });
});

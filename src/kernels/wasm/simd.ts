/**
 * A few element-wise loops as WebAssembly SIMD (4 float32 lanes) over tfjs' own WASM memory.
 *
 * tfjs-backend-wasm runs element-wise math as scalar C++ (`std::erf`, `std::exp`: 9 and 12 ns an
 * element here) and one operation per kernel; plain JS is no better (V8's `Math.exp` is 15 ns, and
 * `Math.round` alone 10). These loops are written directly as WebAssembly: the module is a few
 * hundred bytes, built below from its instructions (no compiler in the toolchain; the encoding is
 * the WebAssembly 1.0 binary format with the fixed-width SIMD proposal, both standard), compiled
 * once per memory, and imports the backend's memory, so the loops read and write tensors in place.
 * The threaded build's memory is shared, the single-threaded one's is not: the import declares
 * which, as instantiation demands.
 *
 * exp: e^a = 2^k · e^r with k = round(a·log2 e) (the 1.5·2²³ rounding trick), r = a − k·ln 2 in two
 * parts (Cody–Waite), e^r by its Taylor series to r⁷ (|r| ≤ 0.35: relative error < 1e-8 before
 * float32 rounding), 2^k built in the exponent bits. a is clamped to [−87, 0], where every 2^k is
 * a normal float32.
 */

import { helpersReady, runSplit } from './pool';

// ---- encoding ----

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));

const I32 = 0x7f,
  F32 = 0x7d,
  V128 = 0x7b;

/** Instructions used below (core and SIMD opcodes of the WebAssembly specification). */
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Eqz: [0x45],
  i32LtU: [0x49],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  memoryCopy: [0xfc, 0x0a, 0x00, 0x00], // memory.copy dst src n (bulk memory, standard since 2.0)
  call: (f: number) => [0x10, ...uleb(f)],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
};
const load = op.simd(0x00, 0, 0); // v128.load align=1 offset=0
const f32 = {
  load: [0x2a, 0x02, 0x00], // f32.load align=4
  store: [0x38, 0x02, 0x00],
  add: [0x92],
  sub: [0x93],
  mul: [0x94],
  div: [0x95],
  sqrt: [0x91],
  fromU32: [0xb3], // f32.convert_i32_u
  const: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
};
const splat = op.simd(0x13); // f32x4.splat
/** The four lanes of the v128 on the stack, summed: (l0 + l1) + (l2 + l3) as an f32. Uses local `tmp`. */
const hsum = (tmp: number): number[] => [
  ...op.tee(tmp),
  ...op.simd(0x1f, 0),
  ...op.get(tmp),
  ...op.simd(0x1f, 1),
  ...f32.add,
  ...op.get(tmp),
  ...op.simd(0x1f, 2),
  ...op.get(tmp),
  ...op.simd(0x1f, 3),
  ...f32.add,
  ...f32.add,
];
const store = op.simd(0x0b, 0, 0); // v128.store
const f32x4 = (v: number): number[] => {
  const b = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
  return op.simd(0x0c, ...b); // v128.const
};
const i32x4 = (v: number): number[] => op.simd(0x0c, ...new Uint8Array(new Int32Array([v, v, v, v]).buffer));
const fAbs = op.simd(0xe0),
  fNeg = op.simd(0xe1),
  fAdd = op.simd(0xe4),
  fSub = op.simd(0xe5),
  fMul = op.simd(0xe6),
  fDiv = op.simd(0xe7),
  fMax = op.simd(0xe9),
  fGe = op.simd(0x46),
  bitselect = op.simd(0x52),
  iTruncSat = op.simd(0xf8),
  iAdd = op.simd(0xae),
  iShl = op.simd(0xab);

/** i8x16.shuffle picking float32 lanes: 0-3 from the first operand, 4-7 from the second. */
const shuffle32 = (lanes: number[]): number[] => op.simd(0x0d, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));

/** A function body: locals (count, type) and instructions. */
function body(locals: [number, number][], code: number[][]): number[] {
  const b = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code.flat(), ...op.end];
  return [...uleb(b.length), ...b];
}

/** `for (; counter; counter--) step()`: the loop over rows, runs, heads and k below. */
function countDown(counter: number, step: number[][]): number[][] {
  return [
    op.block,
    op.loop,
    [...op.get(counter), ...op.i32Eqz, ...op.brIf(1)],
    ...step,
    [...op.get(counter), ...op.i32(1), ...op.i32Sub, ...op.set(counter)],
    op.br(0),
    op.end,
    op.end,
  ];
}

/**
 * `for (; count; count--, pointers += 16) step()` over pointer params 0..p−1 and the count in
 * param p: the loop of every element-wise kernel here.
 */
function eachVector(pointers: number, step: number[][]): number[][] {
  const advance = Array.from({ length: pointers }, (_, i) => [...op.get(i), ...op.i32(16), ...op.i32Add, ...op.set(i)]);
  return countDown(pointers, [...step, ...advance]);
}

/**
 * `while (ptr < end) { step(); ptr += bytes; others += bytes }`: the loops over one row.
 */
function whileBelow(ptr: number, end: number, bytes: number, step: number[][], others: number[] = []): number[][] {
  const advance = [ptr, ...others].map((l) => [...op.get(l), ...op.i32(bytes), ...op.i32Add, ...op.set(l)]);
  return [op.block, op.loop, [...op.get(ptr), ...op.get(end), ...op.i32GeU, ...op.brIf(1)], ...step, ...advance, op.br(0), op.end, op.end];
}

// ---- the math, as instruction sequences on locals ----

const LN2_HI = 0.693359375,
  LN2_LO = -2.1219444e-4;

/** local[out] = e^(local[a]) for a ≤ 0 (clamped at −87); uses locals k, r as scratch. */
function expNonPositive(a: number, out: number, k: number, r: number): number[][] {
  const taylor = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1];
  return [
    [...op.get(a), ...f32x4(-87), ...fMax, ...op.set(a)],
    // k = round(a·log2 e): adding and subtracting 1.5·2²³ rounds to the nearest integer.
    [...op.get(a), ...f32x4(Math.LOG2E), ...fMul, ...f32x4(12582912), ...fAdd, ...f32x4(12582912), ...fSub, ...op.set(k)],
    // r = a − k·ln2_hi − k·ln2_lo
    [...op.get(a), ...op.get(k), ...f32x4(LN2_HI), ...fMul, ...fSub, ...op.get(k), ...f32x4(LN2_LO), ...fMul, ...fSub, ...op.set(r)],
    // Horner: ((c7·r + c6)·r + …)·r + 1
    [...f32x4(taylor[0]), ...taylor.slice(1).flatMap((c) => [...op.get(r), ...fMul, ...f32x4(c), ...fAdd])],
    // × 2^k: (k + 127) << 23 is 2^k's bit pattern.
    [...op.get(k), ...iTruncSat, ...i32x4(127), ...iAdd, ...op.i32(23), ...iShl, ...fMul, ...op.set(out)],
  ];
}

// Φ(−|x|) = ½·erfc(|x|/√2) by Abramowitz & Stegun 7.1.26 (|erfc error| ≤ 1.5e-7):
// erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−z²), t = 1/(1 + p·z), z ≥ 0.
const AS_P = 0.3275911;
const AS_A = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592]; // a5 … a1

/**
 * From x in local[x]: local[e] = e^(−x²/2) (= e^(−z²)) and local[phi] = Φ(x). Scratch: z, t, k, r.
 */
function normalCdf(x: number, phi: number, e: number, z: number, t: number, k: number, r: number): number[][] {
  return [
    [...op.get(x), ...fAbs, ...f32x4(Math.SQRT1_2), ...fMul, ...op.set(z)],
    [...f32x4(1), ...f32x4(1), ...f32x4(AS_P), ...op.get(z), ...fMul, ...fAdd, ...fDiv, ...op.set(t)],
    [...op.get(z), ...op.get(z), ...fMul, ...fNeg, ...op.set(e)],
    ...expNonPositive(e, e, k, r),
    // tail = ½·t·poly(t)·e = Φ(−|x|)
    [...f32x4(AS_A[0]), ...AS_A.slice(1).flatMap((c) => [...op.get(t), ...fMul, ...f32x4(c), ...fAdd])],
    [...op.get(t), ...fMul, ...op.get(e), ...fMul, ...f32x4(0.5), ...fMul, ...op.set(t)],
    // Φ(x) = x ≥ 0 ? 1 − tail : tail
    [...f32x4(1), ...op.get(t), ...fSub, ...op.get(t), ...op.get(x), ...f32x4(0), ...fGe, ...bitselect, ...op.set(phi)],
  ];
}

// ---- the module ----

/**
 * columnSum(src, dst, rows, cols4): dst[j] = Σ_i src[i, j] over `rows` rows of cols4·4 floats, in
 * row order (the order tfjs' Sum adds them in is its own; float32 sums differ in the last bits).
 */
function columnSumBody(): number[] {
  const [SRC, DST, ROWS, COLS4] = [0, 1, 2, 3];
  const [Q, END] = [4, 5]; // i32
  return body(
    [[2, I32]],
    [
      [...op.get(DST), ...op.get(COLS4), ...op.i32(16), ...op.i32Mul, ...op.i32Add, ...op.set(END)],
      [...op.get(DST), ...op.set(Q)],
      ...whileBelow(Q, END, 16, [[...op.get(Q), ...f32x4(0), ...store]]),
      ...countDown(ROWS, [
        [...op.get(DST), ...op.set(Q)],
        ...whileBelow(Q, END, 16, [[...op.get(Q), ...op.get(Q), ...load, ...op.get(SRC), ...load, ...fAdd, ...store]], [SRC]),
      ]),
    ],
  );
}

/**
 * transpose4(src, dst, m, n): dst [n, m] = src [m, n]ᵀ over the ⌊m/4⌋·⌊n/4⌋ whole 4×4 blocks of
 * 4-byte elements (the caller copies the ragged edge). Each block: four row loads, eight lane
 * shuffles, four column stores; src is read in order, dst written four rows at a time.
 */
function transpose4Body(): number[] {
  const [SRC, DST, M, N] = [0, 1, 2, 3];
  const [NB, MB, P, Q, PEND, ROWS] = [4, 5, 6, 7, 8, 9]; // i32
  const [A, B, C, D, T0, T1, T2, T3] = [10, 11, 12, 13, 14, 15, 16, 17]; // v128
  const row = (k: number) => [...op.get(P), ...Array.from({ length: k }, () => [...op.get(NB), ...op.i32Add]).flat(), ...load];
  const col = (k: number) => [...op.get(Q), ...Array.from({ length: k }, () => [...op.get(MB), ...op.i32Add]).flat()];
  const step = [
    [...row(0), ...op.set(A)],
    [...row(1), ...op.set(B)],
    [...row(2), ...op.set(C)],
    [...row(3), ...op.set(D)],
    [...op.get(A), ...op.get(B), ...shuffle32([0, 4, 1, 5]), ...op.set(T0)], // a0 b0 a1 b1
    [...op.get(A), ...op.get(B), ...shuffle32([2, 6, 3, 7]), ...op.set(T1)], // a2 b2 a3 b3
    [...op.get(C), ...op.get(D), ...shuffle32([0, 4, 1, 5]), ...op.set(T2)], // c0 d0 c1 d1
    [...op.get(C), ...op.get(D), ...shuffle32([2, 6, 3, 7]), ...op.set(T3)], // c2 d2 c3 d3
    [...col(0), ...op.get(T0), ...op.get(T2), ...shuffle32([0, 1, 4, 5]), ...store], // a0 b0 c0 d0
    [...col(1), ...op.get(T0), ...op.get(T2), ...shuffle32([2, 3, 6, 7]), ...store],
    [...col(2), ...op.get(T1), ...op.get(T3), ...shuffle32([0, 1, 4, 5]), ...store],
    [...col(3), ...op.get(T1), ...op.get(T3), ...shuffle32([2, 3, 6, 7]), ...store],
    [...op.get(Q), ...op.get(MB), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(Q)],
  ];
  return body(
    [
      [6, I32],
      [8, V128],
    ],
    [
      [...op.get(N), ...op.i32(2), ...op.i32Shl, ...op.set(NB)],
      [...op.get(M), ...op.i32(2), ...op.i32Shl, ...op.set(MB)],
      [...op.get(M), ...op.i32(2), ...op.i32ShrU, ...op.set(ROWS)],
      ...countDown(ROWS, [
        [...op.get(SRC), ...op.set(P), ...op.get(DST), ...op.set(Q)],
        [...op.get(SRC), ...op.get(N), ...op.i32(2), ...op.i32ShrU, ...op.i32(4), ...op.i32Shl, ...op.i32Add, ...op.set(PEND)],
        ...whileBelow(P, PEND, 16, step),
        [...op.get(SRC), ...op.get(NB), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(SRC)],
        [...op.get(DST), ...op.i32(16), ...op.i32Add, ...op.set(DST)],
      ]),
    ],
  );
}

/**
 * copyRuns(src, dst, count, run, srcStride, dstStride): `count` runs of `run` bytes, read
 * `srcStride` bytes apart and written `dstStride` bytes apart (memory.copy each).
 */
function copyRunsBody(): number[] {
  const [SRC, DST, COUNT, RUN, SSTRIDE, DSTRIDE] = [0, 1, 2, 3, 4, 5];
  return body(
    [],
    [
      ...countDown(COUNT, [
        [...op.get(DST), ...op.get(SRC), ...op.get(RUN), ...op.memoryCopy],
        [...op.get(SRC), ...op.get(SSTRIDE), ...op.i32Add, ...op.set(SRC)],
        [...op.get(DST), ...op.get(DSTRIDE), ...op.i32Add, ...op.set(DST)],
      ]),
    ],
  );
}

/**
 * layerNorm(x, g, b, y, xh, rs, rows, d4, eps): per row of d = 4·d4 floats, mean, then the biased
 * variance of the centred row, r = 1/√(var + eps) (stored in rs, one f32 a row), x̂ = (x − mean)·r
 * (stored in xh, kept for the gradient) and y = x̂·g + b. Three passes over a row that is in cache.
 */
function layerNormBody(): number[] {
  const [X, G, B, Y, XH, RS, ROWS, D4, EPS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [P, END, GP, BP, YP, HP] = [9, 10, 11, 12, 13, 14]; // i32
  const [MEAN, R, D] = [15, 16, 17]; // f32
  const [ACC, V, MV, RV] = [18, 19, 20, 21]; // v128
  const zero = [...f32x4(0), ...op.set(ACC)];
  return body(
    [
      [6, I32],
      [3, F32],
      [4, V128],
    ],
    [
      [...op.get(D4), ...op.i32(2), ...op.i32Shl, ...f32.fromU32, ...op.set(D)],
      ...countDown(ROWS, [
        [...op.get(X), ...op.get(D4), ...op.i32(4), ...op.i32Shl, ...op.i32Add, ...op.set(END)],
        zero,
        [...op.get(X), ...op.set(P)],
        ...whileBelow(P, END, 16, [[...op.get(ACC), ...op.get(P), ...load, ...fAdd, ...op.set(ACC)]]),
        [...op.get(ACC), ...hsum(V), ...op.get(D), ...f32.div, ...op.tee(MEAN), ...splat, ...op.set(MV)],
        zero,
        [...op.get(X), ...op.set(P)],
        ...whileBelow(P, END, 16, [
          [...op.get(P), ...load, ...op.get(MV), ...fSub, ...op.tee(V)],
          [...op.get(V), ...fMul, ...op.get(ACC), ...fAdd, ...op.set(ACC)],
        ]),
        // r = 1/√(Σ(x − mean)²/d + eps)
        [...f32.const(1), ...op.get(ACC), ...hsum(V), ...op.get(D), ...f32.div, ...op.get(EPS), ...f32.add, ...f32.sqrt, ...f32.div, ...op.set(R)],
        [...op.get(RS), ...op.get(R), ...f32.store, ...op.get(RS), ...op.i32(4), ...op.i32Add, ...op.set(RS)],
        [...op.get(R), ...splat, ...op.set(RV)],
        [...op.get(X), ...op.set(P), ...op.get(G), ...op.set(GP), ...op.get(B), ...op.set(BP), ...op.get(Y), ...op.set(YP), ...op.get(XH), ...op.set(HP)],
        ...whileBelow(
          P,
          END,
          16,
          [
            [...op.get(P), ...load, ...op.get(MV), ...fSub, ...op.get(RV), ...fMul, ...op.set(V)],
            [...op.get(HP), ...op.get(V), ...store],
            [...op.get(YP), ...op.get(V), ...op.get(GP), ...load, ...fMul, ...op.get(BP), ...load, ...fAdd, ...store],
          ],
          [GP, BP, YP, HP],
        ),
        [...op.get(END), ...op.set(X), ...op.get(YP), ...op.set(Y), ...op.get(HP), ...op.set(XH)],
      ]),
    ],
  );
}

/**
 * layerNormGrad(dy, xh, rs, g, dx, dg, db, rows, d4): with ĝ = dy·g per row,
 * dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))·r; dg = Σ_rows dy·x̂ and db = Σ_rows dy, in row order.
 */
function layerNormGradBody(): number[] {
  const [DY, XH, RS, G, DX, DG, DB, ROWS, D4] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [P, END, HP, GP, OP, GQ, BQ] = [9, 10, 11, 12, 13, 14, 15]; // i32
  const [D] = [16]; // f32
  const [A1, A2, V, X, GD, M1, M2, RV] = [17, 18, 19, 20, 21, 22, 23, 24]; // v128
  return body(
    [
      [7, I32],
      [1, F32],
      [8, V128],
    ],
    [
      [...op.get(D4), ...op.i32(2), ...op.i32Shl, ...f32.fromU32, ...op.set(D)],
      // dg = db = 0
      [...op.get(DG), ...op.set(GQ), ...op.get(DG), ...op.get(D4), ...op.i32(4), ...op.i32Shl, ...op.i32Add, ...op.set(END)],
      ...whileBelow(GQ, END, 16, [[...op.get(GQ), ...f32x4(0), ...store]]),
      [...op.get(DB), ...op.set(GQ), ...op.get(DB), ...op.get(D4), ...op.i32(4), ...op.i32Shl, ...op.i32Add, ...op.set(END)],
      ...whileBelow(GQ, END, 16, [[...op.get(GQ), ...f32x4(0), ...store]]),
      ...countDown(ROWS, [
        [...op.get(DY), ...op.get(D4), ...op.i32(4), ...op.i32Shl, ...op.i32Add, ...op.set(END)],
        [...f32x4(0), ...op.set(A1), ...f32x4(0), ...op.set(A2)],
        [...op.get(DY), ...op.set(P), ...op.get(XH), ...op.set(HP), ...op.get(G), ...op.set(GP), ...op.get(DG), ...op.set(GQ), ...op.get(DB), ...op.set(BQ)],
        ...whileBelow(
          P,
          END,
          16,
          [
            [...op.get(P), ...load, ...op.set(V), ...op.get(HP), ...load, ...op.set(X)],
            [...op.get(V), ...op.get(GP), ...load, ...fMul, ...op.tee(GD), ...op.get(A1), ...fAdd, ...op.set(A1)],
            [...op.get(GD), ...op.get(X), ...fMul, ...op.get(A2), ...fAdd, ...op.set(A2)],
            [...op.get(GQ), ...op.get(GQ), ...load, ...op.get(V), ...op.get(X), ...fMul, ...fAdd, ...store],
            [...op.get(BQ), ...op.get(BQ), ...load, ...op.get(V), ...fAdd, ...store],
          ],
          [HP, GP, GQ, BQ],
        ),
        [...op.get(A1), ...hsum(V), ...op.get(D), ...f32.div, ...splat, ...op.set(M1)],
        [...op.get(A2), ...hsum(V), ...op.get(D), ...f32.div, ...splat, ...op.set(M2)],
        [...op.get(RS), ...f32.load, ...splat, ...op.set(RV)],
        [...op.get(DY), ...op.set(P), ...op.get(XH), ...op.set(HP), ...op.get(G), ...op.set(GP), ...op.get(DX), ...op.set(OP)],
        ...whileBelow(
          P,
          END,
          16,
          [
            [
              ...op.get(OP),
              ...op.get(P),
              ...load,
              ...op.get(GP),
              ...load,
              ...fMul,
              ...op.get(M1),
              ...fSub,
              ...op.get(HP),
              ...load,
              ...op.get(M2),
              ...fMul,
              ...fSub,
              ...op.get(RV),
              ...fMul,
              ...store,
            ],
          ],
          [HP, GP, OP],
        ),
        [...op.get(END), ...op.set(DY), ...op.get(HP), ...op.set(XH), ...op.get(OP), ...op.set(DX)],
        [...op.get(RS), ...op.i32(4), ...op.i32Add, ...op.set(RS)],
      ]),
    ],
  );
}

/**
 * softmaxGrad(p, dp, ds, rows, n): the softmax's backward pass per row of n floats (any n, any
 * alignment), ds = p·(dp − Σ_j dp_j·p_j): the dot product in SIMD lanes then the ragged tail, then
 * one pass for ds. tfjs did it as four kernels (Multiply, Sum, Sub, Multiply), a pass each.
 */
function softmaxGradBody(): number[] {
  const [PP, DP, DS, ROWS, N] = [0, 1, 2, 3, 4];
  const [A, B, C, END4, END] = [5, 6, 7, 8, 9]; // i32
  const [S] = [10]; // f32
  const [ACC, V, SV] = [11, 12, 13]; // v128
  return body(
    [
      [5, I32],
      [1, F32],
      [3, V128],
    ],
    [
      ...countDown(ROWS, [
        [...op.get(PP), ...op.get(N), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(END)],
        [...op.get(PP), ...op.get(N), ...op.i32(2), ...op.i32ShrU, ...op.i32(4), ...op.i32Shl, ...op.i32Add, ...op.set(END4)],
        [...f32x4(0), ...op.set(ACC), ...op.get(PP), ...op.set(A), ...op.get(DP), ...op.set(B)],
        ...whileBelow(A, END4, 16, [[...op.get(A), ...load, ...op.get(B), ...load, ...fMul, ...op.get(ACC), ...fAdd, ...op.set(ACC)]], [B]),
        [...op.get(ACC), ...hsum(V), ...op.set(S)],
        ...whileBelow(A, END, 4, [[...op.get(A), ...f32.load, ...op.get(B), ...f32.load, ...f32.mul, ...op.get(S), ...f32.add, ...op.set(S)]], [B]),
        [...op.get(S), ...splat, ...op.set(SV), ...op.get(PP), ...op.set(A), ...op.get(DP), ...op.set(B), ...op.get(DS), ...op.set(C)],
        ...whileBelow(A, END4, 16, [[...op.get(C), ...op.get(A), ...load, ...op.get(B), ...load, ...op.get(SV), ...fSub, ...fMul, ...store]], [B, C]),
        ...whileBelow(
          A,
          END,
          4,
          [[...op.get(C), ...op.get(A), ...f32.load, ...op.get(B), ...f32.load, ...op.get(S), ...f32.sub, ...f32.mul, ...f32.store]],
          [B, C],
        ),
        [...op.get(END), ...op.set(PP), ...op.get(B), ...op.set(DP), ...op.get(C), ...op.set(DS)],
      ]),
    ],
  );
}

/**
 * gemm(a, b, c, m, n, k, am, ak, bk, cm): C [m, n] = A [m, k]·B [k, n], B and C row-major (row
 * strides bk, cm bytes) and A read through two strides (am between rows, ak between columns, in
 * bytes), so that A may be a transposed view: A = Xᵀ for X [k, m] is am = 4, ak = 4·m. Tiles of
 * 4 rows × 8 columns (XNNPACK's wasmsimd "splat" tile: each A element broadcast, two B vectors,
 * eight accumulators), then 4 and 1 columns at the right edge, then single rows at the bottom;
 * every C element is the sum over k in order. No packing: a head's product is too small for a
 * packed copy to pay (the attention products are 197 × 197 × 64).
 */
function gemmBody(): number[] {
  const [A, B, C, M, N, K, AM, AK, BK, CM] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [NB, KK, PB, CP, L8, L4, L1] = [10, 11, 12, 13, 14, 15, 16]; // i32
  const PA = [17, 18, 19, 20]; // i32: the tile's A row pointers
  const ACC = [21, 22, 23, 24, 25, 26, 27, 28]; // v128
  const [B0, B1, AV] = [29, 30, 31]; // v128
  const FACC = [32, 33, 34, 35]; // f32: one column
  const [FB] = [36]; // f32
  const splatLoad = op.simd(0x09, 2, 0); // v128.load32_splat
  const load16 = op.simd(0x00, 0, 16);
  const store16 = op.simd(0x0b, 0, 16);
  /** Tiles of `rows` × `width` (8, 4 or 1 columns) from column byte NB while NB < limit (bytes). */
  const tile = (rows: number, width: 8 | 4 | 1, limit: number): number[][] => {
    const vecs = width === 8 ? 2 : 1;
    const zero =
      width === 1 ? FACC.slice(0, rows).map((l) => [...f32.const(0), ...op.set(l)]) : ACC.slice(0, vecs * rows).map((l) => [...f32x4(0), ...op.set(l)]);
    const step = PA.slice(0, rows).map((pa, i) =>
      width === 1
        ? [...op.get(FACC[i]), ...op.get(pa), ...f32.load, ...op.get(FB), ...f32.mul, ...f32.add, ...op.set(FACC[i])]
        : [
            ...op.get(pa),
            ...splatLoad,
            ...op.set(AV),
            ...[...op.get(ACC[vecs * i]), ...op.get(AV), ...op.get(B0), ...fMul, ...fAdd, ...op.set(ACC[vecs * i])],
            ...(vecs === 2 ? [...op.get(ACC[2 * i + 1]), ...op.get(AV), ...op.get(B1), ...fMul, ...fAdd, ...op.set(ACC[2 * i + 1])] : []),
          ],
    );
    const loadB =
      width === 1
        ? [...op.get(PB), ...f32.load, ...op.set(FB)]
        : [...op.get(PB), ...load, ...op.set(B0), ...(vecs === 2 ? [...op.get(PB), ...load16, ...op.set(B1)] : [])];
    const storeRow = (i: number) =>
      width === 1
        ? [...op.get(CP), ...op.get(FACC[i]), ...f32.store]
        : [...op.get(CP), ...op.get(ACC[vecs * i]), ...store, ...(vecs === 2 ? [...op.get(CP), ...op.get(ACC[2 * i + 1]), ...store16] : [])];
    return whileBelow(NB, limit, 4 * width, [
      ...zero,
      [...op.get(A), ...op.set(PA[0])],
      ...PA.slice(1, rows).map((l, i) => [...op.get(PA[i]), ...op.get(AM), ...op.i32Add, ...op.set(l)]),
      [...op.get(B), ...op.get(NB), ...op.i32Add, ...op.set(PB), ...op.get(K), ...op.set(KK)],
      ...countDown(KK, [
        loadB,
        ...step,
        ...PA.slice(0, rows).map((pa) => [...op.get(pa), ...op.get(AK), ...op.i32Add, ...op.set(pa)]),
        [...op.get(PB), ...op.get(BK), ...op.i32Add, ...op.set(PB)],
      ]),
      [...op.get(C), ...op.get(NB), ...op.i32Add, ...op.set(CP)],
      ...Array.from({ length: rows }, (_, i) => [...storeRow(i), ...(i < rows - 1 ? [...op.get(CP), ...op.get(CM), ...op.i32Add, ...op.set(CP)] : [])]),
    ]);
  };
  const rowsOf = (rows: number): number[][] => [
    op.block,
    op.loop,
    [...op.get(M), ...op.i32(rows), ...op.i32LtU, ...op.brIf(1)],
    [...op.i32(0), ...op.set(NB)],
    ...tile(rows, 8, L8),
    ...tile(rows, 4, L4),
    ...tile(rows, 1, L1),
    [...op.get(A), ...op.get(AM), ...op.i32(rows), ...op.i32Mul, ...op.i32Add, ...op.set(A)],
    [...op.get(C), ...op.get(CM), ...op.i32(rows), ...op.i32Mul, ...op.i32Add, ...op.set(C)],
    [...op.get(M), ...op.i32(rows), ...op.i32Sub, ...op.set(M)],
    op.br(0),
    op.end,
    op.end,
  ];
  return body(
    [
      [11, I32],
      [11, V128],
      [5, F32],
    ],
    [
      // Column limits in bytes: whole 8-column blocks, then one 4-column block, then single columns.
      [...op.get(N), ...op.i32(3), ...op.i32ShrU, ...op.i32(5), ...op.i32Shl, ...op.set(L8)],
      [...op.get(N), ...op.i32(2), ...op.i32ShrU, ...op.i32(4), ...op.i32Shl, ...op.set(L4)],
      [...op.get(N), ...op.i32(2), ...op.i32Shl, ...op.set(L1)],
      ...rowsOf(4),
      ...rowsOf(1),
    ],
  );
}

/**
 * bgemm(a, b, c, count, sa, sb, sc, m, n, k, am, ak, bk, cm): `count` gemms (see gemmBody), the
 * operands of each `sa`, `sb`, `sc` bytes after the previous one's: a batch of attention heads.
 */
function bgemmBody(gemm: number): number[] {
  const [A, B, C, COUNT, SA, SB, SC] = [0, 1, 2, 3, 4, 5, 6];
  return body(
    [],
    [
      ...countDown(COUNT, [
        [A, B, C, 7, 8, 9, 10, 11, 12, 13].flatMap((l) => op.get(l)),
        op.call(gemm),
        [...op.get(A), ...op.get(SA), ...op.i32Add, ...op.set(A), ...op.get(B), ...op.get(SB), ...op.i32Add, ...op.set(B)],
        [...op.get(C), ...op.get(SC), ...op.i32Add, ...op.set(C)],
      ]),
    ],
  );
}

/**
 * adamW(w, g, m, v, w2, m2, v2, n4, b1, 1−b1, b2, 1−b2, decay, c1, c2, eps, lr): one AdamW update
 * over n4·4 floats, each operation in the order and float32 rounding of the tfjs expression it
 * replaces (src/train/optimizer.ts): m2 = m·b1 + g·(1−b1); v2 = v·b2 + g²·(1−b2);
 * w2 = w·decay − ((m2 / c1) / (√(v2 / c2) + eps))·lr.
 */
function adamWBody(): number[] {
  const [W, G, M, V, W2, M2, V2] = [0, 1, 2, 3, 4, 5, 6]; // then n4 (7): eachVector's count
  const [B1, NB1, B2, NB2, DECAY, C1, C2, EPS, LR] = [8, 9, 10, 11, 12, 13, 14, 15, 16]; // f32
  const [GV, MV, VV] = [17, 18, 19]; // v128
  const [SB1, SNB1, SB2, SNB2, SDECAY, SC1, SC2, SEPS, SLR] = [20, 21, 22, 23, 24, 25, 26, 27, 28]; // v128 splats
  const fSqrt = op.simd(0xe3);
  return body(
    [[12, V128]],
    [
      ...[B1, NB1, B2, NB2, DECAY, C1, C2, EPS, LR].map((f, i) => [...op.get(f), ...splat, ...op.set(SB1 + i)]),
      ...eachVector(7, [
        [...op.get(G), ...load, ...op.set(GV)],
        [...op.get(M2), ...op.get(M), ...load, ...op.get(SB1), ...fMul, ...op.get(GV), ...op.get(SNB1), ...fMul, ...fAdd, ...op.tee(MV), ...store],
        [
          ...op.get(V2),
          ...op.get(V),
          ...load,
          ...op.get(SB2),
          ...fMul,
          ...op.get(GV),
          ...op.get(GV),
          ...fMul,
          ...op.get(SNB2),
          ...fMul,
          ...fAdd,
          ...op.tee(VV),
          ...store,
        ],
        [
          ...op.get(W2),
          ...op.get(W),
          ...load,
          ...op.get(SDECAY),
          ...fMul,
          ...op.get(MV),
          ...op.get(SC1),
          ...fDiv,
          ...op.get(VV),
          ...op.get(SC2),
          ...fDiv,
          ...fSqrt,
          ...op.get(SEPS),
          ...fAdd,
          ...fDiv,
          ...op.get(SLR),
          ...fMul,
          ...fSub,
          ...store,
        ],
      ]),
    ],
  );
}

/** gelu(x, y, n4): y = x·Φ(x). geluGrad(dy, x, dx, n4): dx = dy·(Φ(x) + x·φ(x)). n4 = elements / 4. */
function moduleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const fn = (params: number[]) => [0x60, ...vec(params.map((t) => [t])), ...vec([])];
  const i32s = (n: number) => Array.from({ length: n }, () => I32);
  const types = section(
    1,
    vec([
      fn(i32s(3)),
      fn(i32s(4)),
      fn(i32s(6)),
      fn([...i32s(8), F32]),
      fn(i32s(9)),
      fn([...i32s(8), ...Array.from({ length: 9 }, () => F32)]),
      fn(i32s(5)),
      fn(i32s(10)),
      fn(i32s(14)),
    ]),
  );
  // Shared memory must declare a maximum; 65536 pages is the 4 GiB a 32-bit heap can reach.
  const limits = shared ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]]));
  const funcs = section(3, vec([[0], [1], [1], [1], [2], [3], [4], [5], [6], [7], [8]]));
  const exports = section(
    7,
    vec(
      ['gelu', 'geluGrad', 'columnSum', 'transpose4', 'copyRuns', 'layerNorm', 'layerNormGrad', 'adamW', 'softmaxGrad', 'gemm', 'bgemm'].map((n, i) => [
        ...name(n),
        0x00,
        i,
      ]),
    ),
  );
  // Locals after the params: v128 x, phi, e, z, t, k, r.
  const [X, PHI, E, Z, T, K, R] = [0, 1, 2, 3, 4, 5, 6];
  const gelu = (() => {
    const l = (i: number) => 3 + i; // params: x, y, n4
    return body(
      [[7, V128]],
      eachVector(2, [
        [...op.get(0), ...load, ...op.set(l(X))],
        ...normalCdf(l(X), l(PHI), l(E), l(Z), l(T), l(K), l(R)),
        [...op.get(1), ...op.get(l(X)), ...op.get(l(PHI)), ...fMul, ...store],
      ]),
    );
  })();
  const geluGrad = (() => {
    const l = (i: number) => 4 + i; // params: dy, x, dx, n4
    return body(
      [[7, V128]],
      eachVector(3, [
        [...op.get(1), ...load, ...op.set(l(X))],
        ...normalCdf(l(X), l(PHI), l(E), l(Z), l(T), l(K), l(R)),
        // dx = dy·(Φ + x·e/√(2π))
        [
          ...op.get(2),
          ...op.get(0),
          ...load,
          ...op.get(l(PHI)),
          ...op.get(l(X)),
          ...op.get(l(E)),
          ...fMul,
          ...f32x4(1 / Math.sqrt(2 * Math.PI)),
          ...fMul,
          ...fAdd,
          ...fMul,
          ...store,
        ],
      ]),
    );
  })();
  const code = section(
    10,
    vec([
      gelu,
      geluGrad,
      columnSumBody(),
      transpose4Body(),
      copyRunsBody(),
      layerNormBody(),
      layerNormGradBody(),
      adamWBody(),
      softmaxGradBody(),
      gemmBody(),
      bgemmBody(9),
    ]),
  );
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}

export interface SimdKernels {
  /** y = x·Φ(x) over n4·4 floats at byte offsets x, y. */
  gelu(x: number, y: number, n4: number): void;
  /** dx = dy·(Φ(x) + x·φ(x)) over n4·4 floats. */
  geluGrad(dy: number, x: number, dx: number, n4: number): void;
  /** dst[j] = Σ_i src[i, j] over `rows` rows of cols4·4 floats. */
  columnSum(src: number, dst: number, rows: number, cols4: number): void;
  /** dst [n, m] = src [m, n]ᵀ (4-byte elements) over the whole 4×4 blocks only. */
  transpose4(src: number, dst: number, m: number, n: number): void;
  /** `count` runs of `run` bytes, read srcStride and written dstStride bytes apart. */
  copyRuns(src: number, dst: number, count: number, run: number, srcStride: number, dstStride: number): void;
  /** Per row of d4·4 floats: y = x̂·g + b, x̂ = (x − mean)·r stored, r = 1/√(var + eps) stored in rs. */
  layerNorm(x: number, g: number, b: number, y: number, xh: number, rs: number, rows: number, d4: number, eps: number): void;
  /** dx = (dy·g − mean(dy·g) − x̂·mean(dy·g·x̂))·r per row; dg = Σ_rows dy·x̂, db = Σ_rows dy. */
  layerNormGrad(dy: number, xh: number, rs: number, g: number, dx: number, dg: number, db: number, rows: number, d4: number): void;
  /** One AdamW update over n4·4 floats into new w2, m2, v2 (see adamWBody). */
  adamW(w: number, g: number, m: number, v: number, w2: number, m2: number, v2: number, n4: number, ...f32: number[]): void;
  /** ds = p·(dp − Σ_j dp_j·p_j) per row of n floats. */
  softmaxGrad(p: number, dp: number, ds: number, rows: number, n: number): void;
  /** C [m, n] = A·B, A read through strides am, ak (bytes) (see gemmBody). */
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, am: number, ak: number, bk: number, cm: number): void;
  /** `count` gemms whose operands lie sa, sb, sc bytes apart. */
  bgemm(
    a: number,
    b: number,
    c: number,
    count: number,
    sa: number,
    sb: number,
    sc: number,
    m: number,
    n: number,
    k: number,
    am: number,
    ak: number,
    bk: number,
    cm: number,
  ): void;
}

const byMemory = new WeakMap<WebAssembly.Memory, { kernels: SimdKernels; module: WebAssembly.Module } | null>();

function compiledFor(memory: WebAssembly.Memory): { kernels: SimdKernels; module: WebAssembly.Module } | null {
  let c = byMemory.get(memory);
  if (c !== undefined) return c;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const module = new WebAssembly.Module(moduleBytes(shared));
    c = { kernels: new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels, module };
  } catch {
    c = null; // no SIMD (or an engine that refuses the module): the callers keep tfjs' ops
  }
  byMemory.set(memory, c);
  return c;
}

/** The kernels bound to `memory`, or null where this engine lacks WebAssembly SIMD. Compiled once per memory. */
export function simdKernelsFor(memory: WebAssembly.Memory): SimdKernels | null {
  return compiledFor(memory)?.kernels ?? null;
}

/**
 * Runs a vector loop of the module (`fn`: its pointer arguments, then the vector count n4, then
 * `scalars`) over n4 vectors of 4 floats, split over the WASM threads where it is large enough
 * (pool.ts): each chunk's pointers advance by 16 bytes a vector. Only for element-wise loops.
 */
export function splitVectors(memory: WebAssembly.Memory, fn: 'gelu' | 'geluGrad' | 'adamW', pointers: number[], n4: number, scalars: number[] = []): void {
  const c = compiledFor(memory)!;
  runSplit(memory, c.module, c.kernels[fn] as (...a: number[]) => void, fn, n4, 4 * n4, (start, len) => [
    ...pointers.map((p) => p + 16 * start),
    len,
    ...scalars,
  ]);
}

/** LayerNorm forward (see SimdKernels.layerNorm) with its rows split over the WASM threads. */
export function splitLayerNorm(
  memory: WebAssembly.Memory,
  x: number,
  g: number,
  b: number,
  y: number,
  xh: number,
  rs: number,
  rows: number,
  d4: number,
  eps: number,
): void {
  const c = compiledFor(memory)!;
  const row = 16 * d4; // bytes
  runSplit(memory, c.module, c.kernels.layerNorm as (...a: number[]) => void, 'layerNorm', rows, 4 * d4 * rows, (s, len) => [
    x + row * s,
    g,
    b,
    y + row * s,
    xh + row * s,
    rs + 4 * s,
    len,
    d4,
    eps,
  ]);
}

/** The softmax's backward pass (see SimdKernels.softmaxGrad) with its rows split over the WASM threads. */
export function splitSoftmaxGrad(memory: WebAssembly.Memory, p: number, dp: number, ds: number, rows: number, n: number): void {
  const c = compiledFor(memory)!;
  const row = 4 * n; // bytes
  runSplit(memory, c.module, c.kernels.softmaxGrad as (...a: number[]) => void, 'softmaxGrad', rows, n * rows, (s, len) => [
    p + row * s,
    dp + row * s,
    ds + row * s,
    len,
    n,
  ]);
}

/**
 * A batch of products C_i = A_i·B_i (see SimdKernels.gemm; byte offsets and strides), the batch
 * split over the WASM threads: each thread takes whole products, so no thread waits on another
 * inside one.
 */
export function splitGemm(
  memory: WebAssembly.Memory,
  p: {
    a: number;
    b: number;
    c: number;
    count: number;
    sa: number;
    sb: number;
    sc: number;
    m: number;
    n: number;
    k: number;
    am: number;
    ak: number;
    bk: number;
    cm: number;
  },
): void {
  const c = compiledFor(memory)!;
  runSplit(memory, c.module, c.kernels.bgemm as (...a: number[]) => void, 'bgemm', p.count, p.count * p.m * p.n, (s, len) => [
    p.a + p.sa * s,
    p.b + p.sb * s,
    p.c + p.sc * s,
    len,
    p.sa,
    p.sb,
    p.sc,
    p.m,
    p.n,
    p.k,
    p.am,
    p.ak,
    p.bk,
    p.cm,
  ]);
}

/** Waits until the helper threads for `memory` take work (tests), false where none run. */
export function simdHelpersReady(memory: WebAssembly.Memory, timeoutMs?: number): Promise<boolean> {
  const c = compiledFor(memory);
  return c ? helpersReady(memory, c.module, timeoutMs) : Promise.resolve(false);
}

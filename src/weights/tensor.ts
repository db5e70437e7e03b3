/**
 * Plain-array helpers for host tensors: sizes, shape strings, axis permutation and the
 * half-precision conversions. No tfjs; everything is row-major (C order).
 */
import type { HostTensor } from './types';

/** Number of elements of a shape ([] is a scalar: 1). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `[a,b,c]`, the way every error message prints a shape. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Reorders axes: output axis k is input axis perm[k] (numpy's `transpose(perm)`), returning a
 * new row-major array. A 2-D transpose is perm [1, 0]; HWIO -> OIHW is [3, 2, 0, 1].
 */
export function permute(t: HostTensor, perm: readonly number[]): HostTensor {
  const { shape, data } = t;
  const n = shape.length;
  if (perm.length !== n) throw new Error(`permute: perm ${shapeStr(perm)} does not fit shape ${shapeStr(shape)}`);
  const outShape = perm.map((p) => shape[p]);
  const out = new Float32Array(data.length);
  if (n === 2 && perm[0] === 1) {
    // [R, C] -> [C, R]
    const R = shape[0],
      C = shape[1];
    for (let r = 0; r < R; r++) {
      const row = r * C;
      for (let c = 0; c < C; c++) out[c * R + r] = data[row + c];
    }
    return { shape: outShape, data: out };
  }
  // Input strides, then the stride in the input of each output axis.
  const inStrides = new Array<number>(n);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const strides = perm.map((p) => inStrides[p]);
  const idx = new Array<number>(n).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    // Odometer increment over the output index, tracking the input offset.
    for (let k = n - 1; k >= 0; k--) {
      idx[k]++;
      src += strides[k];
      if (idx[k] < outShape[k]) break;
      src -= strides[k] * outShape[k];
      idx[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** IEEE binary16 bits -> number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number -> IEEE binary16 bits, rounding to nearest even (overflow -> infinity). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mant |= 0x800000; // implicit one
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // may carry into the exponent: correct
  return sign | half;
}

/** number -> bfloat16 bits, rounding to nearest even (NaN stays NaN). */
export function floatToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** NaN and ±Infinity values of a tensor (one pass; ~0.1 s for ViT-B/16's 86 M weights). */
export function countNonFinite(data: ArrayLike<number>): { count: number; nan: number } {
  let count = 0,
    nan = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      count++;
      if (v !== v) nan++;
    }
  }
  return { count, nan };
}

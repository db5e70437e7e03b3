/**
 * The SIMD kernels, declared once: each row names a kernel and its parameters. From this table
 * come the module's function headers and exports (assemble.ts writes `(func $name (export "name")
 * (param $p i32) …)` around the body in wat/<name>.wat), the TypeScript type of the exports
 * (`SimdKernels`) and the list of kernels the thread pool may run (pool.ts).
 *
 * Parameters are i32 unless written `name:f32`. Pointers are byte offsets into tfjs' WASM memory
 * (any multiple of 4); a kernel reads and writes only the tensors these offsets and counts
 * describe. `split`: every output element depends on its own inputs only, so the pool may cut the
 * work into chunks over its threads and get the same bits as one thread.
 *
 * Adding a kernel: a row here, its body in wat/<name>.wat, `npm run kernels:build`, a test of its
 * numbers against a reference, and a case in kernels.test.ts (which records its outputs into the
 * fixture once, with SIMD_FIXTURE=add).
 */

interface Kernel {
  readonly params: readonly string[];
  readonly split?: true;
}

export const KERNELS = {
  /** y = x·Φ(x) (exact GELU) over n4·4 floats. */
  gelu: { params: ['x', 'y', 'n4'], split: true },
  /** dx = dy·(Φ(x) + x·φ(x)), GELU's derivative, over n4·4 floats. */
  geluGrad: { params: ['dy', 'x', 'dx', 'n4'], split: true },
  /** dst [cols4·4] = Σ_i src [rows, cols4·4] [i, :], added in row order. */
  columnSum: { params: ['src', 'dst', 'rows', 'cols4'] },
  /** dst [n, m] = src [m, n]ᵀ over the ⌊m/4⌋·⌊n/4⌋ whole 4×4 blocks of 4-byte elements; the edge is left as it was. */
  transpose4: { params: ['src', 'dst', 'm', 'n'] },
  /** `count` runs of `run` bytes, read srcStride and written dstStride bytes apart. */
  copyRuns: { params: ['src', 'dst', 'count', 'run', 'srcStride', 'dstStride'] },
  /** Per row of x [rows, d4·4]: r = 1/√(var + eps) into rs [rows], x̂ = (x − mean)·r into xh, y = x̂·g + b. */
  layerNorm: { params: ['x', 'g', 'b', 'y', 'xh', 'rs', 'rows', 'd4', 'eps:f32'], split: true },
  /** With ĝ = dy·g per row: dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))·r; dg = Σ_rows dy·x̂ and db = Σ_rows dy [d4·4]. */
  layerNormGrad: { params: ['dy', 'xh', 'rs', 'g', 'dx', 'dg', 'db', 'rows', 'd4'] },
  /**
   * One AdamW update over n4·4 floats into w2, m2, v2, in the order and float32 rounding of the
   * tfjs expression it replaces (src/train/optimizer.ts): m2 = m·b1 + g·(1−b1);
   * v2 = v·b2 + g²·(1−b2); w2 = w·decay − ((m2 / c1) / (√(v2 / c2) + eps))·lr.
   */
  adamW: {
    params: [
      ...['w', 'g', 'm', 'v', 'w2', 'm2', 'v2', 'n4'],
      ...['b1:f32', 'oneMinusB1:f32', 'b2:f32', 'oneMinusB2:f32', 'decay:f32', 'c1:f32', 'c2:f32', 'eps:f32', 'lr:f32'],
    ],
    split: true,
  },
  /** ds = p·(dp − Σ_j dp_j·p_j) per row of p, dp, ds [rows, n] (any n): the softmax's backward pass. */
  softmaxGrad: { params: ['p', 'dp', 'ds', 'rows', 'n'], split: true },
  /**
   * C [m, n] = A [m, k]·B [k, n], B and C row-major with row strides bk, cm (bytes), A read through
   * am (between rows) and ak (between columns) so that A may be a transposed view.
   */
  gemm: { params: ['a', 'b', 'c', 'm', 'n', 'k', 'am', 'ak', 'bk', 'cm'] },
  /** `count` gemms, the operands of each sa, sb, sc bytes after the previous one's: a batch of attention heads. */
  bgemm: { params: ['a', 'b', 'c', 'count', 'sa', 'sb', 'sc', 'm', 'n', 'k', 'am', 'ak', 'bk', 'cm'], split: true },
} as const satisfies Record<string, Kernel>;

export type KernelName = keyof typeof KERNELS;

/** A number for each parameter (a mapped tuple type: it keeps the count). */
type Arguments<P extends readonly string[]> = { -readonly [I in keyof P]: number };

/** The module's exports: one function per row of KERNELS. */
export type SimdKernels = { -readonly [K in KernelName]: (...args: Arguments<(typeof KERNELS)[K]['params']>) => void };

/** The kernels the thread pool may split (see KERNELS). */
export type SplitKernel = { [K in KernelName]: (typeof KERNELS)[K] extends { split: true } ? K : never }[KernelName];

export const SPLIT_KERNELS = (Object.keys(KERNELS) as KernelName[]).filter((k): k is SplitKernel => 'split' in KERNELS[k]);

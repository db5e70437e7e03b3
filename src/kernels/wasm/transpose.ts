/**
 * Transpose for the WASM backend as block copies over the heap (the SIMD kernels transpose4 and
 * copyRuns, wat/).
 *
 * A ViT step transposes ~200 times (each linear layer's Xᵀ for dW and Wᵀ for dX, attention's kᵀ,
 * Pᵀ, dSᵀ, vᵀ, the head split and merge), and tfjs-backend-wasm's Transpose is a scalar C++ loop,
 * one element at a time with index arithmetic per element, on one thread.
 * Every one of them is, once size-1 axes are dropped and axes that stay neighbours are merged, a
 * swap of two axes [B, M, N, C] -> [B, N, M, C]: with C = 1 (a batch of matrix transposes) 4×4
 * blocks of lanes, shuffled in registers; with C > 1 (the heads, C = head size) runs of C elements,
 * memory.copy each. Other permutations, other element sizes and the identity keep tfjs' kernel.
 * A transpose is a copy: the result is bit-identical to tfjs' (the tests check it).
 *
 * Heap access as in fused.ts: the output is allocated first, views of the heap are made after it.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernelsFor } from './simd';

interface HeapBackend {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

/**
 * The permutation reduced: size-1 axes dropped, input axes that stay adjacent (in order) in the
 * output merged. Returns the merged input shape and the permutation of the merged axes.
 */
export function reducePermutation(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const renumber = new Map(kept.map((axis, i) => [axis, i]));
  const p = perm.filter((a) => shape[a] !== 1).map((a) => renumber.get(a)!);
  const s = kept.map((a) => shape[a]);
  // Groups of output positions whose input axes are consecutive.
  const groups: number[][] = [];
  for (const a of p) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else groups.push([a]);
  }
  const byInput = [...groups].sort((x, y) => x[0] - y[0]);
  return {
    shape: byInput.map((g) => g.reduce((n, a) => n * s[a], 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/** [B, M, N, C] for a reduced permutation that swaps two neighbouring axes, else null. */
export function asAxisSwap(r: { shape: number[]; perm: number[] }): [number, number, number, number] | null {
  const { shape: s, perm: p } = r;
  const key = p.join(',');
  if (key === '1,0') return [1, s[0], s[1], 1];
  if (key === '0,2,1') return [s[0], s[1], s[2], 1];
  if (key === '1,0,2') return [1, s[0], s[1], s[2]];
  if (key === '0,2,1,3') return [s[0], s[1], s[2], s[3]];
  return null;
}

/** out [B, N, M, C] = x [B, M, N, C] with axes 1 and 2 swapped, 4-byte elements, inside the heap. */
function swapInHeap(b: HeapBackend, x: tf.TensorInfo, out: tf.TensorInfo, [batch, m, n, c]: number[]): void {
  const memory = (b.wasm.wasmMemory ?? b.wasm.asm?.memory)!;
  const k = simdKernelsFor(memory)!;
  const src = b.dataIdMap.get(x.dataId)!.memoryOffset,
    dst = b.dataIdMap.get(out.dataId)!.memoryOffset;
  const size = 4 * m * n * c; // bytes per batch item
  for (let i = 0; i < batch; i++) {
    const s = src + i * size,
      d = dst + i * size;
    if (c > 1) {
      // Rows of runs: the longer of the two loops inside WebAssembly.
      if (n >= m) for (let r = 0; r < m; r++) k.copyRuns(s + r * n * c * 4, d + r * c * 4, n, c * 4, c * 4, m * c * 4);
      else for (let col = 0; col < n; col++) k.copyRuns(s + col * c * 4, d + col * m * c * 4, m, c * 4, n * c * 4, c * 4);
      continue;
    }
    k.transpose4(s, d, m, n);
    // The ragged edge (rows or columns past the last whole 4×4 block), element by element as bits.
    const m4 = m - (m % 4),
      n4 = n - (n % 4);
    if (m4 === m && n4 === n) continue;
    const heap = new Uint32Array(memory.buffer);
    const si = s / 4,
      di = d / 4;
    for (let r = 0; r < m; r++) for (let col = r < m4 ? n4 : 0; col < n; col++) heap[di + col * m + r] = heap[si + r * n + col];
  }
}

function makeTranspose(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = args.attrs.perm as number[];
    const b = args.backend as HeapBackend;
    const memory = b.wasm.wasmMemory ?? b.wasm.asm?.memory;
    const swap = (x.dtype === 'float32' || x.dtype === 'int32') && memory ? asAxisSwap(reducePermutation(x.shape, perm)) : null;
    if (!swap || !simdKernelsFor(memory!)) return original(args as never) as tf.TensorInfo;
    const out = b.makeOutput(
      perm.map((a) => x.shape[a]),
      x.dtype,
    );
    if (tf.util.sizeFromShape(x.shape) > 0) swapInHeap(b, x, out, swap);
    return out;
  };
}

let registered = false;

/** Replaces the WASM backend's Transpose with the block copies above (once per process). */
export function registerHeapTranspose(): void {
  if (registered) return;
  const original = tf.getKernel('Transpose', 'wasm');
  if (!original) return;
  tf.unregisterKernel('Transpose', 'wasm');
  // tfjs' kernel binds its C++ entry point in setupFunc, once per backend instance: keep it.
  tf.registerKernel({ ...original, kernelFunc: makeTranspose(original.kernelFunc) as unknown as tf.KernelFunc });
  registered = true;
}

/**
 * Slice and SplitV for the WASM backend that copy only what they return.
 *
 * tfjs-backend-wasm 4.22's Slice starts with `backend.readSync(x)`, a copy of the whole input out
 * of the heap into a new JS array, then copies the slice from that copy; SplitV is one such Slice
 * per piece: splitting a ViT-Ti/16 block's q, k, v heads at batch 8 ([B, 3H, T, hd], 9.7 MB) copies
 * 29 MB out of the heap, then the pieces back row by row (4 728 rows of 64 floats each), on one
 * thread. These copy the slice inside the heap (`copyWithin`: one block when the slice is
 * contiguous, else one per contiguous run). Strings keep tfjs' own kernels (their bytes live
 * outside the heap).
 */
import * as tf from '@tensorflow/tfjs';

interface SliceBackend {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap };

/** Copies x[begin : begin + size] into a new tensor, inside the heap. */
function sliceInHeap(b: SliceBackend, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = b.makeOutput(size, x.dtype); // the only allocation: views below are made after it
  const n = tf.util.sizeFromShape(size);
  if (n === 0) return out;
  const memory = (b.wasm.wasmMemory ?? b.wasm.asm?.memory)!;
  const heap = new Uint8Array(memory.buffer);
  const bytes = tf.util.bytesPerElement(x.dtype);
  const src = b.dataIdMap.get(x.dataId)!.memoryOffset,
    dst = b.dataIdMap.get(out.dataId)!.memoryOffset;
  const strides = tf.util.computeStrides(x.shape); // elements, one per axis but the last
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const from = src + bytes * tf.slice_util.computeFlatOffset(begin, strides);
    heap.copyWithin(dst, from, from + bytes * n);
    return out;
  }
  // The slice is runs of contiguous memory: the innermost axis it cuts (k), times every axis after
  // it (taken whole). One copy per run, walking the axes before k like an odometer: splitting q, k,
  // v out of [B, 3H, T, hd] along axis 1 is B copies per piece.
  let k = x.shape.length - 1;
  while (k > 0 && begin[k] === 0 && size[k] === x.shape[k]) k--;
  const run = bytes * size[k] * (k + 1 < x.shape.length ? strides[k] : 1);
  const index = new Array<number>(k).fill(0);
  for (let written = 0; written < n * bytes; written += run) {
    let at = begin[k] * (k + 1 < x.shape.length ? strides[k] : 1);
    for (let d = 0; d < k; d++) at += (begin[d] + index[d]) * strides[d];
    heap.copyWithin(dst + written, src + at * bytes, src + at * bytes + run);
    for (let d = k - 1; d >= 0 && ++index[d] === size[d]; d--) index[d] = 0;
  }
  return out;
}

function isHeapTensor(x: tf.TensorInfo): boolean {
  return x.dtype !== 'string';
}

function makeSlice(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!isHeapTensor(x) || x.shape.length === 0) return original(args as never) as tf.TensorInfo;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs.begin as number[], args.attrs.size as number[]);
    return sliceInHeap(args.backend as SliceBackend, x, begin, size);
  };
}

function makeSplitV(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!isHeapTensor(x)) return original(args as never) as tf.TensorInfo[];
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs.numOrSizeSplits as number[] | number, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[axis] = s;
      const piece = sliceInHeap(args.backend as SliceBackend, x, begin.slice(), size);
      begin[axis] += s;
      return piece;
    });
  };
}

let registered = false;

/** Replace the WASM backend's Slice and SplitV with the in-heap copies above (once per process). */
export function registerHeapSlice(): void {
  if (registered) return;
  for (const [name, make] of [
    ['Slice', makeSlice],
    ['SplitV', makeSplitV],
  ] as const) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: make(original.kernelFunc) as unknown as tf.KernelFunc });
  }
  registered = true;
}

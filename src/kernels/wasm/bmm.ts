/**
 * Batched matmul for the WASM backend that reaches its fast 2-D path.
 *
 * tfjs-backend-wasm runs a plain 2-D product (batch 1, no transposes) through XNNPACK, but any
 * batch > 1 or transposed product through a naive loop, an order of magnitude slower, and
 * attention is exactly batched products. Slicing the batch into separate tensors costs a copy
 * and a kernel launch per slice. Instead this kernel registers zero-copy *views* of each batch
 * element (an id pointing into the input's heap memory) with the WASM runtime and calls its 2-D
 * product once per element, writing straight into the output's memory.
 *
 * This uses the WASM backend's internals (dataIdMap, tfjs.registerTensor / disposeData, the
 * BatchMatMul export), pinned to tfjs 4.22; `isAvailable()` checks they exist, and the model
 * falls back to the stock batched product when they do not.
 */
import * as tf from '@tensorflow/tfjs';

export const LAB_BMM = 'LabBatchMatMulNN';

interface WasmModule {
  cwrap(name: string, ret: null, args: string[]): unknown;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}
interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

type WasmBmm = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  ta: boolean,
  tb: boolean,
  outId: number,
) => void;
/** The runtime's 2-D product, bound per module: a fresh backend (a new heap) is a new module. */
const wasmBmmByModule = new WeakMap<WasmModule, WasmBmm>();

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/** a [N, M, K] · b [N, K, P] -> [N, M, P], both plain (no transposes). */
function labBmm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const backend = args.backend as WasmBackendInternals;
  const a = args.inputs.a as tf.TensorInfo,
    b = args.inputs.b as tf.TensorInfo;
  const [n, m, k] = a.shape,
    p = b.shape[2];
  let wasmBmm = wasmBmmByModule.get(backend.wasm);
  if (!wasmBmm) {
    wasmBmm = backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as WasmBmm;
    wasmBmmByModule.set(backend.wasm, wasmBmm);
  }
  const out = backend.makeOutput([n, m, p], 'float32');
  // Byte offsets into the heap, never typed-array views: a view of the heap's buffer detaches
  // when the heap grows (XNNPACK allocates while packing each product's operand), an offset
  // stays valid because allocations never move.
  const aOff = backend.dataIdMap.get(a.dataId).memoryOffset;
  const bOff = backend.dataIdMap.get(b.dataId).memoryOffset;
  const oOff = backend.dataIdMap.get(out.dataId).memoryOffset;
  const aShape = shapeBytes([1, m, k]),
    bShape = shapeBytes([1, k, p]);
  const ids: number[] = [];
  const view = (offset: number, size: number) => {
    const id = backend.dataIdNextNumber++;
    backend.wasm.tfjs.registerTensor(id, size, offset);
    ids.push(id);
    return id;
  };
  try {
    for (let i = 0; i < n; i++) {
      const av = view(aOff + i * m * k * 4, m * k);
      const bv = view(bOff + i * k * p * 4, k * p);
      const ov = view(oOff + i * m * p * 4, m * p);
      wasmBmm(av, aShape, 3, bv, bShape, 3, false, false, ov);
    }
  } finally {
    // Views own no memory: forget them (and any operator the runtime cached for them).
    for (const id of ids) backend.wasm.tfjs.disposeData(id);
  }
  return out;
}

/** Whether the running backend is WASM with the internals this kernel needs. */
export function isAvailable(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const b = tf.backend() as unknown as Partial<WasmBackendInternals>;
  return !!(
    typeof b.wasm?.tfjs?.registerTensor === 'function' &&
    typeof b.wasm.tfjs.disposeData === 'function' &&
    b.dataIdMap &&
    typeof b.dataIdNextNumber === 'number' &&
    typeof b.wasm.cwrap === 'function'
  );
}

/** Registers the kernel with tfjs once (tfjs' own registry says whether it is there). */
export function registerLabBmm(): void {
  if (tf.getKernel(LAB_BMM, 'wasm')) return;
  tf.registerKernel({ kernelName: LAB_BMM, backendName: 'wasm', kernelFunc: labBmm as unknown as tf.KernelFunc });
}

/** a [N, M, K] · b [N, K, P], no gradient of its own (used inside custom gradients). */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return tf.engine().runKernel(LAB_BMM, { a, b }, {}) as tf.Tensor3D;
}

/**
 * The WASM heap made safe: growth in the middle of the lab's kernels changes no number, a full
 * heap is a named error that leaves the module usable, saved tensors share their buffers, and no
 * kernel source holds a typed-array view of the heap.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../../backend/node';
import { LAB_BMM } from './bmm';
import { wasmKernels } from './attention';
import { LAB_GEMM, registerFused } from './fused';
import { freshWasmBackend, guardMalloc, wasmHeapBytes, WasmHeapExhausted } from './heap';

interface WasmInternals {
  wasm: { _malloc(n: number): number; _free(p: number): void; HEAPU8: Uint8Array; tfjs: { registerTensor(id: number, size: number, offset: number): void } };
  getMemoryOffset(dataId: object): number;
}
const backend = () => tf.backend() as unknown as WasmInternals;
const MiB = 2 ** 20;

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/**
 * q, k, v [BH, T, hd] with fixed values, and the attention output and its three gradients.
 * `xnnpack`: the per-head products through XNNPACK (bmm.ts), the SIMD product unregistered.
 */
function attentionCase(xnnpack = false): { out: Float32Array; grads: Float32Array[] } {
  const attention = wasmKernels().attention;
  if (xnnpack) tf.unregisterKernel(LAB_GEMM, 'wasm');
  expect(attention).toBeDefined();
  const [bh, t, hd] = [4, 37, 16];
  const mk = (seed: number) => tf.randomNormal([bh, t, hd], 0, 1, 'float32', seed) as tf.Tensor3D;
  const q = mk(1),
    k = mk(2),
    v = mk(3);
  const r = tf.randomNormal([bh, t, hd], 0, 1, 'float32', 4);
  const out = tf.tidy(() => attention(q, k, v, 0.25));
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    tf.sum(tf.mul(attention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, 0.25), r)),
  )([q, k, v]);
  const res = { out: out.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  tf.dispose([q, k, v, r, out, ...grads]);
  return res;
}

describe('heap growth in the middle of the WASM attention kernel (its XNNPACK per-head products)', () => {
  it('gives the same numbers, forward and backward, as without growth', async () => {
    await freshWasmBackend();
    wasmKernels();
    // The SIMD product (fused.ts) allocates nothing once its output exists; XNNPACK's per-head
    // products (bmm.ts, its fallback) allocate while packing, between views: that path is tested.
    const reference = attentionCase(true);

    // Inside every lab batched product, allocate a block the heap has no room for right after
    // the kernel registered its per-head views: the heap grows (its old ArrayBuffer detaches)
    // between the products of one kernel call.
    const b = backend();
    const engine = tf.engine() as unknown as { runKernel(name: string, inputs: unknown, attrs: unknown): unknown };
    const runKernel = engine.runKernel;
    const register = b.wasm.tfjs.registerTensor;
    let insideBmm = false,
      growths = 0,
      bmmCalls = 0,
      registered = 0;
    const blocks: number[] = [];
    engine.runKernel = function (name, inputs, attrs) {
      const prev = insideBmm;
      insideBmm = name === LAB_BMM;
      if (insideBmm) {
        bmmCalls++;
        registered = 0;
      }
      try {
        return runKernel.call(this, name, inputs, attrs);
      } finally {
        insideBmm = prev;
      }
    };
    b.wasm.tfjs.registerTensor = (id, size, offset) => {
      register(id, size, offset);
      // The kernel registers 3 views per head, then multiplies: grow after the first head.
      if (!insideBmm || ++registered !== 4) return;
      const before = b.wasm.HEAPU8.buffer.byteLength;
      blocks.push(b.wasm._malloc(128 * MiB)); // more than the heap's growth slack (20 %, at most 96 MiB)
      if (b.wasm.HEAPU8.buffer.byteLength > before) growths++;
    };
    let grown: ReturnType<typeof attentionCase>;
    try {
      grown = attentionCase(true);
    } finally {
      delete (engine as { runKernel?: unknown }).runKernel;
      b.wasm.tfjs.registerTensor = register;
      for (const p of blocks) b.wasm._free(p);
      registerFused();
    }
    expect(bmmCalls).toBeGreaterThanOrEqual(7); // 2 products forward, 5 backward
    expect(growths).toBe(bmmCalls);
    expect(Array.from(grown.out)).toEqual(Array.from(reference.out));
    grown.grads.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(reference.grads[i])));
  });
});

describe('a full WASM heap', () => {
  it('is a named error at the allocation, and the module keeps working after it', async () => {
    await freshWasmBackend();
    expect(guardMalloc()).toBe(true);
    const b = backend();
    // Reserve most of the 4 GiB (never touched, so it costs address space, not memory)...
    const reserve = [b.wasm._malloc(1800 * MiB), b.wasm._malloc(1800 * MiB)];
    expect(reserve.every((p) => p > 0)).toBe(true);
    // ...then ask tfjs for more than is left: without the guard this tensor would sit at address 0.
    let caught: unknown;
    try {
      tf.tidy(() => tf.fill([200 * MiB], 1)); // 800 MiB
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WasmHeapExhausted);
    expect((caught as WasmHeapExhausted).code).toBe('run/out-of-memory');
    expect((caught as Error).message).toMatch(/WASM heap is full/);
    for (const p of reserve) b.wasm._free(p);
    const sum = tf.tidy(() => tf.sum(tf.add(tf.ones([1000]), tf.ones([1000]))));
    expect(sum.dataSync()[0]).toBe(2000);
    sum.dispose();
    await freshWasmBackend();
    expect(wasmHeapBytes()!).toBeLessThan(256 * MiB); // a new module starts with a small heap
  });
});

describe('a fresh heap after a failed case', () => {
  it('discards what was left behind when asked, and refuses otherwise', async () => {
    await freshWasmBackend();
    const left = tf.fill([64 * MiB], 1); // 256 MiB that a failed case never disposed
    expect(wasmHeapBytes()!).toBeGreaterThan(256 * MiB);
    await expect(freshWasmBackend()).rejects.toThrow(/still live/);
    await freshWasmBackend({ discard: true });
    expect(tf.memory().numTensors).toBe(0);
    expect(wasmHeapBytes()!).toBeLessThan(64 * MiB);
    expect(left.isDisposed).toBe(false); // a stale handle: its module is gone
    wasmKernels();
    const sum = tf.tidy(() => tf.sum(tf.ones([10])));
    expect(sum.dataSync()[0]).toBe(10);
    sum.dispose();
  });
});

describe('tensors saved for the backward pass', () => {
  it('share their buffer on WASM (no copy per saved tensor)', async () => {
    wasmKernels();
    const x = tf.randomNormal([1000]);
    const c = tf.clone(x);
    expect(backend().getMemoryOffset(c.dataId)).toBe(backend().getMemoryOffset(x.dataId));
    const expected = Array.from(x.dataSync());
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual(expected); // the buffer lives while a reference does
    c.dispose();
  });
});

describe('WASM kernel sources', () => {
  it('hold byte offsets into the heap, never typed-array views of it', () => {
    const dir = path.dirname(new URL(import.meta.url).pathname);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(2);
    for (const f of sources) {
      const lines = readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(\*|\/\/)/.test(l));
      // Reading the heap's size is fine; making an array over its buffer, or asking tfjs for one, is not.
      const bad = lines.filter((l) => /typedArrayFromHeap|HEAP(F32|32|U32|16|U16|8|F64)\b|HEAPU8(?!\.buffer\.byteLength|\??: Uint8Array)/.test(l));
      expect(bad, `${f} holds a view of the WASM heap`).toEqual([]);
    }
  });
});

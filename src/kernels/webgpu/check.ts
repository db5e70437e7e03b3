/**
 * Kernel-by-kernel check of the lab's WebGPU kernels against the stock tfjs path on random
 * inputs: forward and every gradient (through tf.grads with a random upstream gradient), judged
 * as max|lab − stock| / max(1, max|stock|) against the WebGPU tolerance. Optionally times each
 * kernel (forward + backward, median of a few runs) on both paths.
 */
import * as tf from '@tensorflow/tfjs';
import { stockKernels } from '../../model/ops';
import { kernelsFor } from '../index';
import { labAttention, labBiasGelu, labLayerNorm, labKernelCalls, webgpuKernels } from './index';

export interface KernelCheckRow {
  kernel: string;
  shape: string;
  /** 'forward' or 'grad <input>'. */
  output: string;
  maxAbsError: number;
  scale: number;
  ok: boolean;
  /** Wall time of this case's check (first row of a case). */
  checkMs?: number;
  /** Forward + backward median ms, when timed. */
  labMs?: number;
  stockMs?: number;
}

interface Case {
  kernel: string;
  shape: string;
  /** Inputs (random), the differentiable ones first. */
  make: () => tf.Tensor[];
  /** Names of the inputs that get gradients (a prefix of make()'s list). */
  grads: string[];
  lab: (...t: tf.Tensor[]) => tf.Tensor;
  stock: (...t: tf.Tensor[]) => tf.Tensor;
  /** 'vit': ViT-sized, checked with `full`; 'bench': only when timing (too slow on SwiftShader for e2e). */
  heavy?: 'vit' | 'bench';
}

let seed = 1;
const rnd = (shape: number[], s = 1) => tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed++), s));

function linearCases(n: number, i: number, o: number, bias: boolean, gradW: boolean, heavy?: 'vit' | 'bench'): Case {
  const shape = `x[${n},${i}]·W[${i},${o}]${bias ? '+b' : ''}${gradW ? '' : ' (frozen W)'}`;
  // The lab's linear as the model calls it: W and b train when they are variables, else only dX flows.
  const param = (t: tf.Tensor) => (gradW ? tf.variable(t, true) : t);
  return {
    kernel: 'matmul',
    shape,
    heavy,
    make: () => [rnd([n, i]), param(rnd([i, o], 0.2)), ...(bias ? [param(rnd([o]))] : [])],
    grads: gradW ? (bias ? ['x', 'W', 'b'] : ['x', 'W']) : ['x'],
    lab: (x, w, b) => webgpuKernels().linear(x as tf.Tensor2D, w as tf.Tensor2D, (b as tf.Tensor1D) ?? null),
    // Stock = plain tfjs with its own MatMul gradient (transposed products).
    stock: (x, w, b) => (b ? tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b) : tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)),
  };
}

function cases(full: boolean, bench: boolean): Case[] {
  const list: Case[] = [
    // Fixture-like shapes (2 images × 17 tokens, hidden 48, MLP 192), then unaligned ones.
    linearCases(34, 48, 144, true, true),
    linearCases(37, 30, 10, true, true),
    linearCases(21, 48, 9, false, true),
    linearCases(34, 48, 48, true, false),
    linearCases(394, 768, 768, true, true, 'bench'),
    linearCases(197, 192, 64, true, true, 'vit'),
    ...[
      [2, 17, 48],
      [3, 5, 30],
      [2, 197, 768],
    ].map((s, i): Case => ({
      kernel: 'layerNorm',
      shape: `x[${s}]`,
      heavy: i === 2 ? 'vit' : undefined,
      make: () => [tf.add(rnd(s, 2), 0.5), tf.add(rnd([s[2]], 0.3), 1), rnd([s[2]], 0.3)],
      grads: ['x', 'gamma', 'beta'],
      lab: (x, g, b) => labLayerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-6),
      stock: (x, g, b) => stockKernels.layerNorm(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-6),
    })),
    ...[
      [34, 192],
      [7, 13],
      [394, 3072],
    ].map((s, i): Case => ({
      kernel: 'gelu',
      shape: `x[${s}]`,
      heavy: i === 2 ? 'vit' : undefined,
      make: () => [rnd(s, 2)],
      grads: ['x'],
      lab: (x) => labBiasGelu(x),
      stock: (x) => stockKernels.gelu(x),
    })),
    ...[
      [34, 192],
      [5, 6],
    ].map((s): Case => ({
      kernel: 'bias+gelu',
      shape: `x[${s}]+b`,
      make: () => [rnd(s, 2), rnd([s[1]])],
      grads: ['x', 'b'],
      lab: (x, b) => labBiasGelu(x, b as tf.Tensor1D),
      stock: (x, b) => stockKernels.gelu(tf.add(x, b)),
    })),
    ...[
      [6, 17, 16],
      [3, 5, 7],
      [2, 40, 128],
      [24, 197, 64],
    ].map((s, i): Case => ({
      kernel: 'attention',
      shape: `q,k,v[${s}]`,
      heavy: i === 3 ? 'vit' : undefined,
      make: () => [rnd(s), rnd(s), rnd(s)],
      grads: ['q', 'k', 'v'],
      lab: (q, k, v) => labAttention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, 1 / Math.sqrt(s[2])),
      stock: (q, k, v) => stockKernels.attention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, 1 / Math.sqrt(s[2])),
    })),
  ];
  return list.filter((c) => !c.heavy || (c.heavy === 'vit' && full) || (c.heavy === 'bench' && bench));
}

async function compare(a: tf.Tensor, b: tf.Tensor, tol: number): Promise<{ maxAbsError: number; scale: number; ok: boolean }> {
  const [x, y] = await Promise.all([a.data(), b.data()]);
  let err = x.length === y.length ? 0 : Infinity,
    peak = 0;
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const e = Math.abs(x[i] - y[i]);
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
    peak = Math.max(peak, Math.abs(y[i]));
  }
  const scale = Math.max(1, peak);
  return { maxAbsError: err, scale, ok: err <= tol * scale };
}

/** Forward + all gradients of `fn`, as tensors: [y, ...dInputs]. */
function fwdBwd(fn: (...t: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], nGrad: number, dy: tf.Tensor): tf.Tensor[] {
  const diff = inputs.slice(0, nGrad);
  const rest = inputs.slice(nGrad);
  const y = fn(...inputs);
  const grads = tf.grads((...d: tf.Tensor[]) => fn(...d, ...rest))(diff, dy);
  return [y, ...grads];
}

async function timeIt(run: () => tf.Tensor[], reps: number): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    const t0 = performance.now();
    const outs = tf.tidy(run);
    await Promise.all(outs.map((o) => o.data()));
    tf.dispose(outs);
    if (r > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export async function runKernelCheck(
  opts: { full?: boolean; timing?: boolean; reps?: number; tolerance?: number; only?: string[] } = {},
): Promise<KernelCheckRow[]> {
  if (tf.getBackend() !== 'webgpu') throw new Error(`The WebGPU kernel check needs the webgpu backend, not ${tf.getBackend()}.`);
  const tol = opts.tolerance ?? 1e-3;
  const rows: KernelCheckRow[] = [];
  for (const c of cases(!!opts.full, !!opts.timing)) {
    if (opts.only && !opts.only.includes(c.kernel)) continue;
    const caseT0 = performance.now();
    const inputs = c.make();
    const y0 = tf.tidy(() => c.stock(...inputs));
    const yShape = y0.shape;
    y0.dispose();
    const dy = rnd(yShape);
    const dev = (tf.backend() as unknown as { device: GPUDevice }).device;
    dev.pushErrorScope('validation');
    const caseStart = tf.memory().numTensors;
    const lab = tf.tidy(() => fwdBwd(c.lab, inputs, c.grads.length, dy));
    // The lab kernels leave nothing behind but their outputs (the stock path is tfjs' business).
    const caseLeak = tf.memory().numTensors - caseStart - lab.length;
    await lab[0].data();
    const gpuErr = await dev.popErrorScope();
    // A shader that fails to compile or bind leaves its output unwritten: report it as such.
    if (gpuErr)
      rows.push({
        kernel: c.kernel,
        shape: c.shape,
        output: `GPU error: ${gpuErr.message.split('\n')[0].slice(0, 200)}`,
        maxAbsError: Infinity,
        scale: 1,
        ok: false,
      });
    const stock = tf.tidy(() => fwdBwd(c.stock, inputs, c.grads.length, dy));
    const names = ['forward', ...c.grads.map((g) => `grad ${g}`)];
    let labMs: number | undefined, stockMs: number | undefined;
    if (opts.timing) {
      labMs = await timeIt(() => fwdBwd(c.lab, inputs, c.grads.length, dy), opts.reps ?? 3);
      stockMs = await timeIt(() => fwdBwd(c.stock, inputs, c.grads.length, dy), opts.reps ?? 3);
    }
    for (let i = 0; i < names.length; i++) {
      rows.push({
        kernel: c.kernel,
        shape: c.shape,
        output: names[i],
        ...(await compare(lab[i], stock[i], tol)),
        ...(i === 0 ? { labMs, stockMs, checkMs: Math.round(performance.now() - caseT0) } : {}),
      });
    }
    tf.dispose([...inputs, dy, ...lab, ...stock]);
    if (caseLeak !== 0) rows.push({ kernel: c.kernel, shape: c.shape, output: 'tensor-leak', maxAbsError: caseLeak, scale: 1, ok: false });
  }
  // The kernels a model gets on WebGPU (kernels/index.ts kernelsFor) go through the lab's kernels.
  const before = { ...labKernelCalls };
  const { linear, layerNorm, gelu, attention } = kernelsFor('webgpu');
  tf.dispose(
    tf.tidy(() => {
      const x = rnd([4, 8]);
      const q = rnd([2, 3, 4]);
      return [
        linear(x as tf.Tensor2D, rnd([8, 8]) as tf.Tensor2D, null),
        layerNorm(x, tf.ones([8]) as tf.Tensor1D, tf.zeros([8]) as tf.Tensor1D, 1e-6),
        gelu(x),
        attention(q as tf.Tensor3D, q as tf.Tensor3D, q as tf.Tensor3D, 0.5),
      ];
    }),
  );
  for (const k of Object.keys(before) as (keyof typeof before)[]) {
    const wired = labKernelCalls[k] > before[k];
    rows.push({ kernel: 'wiring', shape: '-', output: `model ${k} op uses the lab kernel`, maxAbsError: wired ? 0 : 1, scale: 1, ok: wired });
  }
  return rows;
}

export function formatKernelCheck(rows: KernelCheckRow[]): string[] {
  return rows.map(
    (r) =>
      `${r.kernel.padEnd(10)} ${r.shape.padEnd(34)} ${r.output.padEnd(10)} err ${(r.maxAbsError / r.scale).toExponential(2)} ${r.ok ? 'ok' : 'FAIL'}` +
      (r.checkMs !== undefined ? `  (${r.checkMs} ms)` : '') +
      (r.labMs !== undefined ? `  lab ${r.labMs.toFixed(1)} ms  stock ${r.stockMs!.toFixed(1)} ms` : ''),
  );
}

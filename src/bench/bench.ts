/**
 * Benchmarks of the engine on whatever tfjs backend is active: forward, an `ft` train step and a
 * `vpt_deep` train step, per model preset. Host-agnostic: Node (`npm run bench`) and the
 * browser worker run the same code.
 *
 * FLOPs are counted analytically (multiply-add = 2 FLOPs) for one image:
 *   patch embedding  2 · g² · (C·p²) · D
 *   per block        2·T·D·3D (qkv) + 2·T²·D (scores) + 2·T²·D (probs·V) + 2·T·D·D (proj)
 *                    + 2·T·D·M (fc1) + 2·T·M·D (fc2)
 *   head             2 · D · K
 * with T tokens (1 + g² + prompts). A training step with every weight trained costs 3× the
 * forward (forward, input gradients, weight gradients); a step with a frozen backbone (VPT) costs
 * 2× (forward, input gradients only). Element-wise work (LayerNorm, GELU, softmax) is not counted.
 */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from '../model/config';
import { gridSize } from '../model/config';
import { initPrompts, randomParams, initHead, type ParamSet } from '../model/params';
import { kernelsFor, type KernelChoice } from '../kernels';
import type { Kernels } from '../model/ops';
import { forward, type ViT } from '../model/vit';
import { releaseAbandonedTape } from '../model/recompute';
import { effectiveLr, METHODS } from '../train/methods';
import { Optimizer } from '../train/optimizer';
import { trainStep } from '../train/step';
import { freshWasmBackend, wasmHeapBytes } from '../kernels/wasm/heap';
import { callerTakesChunks, helperChunks } from '../kernels/wasm/pool';
import { fusedAvailable, geluFused, registerFused, wasmHelpersReady } from '../kernels/wasm/fused';
import { wasmThreadsRunning } from '../backend/wasm';
import { probeMemory, type MemoryBreakdown } from './memprobe';
import { estimateForward, estimateStep, phaseShape, planMemory, type StepShape } from '../train/memory';
import { memoryBudget } from '../train/budget';

export type BenchMode = 'forward' | 'ft' | 'vpt_deep' | 'linear';

/**
 * Which implementation of the hot operations a benchmark measures: 'lab' (the engine's own kernels
 * for the active backend, as every run gets them) or 'stock' (plain tfjs ops with tfjs' own
 * gradients), so both are measured in the same run.
 */
export type { KernelChoice } from '../kernels';

export function kernelsOf(choice: KernelChoice): Kernels {
  return kernelsFor(tf.getBackend(), choice);
}

type ProfileInfo = Awaited<ReturnType<typeof tf.profile>>;

interface CaseOptions {
  warmup?: number;
  runs?: number;
  host: string;
  numClasses?: number;
  kernels?: KernelChoice;
  /**
   * The process owns every tensor (the Node CLI): a case may start on a fresh WASM heap even when
   * a failed case left tensors behind (they are discarded with the old module).
   */
  discardLeftovers?: boolean;
  /**
   * Training cases run as the lab runs them: planned by the memory planner (src/train/memory.ts)
   * against the backend's budget, as micro-batches accumulated to the case's batch when the batch
   * does not fit (default true; false measures the whole batch in one pass, fitting or not).
   */
  plan?: boolean;
  /**
   * After the measured runs, one more step under tf.profile, on the same warmed-up backend (its
   * operator caches and, on threaded WASM, the helper workers of the lab's SIMD loops are ready).
   */
  onProfile?: (info: ProfileInfo) => void;
  /**
   * Before each measured step, a burst of plain 512³ products (the yardstick of the thread-scaling
   * table), so that the step and its yardstick share the same moments of a shared machine: on the
   * 2-core development VM the yardstick alone moved from 4.6 to 9.3 ms between runs minutes apart.
   */
  yardstick?: boolean;
}

export interface BenchCase {
  preset: string;
  cfg: ViTConfig;
  mode: BenchMode;
  batch: number;
  promptLength: number;
  /** Training steps: recompute each block's activations in the backward pass (memory plan). */
  recompute?: boolean;
}

export interface BenchRow {
  host: string;
  backend: string;
  preset: string;
  mode: BenchMode;
  batch: number;
  imageSize: number;
  /** The step recomputed each block's activations in its backward pass. */
  recompute?: boolean;
  /** The memory plan split the batch into micro-batches of this many images (accumulated). */
  microBatch?: number;
  medianMs: number;
  imagesPerSec: number;
  gflops: number;
  /**
   * Highest live tensor bytes inside a step (distinct buffers, counted at every allocation; see
   * memprobe.ts), over the warm-up and measured steps.
   */
  peakBytes: number;
  /**
   * WASM: the heap's size after the case, its high-water mark. Each case starts on a fresh heap
   * when no other tensors are live (`heapFresh`); otherwise it is the process's high-water mark.
   */
  heapBytes?: number;
  heapFresh?: boolean;
  /**
   * Node: the process's peak resident memory after the case (getrusage's maxRSS: the high-water mark
   * of everything the process did so far, this case included). What PyTorch's peak is compared with
   * (scripts/pytorch/compare.py runs each case in a process of its own).
   */
  processPeakBytes?: number;
  /** The memory planner's estimate for this case: tensors, and all the backend holds (src/train/memory.ts). */
  estimateTensorBytes?: number;
  estimateBytes?: number;
  /** What was live at the tensor peak, by kernel (for `--memory`). */
  atPeak?: MemoryBreakdown;
  runs: number;
  /** WASM: threads the backend ran (1 = the single-threaded SIMD build). */
  threads?: number;
  /**
   * WASM: chunks of the lab's SIMD loops that helper threads (not the caller) ran in the measured
   * steps. Which thread wins a chunk is a race, so on a loaded machine this may be 0 with helpers
   * that work; `helperCheckChunks` says whether they do.
   */
  helperChunks?: number;
  /**
   * WASM on several threads: chunks the helper threads ran of one GELU over 2¹⁸ floats whose caller
   * left them every chunk (pool.ts `callerTakesChunks`). Positive exactly when the helpers started
   * and compute; 0 when they never became ready.
   */
  helperCheckChunks?: number;
  /** GFLOP/s of the plain 512³ product, timed in bursts between this case's measured steps (`yardstick`). */
  yardstickGflops?: number;
  /** The case failed (the error in one line); its numbers are NaN. */
  error?: string;
}

export function forwardFlops(cfg: ViTConfig, promptLength = 0, numClasses = 10): number {
  const g = gridSize(cfg),
    D = cfg.hiddenSize,
    M = cfg.mlpDim,
    C = cfg.channels,
    p = cfg.patchSize;
  const T = 1 + g * g + promptLength;
  const embed = 2 * g * g * C * p * p * D;
  const block = 2 * T * D * 3 * D + 2 * 2 * T * T * D + 2 * T * D * D + 2 * 2 * T * D * M;
  return embed + cfg.numLayers * block + 2 * D * numClasses;
}

export function stepFlops(c: BenchCase, numClasses = 10): number {
  const prompts = c.mode === 'vpt_deep' ? c.promptLength : 0;
  const f = forwardFlops(c.cfg, prompts, numClasses);
  // A linear probe: the forward pass, its backward only through the head (a rounding error).
  return c.batch * (c.mode === 'forward' || c.mode === 'linear' ? f : c.mode === 'ft' ? 3 * f : 2 * f);
}

/**
 * Median wall time of `runs` steps after `warmup` steps, with the memory peak inside a step and
 * (WASM) the heap's high-water mark. A training step is the lab's own `trainStep` with the
 * method's optimizer and learning rate, on a batch uploaded from host memory as the trainer's
 * batches are. A case that fails gives a row with its error, not a throw, so one case that does
 * not fit never hides the others.
 */
export async function runBenchCase(c: BenchCase, opts: CaseOptions): Promise<BenchRow> {
  let heapFresh = false;
  try {
    // A WASM heap only grows: start the case on a new one so its size is this case's high-water.
    if (tf.getBackend() === 'wasm' && (tf.memory().numTensors === 0 || opts.discardLeftovers)) {
      await freshWasmBackend({ discard: opts.discardLeftovers });
      heapFresh = true;
    }
    const microBatch =
      c.mode !== 'forward' && opts.plan !== false
        ? planMemory(benchShape(c, opts.numClasses), { batch: c.batch, budget: memoryBudget(), recompute: c.recompute ? 'on' : 'off' }).microBatch
        : c.batch;
    const estimate = benchEstimate(c, opts.numClasses, microBatch);
    const row = await measureCase(c, opts, microBatch);
    return {
      ...row,
      ...(heapFresh ? { heapFresh } : {}),
      ...(microBatch < c.batch ? { microBatch } : {}),
      estimateTensorBytes: estimate.tensorBytes,
      estimateBytes: estimate.totalBytes,
    };
  } catch (e) {
    releaseAbandonedTape(); // what the failed step saved, so that the next case starts clean
    const message = e instanceof Error ? e.message : String(e);
    const trap = e instanceof Error && e.name === 'RuntimeError' ? 'WASM trap: ' : '';
    return {
      ...rowCase(c, opts),
      medianMs: NaN,
      imagesPerSec: NaN,
      gflops: NaN,
      peakBytes: NaN,
      heapBytes: wasmHeapBytes() ?? undefined,
      runs: 0,
      ...threadsField(),
      error: `${trap}${message}`.replace(/\s+/g, ' ').slice(0, 300),
    };
  }
}

/** What a row measured: the case and where it ran (a failed case's row says the same). */
function rowCase(c: BenchCase, opts: CaseOptions) {
  return {
    host: opts.host,
    backend: tf.getBackend(),
    preset: c.preset,
    mode: c.mode,
    batch: c.batch,
    imageSize: c.cfg.imageSize,
    ...(c.recompute ? { recompute: true } : {}),
  };
}

async function measureCase(c: BenchCase, opts: CaseOptions, microBatch: number): Promise<BenchRow> {
  const warmup = opts.warmup ?? 2,
    runs = opts.runs ?? 5,
    K = opts.numClasses ?? 10;
  const cfg = c.cfg;
  const backbone = randomParams({ ...cfg, numClasses: 0 }, 1);
  const extra: ParamSet = { ...initHead(cfg, K, 2), ...(c.mode === 'vpt_deep' ? initPrompts(cfg, c.promptLength, cfg.numLayers, 3) : {}) };
  const params: ParamSet = { ...backbone, ...extra };
  const phase = c.mode === 'forward' ? null : METHODS[c.mode].phases[0];
  const vars: Record<string, tf.Variable> = {};
  // As a run does (consumeBackbone): a weight that trains replaces its initial tensor, no copy stays beside it.
  if (phase) {
    for (const n of Object.keys(params).filter(phase.trains)) {
      vars[n] = tf.variable(params[n], true);
      params[n].dispose();
    }
  }
  const model: ViT = { cfg, params: { ...params, ...vars }, kernels: kernelsOf(opts.kernels ?? 'lab') };
  const x = tf.randomNormal([c.batch, cfg.channels, cfg.imageSize, cfg.imageSize]) as tf.Tensor4D; // [B, C, S, S]
  const batch = { pixels: (await x.data()) as Float32Array, labels: Int32Array.from({ length: c.batch }, (_, i) => i % K), size: c.batch };
  const optimizer = phase && new Optimizer({ kind: phase.recipe.optimizer, weightDecay: phase.recipe.weightDecay, momentum: phase.recipe.momentum });
  let seed = 0;

  const step = async () => {
    if (!phase || !optimizer) {
      const out = tf.tidy(() => forward(model, x, { promptMode: 'none' }));
      await out.data();
      out.dispose();
      return;
    }
    // One update, then the loss read back: what a training step in the lab does.
    const { loss, correct } = trainStep(model, batch, phase, optimizer, {
      lr: effectiveLr(phase.recipe.baseLr, c.batch),
      seed: seed++,
      recompute: c.recompute,
      microBatch,
    });
    await loss.data();
    tf.dispose([loss, correct]);
  };
  /** What lives across steps: the input, the parameters and (from the first step on) the optimizer's slots. */
  const live = () => [x, ...Object.values(model.params), ...[...(optimizer?.slots.values() ?? [])].flat()];

  let peak = 0;
  let atPeak: MemoryBreakdown | undefined;
  const times: number[] = [];
  const yard = opts.yardstick ? { a: tf.randomNormal([MATMUL_N, MATMUL_N]), b: tf.randomNormal([MATMUL_N, MATMUL_N]), ms: [] as number[] } : null;
  let helped = 0;
  let helperCheck: number | undefined;
  try {
    for (let i = 0; i < warmup + runs; i++) {
      if (i === warmup) helped = helperChunks();
      if (yard && i >= warmup) yard.ms.push(...(await timeMatmuls(yard.a, yard.b, YARDSTICK_BURST)));
      const t0 = performance.now();
      const probe = await probeMemory(step, { live: live() });
      const dt = performance.now() - t0;
      if (probe.peakBytes > peak) {
        peak = probe.peakBytes;
        atPeak = probe.atPeak;
      }
      if (i >= warmup) times.push(dt);
    }
    helped = helperChunks() - helped;
    if (opts.onProfile) opts.onProfile(await tf.profile(step));
    helperCheck = await helpersAlone();
  } finally {
    optimizer?.dispose();
    tf.dispose([x, ...Object.values(vars), ...Object.values(params)]);
    if (yard) tf.dispose([yard.a, yard.b]);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const yardMs = yard && yard.ms.length ? [...yard.ms].sort((a, b) => a - b)[Math.floor(yard.ms.length / 2)] : undefined;
  return {
    ...rowCase(c, opts),
    medianMs: median,
    imagesPerSec: (1000 * c.batch) / median,
    gflops: stepFlops(c, K) / (median / 1000) / 1e9,
    peakBytes: peak,
    heapBytes: wasmHeapBytes() ?? undefined,
    ...processPeak(),
    atPeak,
    runs,
    ...(yardMs ? { yardstickGflops: (2 * MATMUL_N ** 3) / (yardMs / 1000) / 1e9 } : {}),
    ...(tf.getBackend() === 'wasm' ? { helperChunks: helped } : {}),
    ...(helperCheck !== undefined ? { helperCheckChunks: helperCheck } : {}),
    ...threadsField(),
  };
}

/**
 * Threaded WASM with the lab's SIMD loops: chunks the helpers ran of one GELU that the caller left
 * entirely to them, once they are ready (up to a minute: a loaded machine starts workers slowly).
 * Undefined on one thread or without the loops.
 */
async function helpersAlone(): Promise<number | undefined> {
  if ((wasmThreadsRunning() ?? 1) < 2 || !fusedAvailable()) return undefined;
  registerFused();
  await wasmHelpersReady(60_000);
  const before = helperChunks();
  callerTakesChunks(false);
  try {
    const y = tf.tidy(() => geluFused(tf.fill([1 << 18], 0.5))); // [2¹⁸]
    await y.data();
    y.dispose();
  } finally {
    callerTakesChunks(true);
  }
  return helperChunks() - before;
}

/** Node's peak resident memory so far (absent in a browser). */
function processPeak(): { processPeakBytes?: number } {
  const p = (globalThis as { process?: { resourceUsage?: () => { maxRSS: number } } }).process;
  return typeof p?.resourceUsage === 'function' ? { processPeakBytes: p.resourceUsage().maxRSS * 1024 } : {};
}

/** Products of one burst of the yardstick. */
const YARDSTICK_BURST = 10;

/** Wall times of `reps` plain products a·b, each read back (after one untimed). */
async function timeMatmuls(a: tf.Tensor, b: tf.Tensor, reps: number, ta = false, tb = false): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b, ta, tb);
    await c.data();
    c.dispose();
    if (i > 0) times.push(performance.now() - t0);
  }
  return times;
}

/** The running WASM backend's thread count, for a row (absent off WASM). */
function threadsField(): { threads?: number } {
  const t = wasmThreadsRunning();
  return t === null ? {} : { threads: t };
}

/** The plain 2-D product every step is measured against, and the two transposed forms. */
export const MATMUL_N = 512;

/**
 * The active backend's plain and transposed 2-D matmul throughput (512³, median of `runs` after a
 * warm-up): the ceiling a training step's GFLOP/s is compared with, at the same thread count.
 */
export async function matmulRows(host: string, runs: number): Promise<BenchRow[]> {
  const n = MATMUL_N;
  const a = tf.randomNormal([n, n]),
    b = tf.randomNormal([n, n]);
  const rows: BenchRow[] = [];
  try {
    for (const [ta, tb, name] of [
      [false, false, `matmul ${n}³`],
      [true, false, `matmul ${n}³ (Aᵀ)`],
      [false, true, `matmul ${n}³ (Bᵀ)`],
    ] as const) {
      // The plain product is the yardstick every step is divided by, and takes milliseconds: a
      // median of a few such runs swings with whatever else the machine does, so it gets at least 25.
      const reps = !ta && !tb ? Math.max(runs, 25) : runs;
      const times = await timeMatmuls(a, b, reps, ta, tb);
      times.sort((x, y) => x - y);
      const ms = times[Math.floor(times.length / 2)];
      rows.push({
        host,
        backend: tf.getBackend(),
        preset: name,
        mode: 'forward',
        batch: 1,
        imageSize: 0,
        medianMs: ms,
        imagesPerSec: NaN,
        gflops: (2 * n ** 3) / (ms / 1000) / 1e9,
        peakBytes: tf.memory().numBytes,
        runs: reps,
        ...threadsField(),
      });
    }
  } finally {
    tf.dispose([a, b]);
  }
  return rows;
}

/** Whether a row is the plain matmul reference (not a model step, not a transposed product). */
export function isPlainMatmul(r: BenchRow): boolean {
  return r.preset === `matmul ${MATMUL_N}³`;
}

/** The planner's view of a bench case: the method's first phase (a forward case holds the FT weights, frozen). */
export function benchShape(c: BenchCase, numClasses = 10): StepShape {
  return phaseShape(c.cfg, METHODS[c.mode === 'forward' ? 'ft' : c.mode].phases[0], numClasses, c.promptLength, false);
}

/** The planner's estimate for a bench case on the active backend. */
export function benchEstimate(c: BenchCase, numClasses = 10, microBatch = c.batch): { tensorBytes: number; totalBytes: number } {
  const backend = (['wasm', 'webgpu', 'webgl'].includes(tf.getBackend()) ? tf.getBackend() : 'cpu') as 'wasm' | 'webgpu' | 'webgl' | 'cpu';
  const shape = benchShape(c, numClasses);
  return c.mode === 'forward'
    ? estimateForward(shape, c.batch, backend)
    : estimateStep(shape, microBatch, backend, { recompute: c.recompute, accumulating: microBatch < c.batch });
}

export interface KernelShare {
  kernel: string;
  ms: number;
  calls: number;
  share: number;
}

/** One step's kernel times (profileBenchCase), titled by host, backend, case and threads. */
export interface BenchProfile {
  title: string;
  totalMs: number;
  kernels: KernelShare[];
}

/**
 * Where one step's time goes: tfjs' profiler over one step after a warm-up, kernel times summed
 * by kernel name (products also by operand shapes), scopes left out (they hold kernels counted
 * on their own).
 */
export async function profileBenchCase(c: BenchCase, choice: KernelChoice = 'lab', numClasses = 10): Promise<{ totalMs: number; kernels: KernelShare[] }> {
  let info: ProfileInfo | undefined;
  const row = await runBenchCase(c, { host: 'profile', warmup: 1, runs: 1, numClasses, kernels: choice, onProfile: (i) => (info = i) });
  if (!info) throw new Error(`profiling ${c.preset} ${c.mode} failed: ${row.error ?? 'no profile'}`);
  const by = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    // tfjs' profiler also books scopes around kernels (a custom gradient's forward, "unnamed
    // scope"; an op like tf.fused.matMul, "fusedMatMul__op"): their time is their kernels', counted again.
    if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += ms;
    const key = /MatMul|Transpose|Add|Multiply|Sub|Tile|Sum|Concat|SplitV|Softmax/.test(k.name)
      ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('·')}`
      : k.name;
    const e = by.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    by.set(key, e);
  }
  const kernels = [...by.entries()].map(([kernel, e]) => ({ kernel, ms: e.ms, calls: e.calls, share: total ? e.ms / total : 0 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total, kernels };
}

/** The step a row measured: forward, ft, vpt_deep or linear, and whether it recomputed activations. */
export function stepName(r: Pick<BenchRow, 'mode' | 'recompute' | 'microBatch' | 'batch'>): string {
  return `${r.mode}${r.recompute ? ' +recompute' : ''}${r.microBatch ? ` (${Math.ceil(r.batch / r.microBatch)} × ${r.microBatch})` : ''}`;
}

const mb = (b: number | undefined) => (b === undefined || !Number.isFinite(b) ? '' : (b / 1e6).toFixed(b < 1e7 ? 1 : 0));

export function formatBenchTable(rows: BenchRow[]): string {
  const head =
    '| host | backend | threads | model | step | batch | px | median ms | img/s | GFLOP/s | tensor peak MB | heap MB | planned MB | process peak MB |';
  const sep = '|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) =>
    r.error
      ? `| ${r.host} | ${r.backend} | ${r.threads ?? ''} | ${r.preset} | ${stepName(r)} | ${r.batch} | ${r.imageSize} | failed: ${r.error.replace(/\|/g, '/')} | | | | ${mb(r.heapBytes)} | | |`
      : `| ${r.host} | ${r.backend} | ${r.threads ?? ''} | ${r.preset} | ${stepName(r)} | ${r.batch} | ${r.imageSize} | ${r.medianMs.toFixed(1)} | ${Number.isFinite(r.imagesPerSec) ? r.imagesPerSec.toFixed(2) : ''} | ${r.gflops.toFixed(2)} | ${mb(r.peakBytes)} | ${mb(r.heapBytes)}${r.heapBytes !== undefined && !r.heapFresh ? ' (process)' : ''} | ${mb(r.heapBytes !== undefined ? r.estimateBytes : r.estimateTensorBytes)} | ${mb(r.processPeakBytes)} |`,
  );
  return [head, sep, ...lines].join('\n');
}

/**
 * Thread scaling, from rows of one run: each WASM case at every thread count measured, its speed
 * against the same case on one thread, and its GFLOP/s as a fraction of the plain 2-D matmul's on
 * the same host at the same thread count (0.7 or more is the target: the threads are put to use).
 */
export function formatThreadScaling(rows: BenchRow[]): string {
  const ok = rows.filter((r) => !r.error && r.threads !== undefined);
  if (!ok.some((r) => r.threads! > 1)) return '';
  const matmul = (r: BenchRow) => ok.find((m) => isPlainMatmul(m) && m.host === r.host && m.threads === r.threads);
  const key = (r: BenchRow) => [r.host, r.backend, r.preset, stepName(r), r.batch, r.imageSize].join('|');
  const single = new Map(ok.filter((r) => r.threads === 1).map((r) => [key(r), r]));
  const head = '| host | backend | model | step | batch | threads | median ms | GFLOP/s | speed vs 1 thread | GFLOP/s ÷ matmul |';
  const sep = '|---|---|---|---|---:|---:|---:|---:|---:|---:|';
  const lines = ok
    .filter((r) => !/ \((Aᵀ|Bᵀ)\)$/.test(r.preset))
    .sort((a, b) => key(a).localeCompare(key(b)) || a.threads! - b.threads!)
    .map((r) => {
      const one = single.get(key(r));
      const ref = matmul(r);
      const speed = one ? `${(one.medianMs / r.medianMs).toFixed(2)}×` : '';
      // Against the yardstick timed between the case's own steps where there is one, else the matmul row.
      const yard = r.yardstickGflops ?? ref?.gflops;
      const eff = yard && !isPlainMatmul(r) ? (r.gflops / yard).toFixed(2) : '';
      return `| ${r.host} | ${r.backend} | ${r.preset} | ${isPlainMatmul(r) ? '' : stepName(r)} | ${r.batch} | ${r.threads} | ${r.medianMs.toFixed(1)} | ${r.gflops.toFixed(2)} | ${speed} | ${eff} |`;
    });
  return [head, sep, ...lines].join('\n');
}

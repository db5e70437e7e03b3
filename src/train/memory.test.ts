/**
 * The memory planner: its choices (pure), and its estimate against the measured peak of real
 * training steps on several shapes (tensor bytes at every allocation, and the WASM heap's
 * high-water mark on a fresh heap), within 1.5x and never more than 10 % below.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../domain/errors';
import { initNodeBackend } from '../backend/node';
import { runBenchCase, type BenchCase } from '../bench/bench';
import { PRESETS, parameterCount, type ViTConfig } from '../model/config';
import { estimateForward, estimateStep, phaseShape, planMemory, wasmBudget, webgpuBudget, WASM_BUDGET_BYTES, type StepShape } from './memory';
import { METHODS } from './methods';
import { dimsOf } from './dims';
import { bundledModelPath } from './host.node.js';
import { loadCheckpointFromPath } from '../weights/node';

const GiB = 2 ** 30;

function shapeOf(cfg: ViTConfig, method: 'ft' | 'vpt_deep' | 'linear', o: { classes?: number; prompts?: number } = {}): StepShape {
  const K = o.classes ?? 10,
    P = method === 'vpt_deep' ? (o.prompts ?? 50) : 0;
  const c = { ...cfg, numClasses: K };
  const total = parameterCount(c, P, P ? cfg.numLayers : 0);
  const head = (cfg.hiddenSize + 1) * K;
  const trainable = method === 'ft' ? parameterCount(c) : method === 'vpt_deep' ? P * cfg.hiddenSize * cfg.numLayers + head : head;
  return {
    dims: cfg,
    numClasses: K,
    promptLength: P,
    trainsBackbone: method === 'ft',
    trainsOnlyHead: method === 'linear',
    trainableParams: trainable,
    totalParams: total,
    optimizerSlots: method === 'ft' ? 2 : 1,
  };
}

describe('planMemory', () => {
  it('keeps the asked batch when it fits, with no notice', () => {
    const p = planMemory(shapeOf(PRESETS.fixture_tiny, 'ft'), { batch: 64, budget: wasmBudget() });
    expect(p).toMatchObject({ microBatch: 64, accumulation: 1, recompute: false, evalBatch: 64 });
    expect(p.notice).toBeUndefined();
    expect(p.estimate.totalBytes).toBeLessThan(WASM_BUDGET_BYTES);
  });

  it('ViT-B/16 FT at batch 32 on WASM: the largest micro-batch that fits, accumulated to 32, and says so', () => {
    const shape = shapeOf(PRESETS.vit_b16, 'ft');
    const p = planMemory(shape, { batch: 32, budget: wasmBudget() });
    expect(p.microBatch).toBeGreaterThanOrEqual(1);
    expect(p.microBatch).toBeLessThan(32);
    expect(p.accumulation).toBe(Math.ceil(32 / p.microBatch));
    expect(p.estimate.totalBytes).toBeLessThanOrEqual(WASM_BUDGET_BYTES);
    // One more image would not fit.
    expect(estimateStep(shape, p.microBatch + 1, 'wasm', { recompute: p.recompute, accumulating: true }).totalBytes).toBeGreaterThan(WASM_BUDGET_BYTES);
    expect(p.notice).toMatch(/effective batch stays 32 through gradient accumulation/);
  });

  it('recomputation keeps far fewer activations, and auto turns it on only when one image does not fit without', () => {
    const shape = shapeOf({ ...PRESETS.vit_b16, imageSize: 384 }, 'vpt_deep', { prompts: 200 });
    const keep = estimateStep(shape, 1, 'wasm');
    const recompute = estimateStep(shape, 1, 'wasm', { recompute: true });
    expect(recompute.totalBytes).toBeLessThan(keep.totalBytes);
    const tight = { ...wasmBudget(), bytes: (keep.totalBytes + recompute.totalBytes) / 2 };
    const p = planMemory(shape, { batch: 8, budget: tight });
    expect(p.recompute).toBe(true);
    expect(p.notice).toMatch(/activation recomputation on/);
    expect(() => planMemory(shape, { batch: 8, budget: tight, recompute: 'off' })).toThrow(/does not fit/);
    expect(planMemory(shape, { batch: 8, budget: { ...tight, bytes: 10 * GiB } }).recompute).toBe(false);
  });

  it('plans evaluation on the heap the training steps leave behind (WASM never gives blocks back)', () => {
    // The fixture's tiny ViT at 1024 px: 4 097 tokens, [3, T, T] attention maps of 201 MB per image.
    const shape = shapeOf({ ...PRESETS.fixture_tiny, imageSize: 1024 }, 'ft');
    const p = planMemory(shape, { batch: 8, budget: wasmBudget() });
    // One image at a time, kept (the WASM attention holds 3 maps; README *Memory* has the run: 2.77 GiB of heap).
    expect(p).toMatchObject({ microBatch: 1, recompute: false });
    // Alone, a forward pass of 2 images fits; after a step of 1 image its 384 MiB maps need new space.
    expect(estimateForward(shape, 2, 'wasm').totalBytes).toBeLessThan(wasmBudget().bytes);
    expect(p.estimate.totalBytes + 4 * estimateForward(shape, 2, 'wasm').largestBufferBytes).toBeGreaterThan(wasmBudget().bytes);
    expect(p.evalBatch).toBe(1);
    // At 224 px the maps are small (15 MB at 32 images): evaluation stays at least the step's micro-batch.
    const ti = planMemory(shapeOf(PRESETS.vit_ti16, 'ft'), { batch: 128, budget: wasmBudget() });
    expect(ti.microBatch).toBeLessThan(128);
    expect(ti.evalBatch).toBeGreaterThanOrEqual(ti.microBatch);
  });

  it('a linear probe keeps no backbone activation: ViT-B/16 at batch 8 runs whole, planned as a forward pass plus the head', () => {
    const shape = shapeOf(PRESETS.vit_b16, 'linear');
    const p = planMemory(shape, { batch: 8, budget: wasmBudget() });
    expect(p).toMatchObject({ microBatch: 8, accumulation: 1, recompute: false });
    expect(p.notice).toBeUndefined();
    // The step's tensors are the evaluation pass's plus the head's gradient and momentum (769 × 10 each).
    const forward = estimateForward(shape, 8, 'wasm');
    expect(p.estimate.tensorBytes - forward.tensorBytes).toBe(2 * 769 * 10 * 4);
    // The same shape on the tape (as VPT keeps a frozen backbone's activations) needs twice as much and more.
    const taped = estimateStep({ ...shape, trainsOnlyHead: false }, 8, 'wasm');
    expect(taped.tensorBytes).toBeGreaterThan(2 * p.estimate.tensorBytes);
    // Nothing to recompute: 'on' changes nothing.
    expect(planMemory(shape, { batch: 8, budget: wasmBudget(), recompute: 'on' })).toMatchObject({ microBatch: 8, recompute: false });
  });

  it('refuses with a named error only when one image does not fit, before anything is allocated', () => {
    const shape = shapeOf({ ...PRESETS.vit_b16, imageSize: 1024 }, 'ft');
    let caught: unknown;
    try {
      planMemory(shape, { batch: 8, budget: wasmBudget(), recompute: 'off' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(LabError);
    expect((caught as LabError).code).toBe('run/does-not-fit');
    expect((caught as LabError).message).toMatch(/Even one image per step does not fit the WASM heap/);
    expect((caught as LabError).message).toMatch(/4097 tokens/);
  });

  it('WebGPU: a buffer over the adapter limit shrinks the micro-batch too', () => {
    const shape = shapeOf(PRESETS.vit_b16, 'vpt_deep');
    const limits = { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 };
    const budget = webgpuBudget(limits, 64 * GiB);
    expect(budget.maxBufferBytes).toBe(128 * 2 ** 20);
    expect(budget.source).toMatch(/65536 MiB of device memory \(given\)/);
    const p = planMemory(shape, { batch: 64, budget });
    expect(p.estimate.largestBufferBytes).toBeLessThanOrEqual(128 * 2 ** 20);
    expect(estimateStep(shape, p.microBatch + 1, 'webgpu').largestBufferBytes).toBeGreaterThan(128 * 2 ** 20);
    expect(webgpuBudget(limits).source).toMatch(/default; WebGPU does not report it/);
  });
});

describe('phaseShape', () => {
  it('counts what each method trains from the config alone', () => {
    const cfg = PRESETS.vit_b16;
    const ft = phaseShape(cfg, METHODS.ft.phases[0], 100, 0);
    expect(ft.totalParams).toBe(parameterCount({ ...cfg, numClasses: 100 }));
    expect(ft.trainableParams).toBe(ft.totalParams);
    expect(ft).toMatchObject({ trainsBackbone: true, optimizerSlots: 2, promptLength: 0 });
    const vpt = phaseShape(cfg, METHODS.vpt_deep.phases[0], 100, 50);
    expect(vpt.trainableParams).toBe(50 * 768 * 12 + 769 * 100);
    expect(vpt).toMatchObject({ trainsBackbone: false, optimizerSlots: 1, promptLength: 50 });
    expect(phaseShape(cfg, METHODS.linear.phases[0], 100, 50)).toMatchObject({ trainableParams: 769 * 100, promptLength: 0, trainsOnlyHead: true });
    expect(ft.trainsOnlyHead || vpt.trainsOnlyHead).toBe(false);
  });
});

describe('the estimate against measured steps (WASM, Node)', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  const base = { channels: 3, numClasses: 0, layerNormEps: 1e-6, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as Pick<
    ViTConfig,
    'channels' | 'numClasses' | 'layerNormEps' | 'mean' | 'std'
  >;
  const tinyPretrained: ViTConfig = { ...base, imageSize: 48, patchSize: 12, hiddenSize: 128, numLayers: 4, numHeads: 2, mlpDim: 512 };
  const cases: BenchCase[] = [
    { preset: 'bundled-like FT', cfg: tinyPretrained, mode: 'ft', batch: 64, promptLength: 0 },
    { preset: 'bundled-like VPT-deep, 200 prompts', cfg: tinyPretrained, mode: 'vpt_deep', batch: 16, promptLength: 200 },
    { preset: 'ViT-Ti/16 112 px FT', cfg: { ...PRESETS.vit_ti16, imageSize: 112 }, mode: 'ft', batch: 4, promptLength: 0 },
    { preset: 'ViT-Ti/16 224 px VPT-deep', cfg: PRESETS.vit_ti16, mode: 'vpt_deep', batch: 2, promptLength: 50 },
    // Only the head trains: a forward pass off the tape plus the head's gradients.
    { preset: 'bundled-like linear probe', cfg: tinyPretrained, mode: 'linear', batch: 64, promptLength: 0 },
    { preset: 'ViT-Ti/16 224 px linear probe', cfg: PRESETS.vit_ti16, mode: 'linear', batch: 8, promptLength: 0 },
    { preset: 'ViT-S/16 112 px FT', cfg: { ...PRESETS.vit_s16, imageSize: 112 }, mode: 'ft', batch: 2, promptLength: 0 },
    { preset: 'ViT-Ti/16 224 px FT, recomputed', cfg: PRESETS.vit_ti16, mode: 'ft', batch: 2, promptLength: 0, recompute: true },
    { preset: 'ViT-Ti/16 224 px VPT-deep, recomputed', cfg: PRESETS.vit_ti16, mode: 'vpt_deep', batch: 4, promptLength: 50, recompute: true },
    // A long sequence: 4 097 tokens, [H, T, T] maps of 201 MB each (the heap fragments around them).
    { preset: 'tiny ViT at 1024 px FT, recomputed', cfg: { ...PRESETS.fixture_tiny, imageSize: 1024 }, mode: 'ft', batch: 1, promptLength: 0, recompute: true },
  ];
  for (const c of cases) {
    it(`${c.preset}, batch ${c.batch}: within 1.5x of the measured peak, never more than 10 % below`, async () => {
      // Two steps: the optimizer's slots exist only from the first update on (steady state is what is planned).
      const r = await runBenchCase(c, { host: 'test', warmup: 1, runs: 1 });
      expect(r.error).toBeUndefined();
      expect(r.heapFresh).toBe(true);
      for (const [what, estimate, measured] of [
        ['tensors', r.estimateTensorBytes!, r.peakBytes],
        ['WASM heap', r.estimateBytes!, r.heapBytes!],
      ] as const) {
        expect(estimate / measured, `${what}: estimated ${estimate}, measured ${measured}`).toBeGreaterThanOrEqual(0.9);
        expect(estimate / measured, `${what}: estimated ${estimate}, measured ${measured}`).toBeLessThanOrEqual(1.5);
      }
    });
  }
});

describe('model sizes before the weights are read', () => {
  it('the bundled model, the hub checkpoints and the presets; a file is unknown until read', async () => {
    const ckpt = await loadCheckpointFromPath(bundledModelPath('tiny_pretrained'));
    const c = ckpt.config;
    expect(dimsOf({ kind: 'bundled', id: 'tiny_pretrained' })).toEqual({
      imageSize: c.imageSize,
      patchSize: c.patchSize,
      channels: c.channels,
      hiddenSize: c.hiddenSize,
      numLayers: c.numLayers,
      numHeads: c.numHeads,
      mlpDim: c.mlpDim,
    });
    expect(dimsOf({ kind: 'hub', id: 'google/vit-base-patch16-224-in21k' })).toMatchObject({ hiddenSize: 768, numLayers: 12, imageSize: 224 });
    expect(dimsOf({ kind: 'random', preset: 'vit_ti16' }, 112)).toMatchObject({ hiddenSize: 192, imageSize: 112 });
    expect(dimsOf({ kind: 'file', name: 'x.safetensors' } as never)).toBeNull();
  });
});

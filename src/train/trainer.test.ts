import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { TINY_VIT } from './testutil';
import { randomParams, type ParamSet } from '../model/params';
import { openProceduralTask } from '../data/procedural';
import { METHODS, METHOD_IDS, methodParamCounts } from './methods';
import { type MethodId } from '../domain/run';
import { countParams, train, type TrainerEvent, type Hyper } from './trainer';
import { RunControl } from './control';
import { trainDataFromSplits } from '../data/fromSplits';
import type { TrainData } from '../data/trainData';
import { LabError } from '../domain/errors';
import { kernelsFor } from '../kernels';
import { estimateStep, hostBudget, phaseShape, wasmBudget } from './memory';

const cfg = TINY_VIT;

function data(trainSize: number, seed = 1, task = 'dsprites_location'): TrainData {
  return trainDataFromSplits(openProceduralTask(task, { trainSize, valSize: 8, testSize: 16, seed }), { imageSize: cfg.imageSize });
}

async function snapshot(params: ParamSet, names: string[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const n of names) out.set(n, (await params[n].data()) as Float32Array);
  return out;
}

const hyper = (o: Partial<Hyper> = {}): Hyper => ({ epochs: 1, batchSize: 8, promptLength: 2, seed: 3, ...o });

let backbone: ParamSet;
beforeAll(async () => {
  await initNodeBackend('wasm');
  backbone = randomParams(cfg, 11);
});

const backboneNames = () => Object.keys(backbone).filter((n) => !n.startsWith('head.'));

describe('trainable share from the config alone', () => {
  it('equals what the trainer counts from the tensors, for every method', () => {
    for (const id of METHOD_IDS) {
      expect(methodParamCounts(cfg, METHODS[id], 7, 3), id).toEqual(countParams(cfg, backbone, METHODS[id], 7, 3));
    }
    // The share a VPT-deep run trains is a small fraction; FT trains everything.
    const deep = methodParamCounts(cfg, METHODS.vpt_deep, 7, 3);
    expect(deep.trainable).toBe(2 * 3 * 32 + 7 * 32 + 7);
    const ft = methodParamCounts(cfg, METHODS.ft, 7, 3);
    expect(ft.trainable).toBe(ft.total);
  });
});

describe('methods train exactly what they declare', () => {
  for (const id of ['linear', 'vpt_shallow', 'vpt_deep'] as MethodId[]) {
    it(`${id}: every backbone weight is bit-identical after training`, async () => {
      const before = await snapshot(backbone, backboneNames());
      const out = await train({ cfg, backbone, method: METHODS[id], data: data(32), hyper: hyper({ epochs: 2 }) });
      for (const n of backboneNames()) {
        expect(Buffer.from(((await out.params[n].data()) as Float32Array).buffer).equals(Buffer.from(before.get(n)!.buffer)), n).toBe(true);
        expect(out.params[n]).toBe(backbone[n]); // the very same tensor: never touched
      }
      expect(out.trainable.every((n) => n.startsWith('head.') || n.startsWith('prompts.'))).toBe(true);
      if (id !== 'linear') expect(out.trainable.some((n) => n.startsWith('prompts.'))).toBe(true);
      disposeOwned(out.params);
    });
  }

  it('ft changes every weight; mixed changes weights and prompts', async () => {
    const before = await snapshot(backbone, backboneNames());
    for (const id of ['ft', 'mixed'] as MethodId[]) {
      const out = await train({ cfg, backbone, method: METHODS[id], data: data(16), hyper: hyper() });
      for (const n of backboneNames()) {
        const after = (await out.params[n].data()) as Float32Array;
        const changed = after.some((v, i) => v !== before.get(n)![i]);
        expect(changed, `${id} ${n}`).toBe(true);
      }
      if (id === 'mixed') expect(out.trainable.filter((n) => n.startsWith('prompts.')).length).toBe(cfg.numLayers);
      disposeOwned(out.params);
    }
  });

  it('ft_then_pt: phase-2 leaves the phase-1 weights where phase 1 put them', async () => {
    const events: TrainerEvent[] = [];
    const phase1: Map<string, Float32Array> = new Map();
    // Capture the weights at the end of phase 1 from the checkpoint event of its last epoch.
    const out = await train({
      cfg,
      backbone,
      method: METHODS.ft_then_pt,
      data: data(16),
      hyper: hyper({ epochs: 1 }),
      emit: (e) => events.push(e),
    });
    const { parseSafetensors } = await import('../weights/formats/safetensors');
    const { readAll } = await import('../weights/formats/archive');
    const cp = events.filter((e) => e.type === 'checkpoint')[0];
    if (cp?.type !== 'checkpoint') throw new Error('no checkpoint');
    const { toComputeTensor } = await import('../model/params');
    for (const [n, t] of readAll(parseSafetensors(new Uint8Array(cp.state.checkpoint), 'cp'))) {
      if (!n.startsWith('optimizer.') && !n.startsWith('head.')) phase1.set(n, toComputeTensor(n, t).dataSync() as Float32Array);
    }
    expect(phase1.size).toBe(backboneNames().length);
    for (const [n, w] of phase1) expect(Array.from((await out.params[n].data()) as Float32Array)).toEqual(Array.from(w));
    expect(events.filter((e) => e.type === 'epoch').map((e) => (e.type === 'epoch' ? e.metrics.phase : 0))).toEqual([1, 2]);
    expect(out.trainable.every((n) => n.startsWith('head.') || n.startsWith('prompts.'))).toBe(true);
    disposeOwned(out.params);
  });
});

describe('the loop', () => {
  it('same seed, same data, same backend: identical loss sequences', async () => {
    const run = async () => {
      const losses: number[] = [];
      const out = await train({
        cfg,
        backbone,
        method: METHODS.vpt_deep,
        data: data(24),
        hyper: hyper({ epochs: 2 }),
        emit: (e) => e.type === 'step' && losses.push(e.loss),
      });
      disposeOwned(out.params);
      return losses;
    };
    const a = await run();
    const b = await run();
    expect(a.length).toBe(6);
    expect(a).toEqual(b);
  });

  it('gradient accumulation (4 × 2) gives the same update as one batch of 8', async () => {
    const weights = async (microBatch: number) => {
      const out = await train({ cfg, backbone, method: METHODS.ft, data: data(8), hyper: hyper({ batchSize: 8, microBatch }) });
      const w = await snapshot(out.params, Object.keys(out.params));
      disposeOwned(out.params);
      return w;
    };
    const full = await weights(8);
    const accum = await weights(4);
    let worst = 0;
    for (const [n, w] of full) {
      const v = accum.get(n)!;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - v[i]));
    }
    expect(worst).toBeLessThan(1e-5);
    // And the update is not trivially zero.
    const moved = [...full.entries()].some(([n, w]) => backbone[n] && w.some((x, i) => x !== (backbone[n].dataSync() as Float32Array)[i]));
    expect(moved).toBe(true);
  });

  it('tensor count is identical after step 2 and step 50', async () => {
    const counts: number[] = [];
    const out = await train({
      cfg,
      backbone,
      method: METHODS.vpt_deep,
      data: data(400),
      hyper: hyper({ epochs: 1 }),
      emit: (e) => {
        if (e.type === 'step' && (e.step === 2 || e.step === 50)) counts.push(tf.memory().numTensors, tf.memory().numBytes);
      },
    });
    disposeOwned(out.params);
    expect(counts.length).toBe(4);
    expect(counts[2]).toBe(counts[0]); // tensors
    expect(counts[3]).toBe(counts[1]); // bytes
  });

  it('cancel stops the run with a typed error and frees its tensors', async () => {
    const control = new RunControl();
    const before = tf.memory().numTensors;
    const p = train({
      cfg,
      backbone,
      method: METHODS.ft,
      data: data(64),
      hyper: hyper({ epochs: 3 }),
      control,
      emit: (e) => e.type === 'step' && e.step === 2 && control.cancel(),
    });
    await expect(p).rejects.toBeInstanceOf(LabError);
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const id of ['vpt_deep', 'ft', 'ft_then_pt'] as MethodId[]) {
    it(`${id}: resuming from an epoch checkpoint reproduces the uninterrupted run`, async () => {
      const events: TrainerEvent[] = [];
      const full = await train({ cfg, backbone, method: METHODS[id], data: data(16), hyper: hyper({ epochs: 2 }), emit: (e) => events.push(e) });
      const cps = events.filter((e) => e.type === 'checkpoint');
      const first = cps[0];
      if (first?.type !== 'checkpoint') throw new Error('no checkpoint event');
      expect(first.state.epochsDone).toBe(1);
      const resumed = await train({ cfg, backbone, method: METHODS[id], data: data(16), hyper: hyper({ epochs: 2 }), resume: first.state });
      expect(resumed.epochs.map((e) => e.epoch)).toEqual(full.epochs.map((e) => e.epoch));
      for (const n of full.trainable) {
        const a = (await full.params[n].data()) as Float32Array,
          b = (await resumed.params[n].data()) as Float32Array;
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        expect(worst, n).toBeLessThan(1e-5);
      }
      expect(resumed.test.testAcc).toBeCloseTo(full.test.testAcc, 5);
      disposeOwned(full.params);
      disposeOwned(resumed.params);
    });
  }

  it('out of memory halves the micro-batch and carries on', async () => {
    const notices: string[] = [];
    const out = await train({
      cfg,
      backbone,
      method: METHODS.vpt_deep,
      data: data(16),
      hyper: hyper({ epochs: 1, batchSize: 8 }),
      emit: (e) => e.type === 'notice' && notices.push(e.message),
      faultAt: { step: 1, error: new Error('WebGPU: out of memory allocating buffer') },
    });
    expect(notices.length).toBe(1);
    expect(notices[0]).toMatch(/halved the micro-batch to 4/);
    expect(out.epochs.length).toBe(1);
    disposeOwned(out.params);
  });

  it('memory is planned before the first step: a budget for 3 images runs batch 8 as micro-batches, with the same update, and says so', async () => {
    const shape = phaseShape(cfg, METHODS.ft.phases[0], 16, 2);
    // Planned as plain tensor bytes (the WASM estimate of a model this small is the heap's 16 MiB floor).
    const budget = { ...hostBudget('cpu'), bytes: estimateStep(shape, 3, 'cpu', { accumulating: true }).totalBytes };
    const notices: string[] = [];
    const weights = async (o: Partial<Hyper>) => {
      const out = await train({
        cfg,
        backbone,
        method: METHODS.ft,
        data: data(8),
        hyper: hyper({ batchSize: 8, ...o }),
        emit: (e) => e.type === 'notice' && notices.push(e.message),
      });
      const w = await snapshot(out.params, out.trainable);
      disposeOwned(out.params);
      return w;
    };
    const planned = await weights({ memoryBudget: budget });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/micro-batches of 3 \(3 per step; the effective batch stays 8 through gradient accumulation\)/);
    const full = await weights({});
    let worst = 0;
    for (const [n, w] of full) w.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - planned.get(n)![i]))));
    expect(worst).toBeLessThan(1e-5);
  });

  it('a handed-over backbone: FT trains the same weights without keeping the pretrained copy beside them', async () => {
    const own = randomParams(cfg, 11); // identical to `backbone`, but this run's to consume
    const kept = await train({ cfg, backbone, method: METHODS.ft, data: data(8), hyper: hyper() });
    const consumed = await train({ cfg, backbone: own, method: METHODS.ft, data: data(8), hyper: hyper(), consumeBackbone: true });
    for (const n of kept.trainable) {
      const a = (await kept.params[n].data()) as Float32Array,
        b = (await consumed.params[n].data()) as Float32Array;
      expect(Array.from(b), n).toEqual(Array.from(a));
    }
    // Every pretrained tensor that trained was released; the frozen ones (none in FT) stay.
    for (const n of kept.trainable.filter((n) => n in own)) expect(own[n].isDisposed, n).toBe(true);
    disposeOwned(kept.params);
    tf.dispose(Object.values(consumed.params));
    tf.dispose(Object.values(own));
  });

  it('recomputation on gives the same run as off', async () => {
    const losses = async (recompute: 'on' | 'off') => {
      const l: number[] = [];
      const out = await train({
        cfg,
        backbone,
        method: METHODS.vpt_deep,
        data: data(16),
        hyper: hyper({ epochs: 2, recompute }),
        emit: (e) => e.type === 'step' && l.push(e.loss),
      });
      disposeOwned(out.params);
      return l;
    };
    const [on, off] = [await losses('on'), await losses('off')];
    expect(on.length).toBe(4);
    on.forEach((x, i) => expect(x).toBeCloseTo(off[i], 5));
  });

  it('a run that cannot fit one image stops with run/does-not-fit before any step', async () => {
    const steps: number[] = [];
    const p = train({
      cfg,
      backbone,
      method: METHODS.ft,
      data: data(8),
      hyper: hyper({ memoryBudget: { ...wasmBudget(), bytes: 1000 } }),
      emit: (e) => e.type === 'step' && steps.push(e.step),
    });
    await expect(p).rejects.toMatchObject({ code: 'run/does-not-fit' });
    expect(steps).toEqual([]);
  });

  it('a tiny model overfits 64 procedural images to over 90 % training accuracy', async () => {
    const d = trainDataFromSplits(openProceduralTask('dsprites_location', { trainSize: 64, valSize: 8, testSize: 8, seed: 5 }), { imageSize: cfg.imageSize });
    const out = await train({ cfg, backbone, method: METHODS.ft, data: d, hyper: { epochs: 100, batchSize: 16, promptLength: 0, seed: 1, lr: 0.05 } });
    const last = out.epochs[out.epochs.length - 1];
    const { accuracy } = await import('./evaluate');
    const trainAcc = await accuracy({ cfg, params: out.params, kernels: kernelsFor(tf.getBackend()) }, d.train, { promptMode: 'none' }, 16);
    disposeOwned(out.params);
    expect(trainAcc, `final epoch loss ${last.trainLoss}`).toBeGreaterThan(90);
  });
});

describe("the run's overrides and prompt controls", () => {
  const promptNames = () => Array.from({ length: cfg.numLayers }, (_, i) => `prompts.${i}`);

  it('frozen prompts stay at their seeded initial values while the head trains', async () => {
    const a = await train({ cfg, backbone, method: METHODS.vpt_deep, data: data(16), hyper: hyper({ epochs: 0 }) });
    const b = await train({ cfg, backbone, method: METHODS.vpt_deep, data: data(16), hyper: hyper({ epochs: 2, freezePrompts: true }) });
    expect(b.trainable).toEqual(['head.bias', 'head.weight']);
    for (const n of promptNames())
      expect(Array.from((await b.params[n].data()) as Float32Array)).toEqual(Array.from((await a.params[n].data()) as Float32Array));
    const headMoved = ((await b.params['head.weight'].data()) as Float32Array).some((v, i) => v !== (a.params['head.weight'].dataSync() as Float32Array)[i]);
    expect(headMoved).toBe(true);
    expect(b.trainableParams).toBe(cfg.hiddenSize * 16 + 16);
    disposeOwned(a.params);
    disposeOwned(b.params);
  });

  it('zero-initialised prompts start at zero, and a prompt learning-rate multiple of 0 keeps them there', async () => {
    const out = await train({ cfg, backbone, method: METHODS.vpt_deep, data: data(16), hyper: hyper({ epochs: 1, promptInit: 'zero', promptLrScale: 0 }) });
    expect(out.trainable).toContain('prompts.0');
    for (const n of promptNames()) expect(((await out.params[n].data()) as Float32Array).every((v) => v === 0)).toBe(true);
    disposeOwned(out.params);
    const moving = await train({ cfg, backbone, method: METHODS.vpt_deep, data: data(16), hyper: hyper({ epochs: 1, promptInit: 'zero' }) });
    expect(((await moving.params['prompts.1'].data()) as Float32Array).some((v) => v !== 0)).toBe(true);
    disposeOwned(moving.params);
  });

  it('ft_then_pt: a learning-rate override tunes the prompt phase only; the fine-tuning phase keeps its AdamW rate', async () => {
    const out = await train({ cfg, backbone, method: METHODS.ft_then_pt, data: data(16), hyper: hyper({ epochs: 1, lr: 5 }) });
    const [ft, pt] = out.epochs;
    expect(ft.phase).toBe(1);
    expect(ft.lr).toBeLessThanOrEqual((1e-3 * 8) / 256 + 1e-12);
    expect(pt.phase).toBe(2);
    expect(pt.lr).toBeGreaterThan(0.01);
    disposeOwned(out.params);
  });

  it('stopAfterEpoch ends training early and still evaluates the test split', async () => {
    const out = await train({ cfg, backbone, method: METHODS.vpt_deep, data: data(16), hyper: hyper({ epochs: 5 }), stopAfterEpoch: (m) => m.epoch >= 2 });
    expect(out.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(out.test.numTest).toBe(16);
    disposeOwned(out.params);
  });

  it('different seeds give different runs (initialisation, order, dropout)', async () => {
    const losses = async (seed: number) => {
      const ls: number[] = [];
      const out = await train({
        cfg,
        backbone,
        method: METHODS.vpt_deep,
        data: data(24),
        hyper: hyper({ epochs: 1, seed }),
        emit: (e) => e.type === 'step' && ls.push(e.loss),
      });
      disposeOwned(out.params);
      return ls;
    };
    const [a, b, a2] = [await losses(1), await losses(2), await losses(1)];
    expect(a).toEqual(a2);
    expect(a).not.toEqual(b);
  });
});

/** Dispose what the trainer created (not the shared backbone). */
function disposeOwned(params: ParamSet) {
  for (const [n, t] of Object.entries(params)) if (backbone[n] !== t) t.dispose();
}

describe('divergence', () => {
  it('a loss that stops being finite stops the run with run/diverged, naming the step and the fix; nothing leaks', async () => {
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const err = await train({
      cfg,
      backbone,
      method: METHODS.linear,
      data: data(32),
      hyper: hyper({ epochs: 2, lr: 1e30 }),
      emit: (e) => void (e.type === 'step' && steps.push(e.loss)),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('run/diverged');
    expect((err as LabError).message).toMatch(/at epoch \d, step \d+/);
    expect((err as LabError).hint).toContain('Lower the learning rate');
    expect(steps.every(Number.isFinite)).toBe(true); // no NaN step was reported before the stop
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * tfjs' threaded WASM build as the lab starts it (src/backend/wasm.ts), in Node: the thread count
 * asked for is the one that runs (tfjs' own sizing would halve it), a ViT's forward and every
 * gradient are bit-identical on one and two threads, and a build whose workers cannot start is a
 * named failure that leaves one thread working.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from './node';
import { lastWasmThreadsError, useWasmThreads, wasmThreadsConfigured, wasmThreadsRunning, type ThreadedWasmFiles } from './wasm';
import { kernelsFor } from '../kernels';
import { PRESETS } from '../model/config';
import { randomParams } from '../model/params';
import { crossEntropy, forward, type ViT } from '../model/vit';

afterAll(async () => {
  await initNodeBackend('wasm', { threads: 1 });
});

/** Logits and the gradient of every weight of a small ViT (full fine-tuning), as flat arrays. */
function vitOutputs(): Float32Array[] {
  const cfg = { ...PRESETS.fixture_tiny, numClasses: 5 };
  const params = randomParams(cfg, 3);
  const names = Object.keys(params).sort();
  const x = tf.randomNormal([4, cfg.channels, cfg.imageSize, cfg.imageSize], 0, 1, 'float32', 5) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
  const vars = names.map((n) => tf.variable(params[n]!, true));
  const model: ViT = { cfg, params: Object.fromEntries(names.map((n, i) => [n, vars[i]!])), kernels: kernelsFor(tf.getBackend()) };
  const logits = tf.tidy(() => forward(model, x));
  const { value, grads } = tf.variableGrads(() => crossEntropy(forward(model, x), labels));
  const out = [logits.dataSync() as Float32Array, ...names.map((n) => grads[vars[names.indexOf(n)]!.name]!.dataSync() as Float32Array)];
  tf.dispose([x, labels, logits, value, ...vars, ...Object.values(grads), ...Object.values(params)]);
  return out;
}

describe("tfjs' threaded WASM build, started by the lab", () => {
  it('runs the threads asked for, and the same numbers, bit for bit, as one thread', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    expect(wasmThreadsRunning()).toBe(1);
    const single = vitOutputs();
    // Two threads even on a machine that reports two logical cores (tfjs alone would make it one).
    await initNodeBackend('wasm', { threads: 2 });
    expect(wasmThreadsRunning()).toBe(2);
    const threaded = vitOutputs();
    expect(threaded.length).toBe(single.length);
    threaded.forEach((t, i) => expect(Array.from(t)).toEqual(Array.from(single[i]!)));
    expect(tf.memory().numTensors).toBe(0);
  });

  it('a build whose pthread workers cannot start is a named failure, and one thread still works', async () => {
    await initNodeBackend('wasm', { threads: 1 });
    const broken: ThreadedWasmFiles = {
      glue: '/nonexistent/glue.js',
      worker: '/nonexistent/pthread-worker.cjs',
      instantiate: () => Promise.reject(new Error('no binary here')),
    };
    useWasmThreads(2, broken);
    const warn = console.warn;
    console.warn = () => {}; // tf.setBackend logs the failed factory
    try {
      expect(await tf.setBackend('wasm')).toBe(false);
    } finally {
      console.warn = warn;
    }
    expect(lastWasmThreadsError()).toMatch(/^The threaded WASM build did not start: /);
    useWasmThreads(1);
    expect(await tf.setBackend('wasm')).toBe(true);
    expect(wasmThreadsConfigured()).toBe(1);
    expect(tf.tidy(() => tf.sum(tf.ones([100])).dataSync()[0])).toBe(100);
  });

  it('refuses thread counts outside 1 to the cap', () => {
    expect(() => useWasmThreads(0)).toThrow(/from 1 to 8/);
    expect(() => useWasmThreads(9)).toThrow(/from 1 to 8/);
    expect(() => useWasmThreads(2)).toThrow(/needs its files/);
  });
});

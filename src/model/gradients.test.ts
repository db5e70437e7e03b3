/**
 * The lean backward pass (gradients.ts) against tfjs' own: the same loss and gradients to the bit
 * on a ViT (FT and VPT-deep, the lab's WASM kernels), a lower peak, nothing left behind; and the
 * shape operations of ops.ts, which save nothing for the backward pass and give tfjs' gradients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { probeMemory } from '../bench/memprobe';
import { kernelsFor } from '../kernels';
import { PRESETS } from './config';
import { gradientsOf, variableGradsOf } from './gradients';
import { reshape, residual } from './ops';
import { initHead, initPrompts, randomParams, type ParamSet } from './params';
import { crossEntropy, forward, type ViT } from './vit';

beforeAll(async () => {
  await initNodeBackend('wasm');
});
afterAll(() => {
  expect(tf.memory().numTensors).toBe(0);
});

const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer);

/** A 4-layer ViT at 64 px (65 tokens) with trainable variables as `method` trains them. */
function model(method: 'ft' | 'vpt_deep'): { m: ViT; vars: tf.Variable[]; dispose: () => void } {
  const cfg = { ...PRESETS.fixture_tiny, numLayers: 4 };
  const params: ParamSet = {
    ...randomParams({ ...cfg, numClasses: 0 }, 1),
    ...initHead(cfg, 10, 2),
    ...(method === 'vpt_deep' ? initPrompts(cfg, 8, cfg.numLayers, 3) : {}),
  };
  const trains = (n: string) => method === 'ft' || n.startsWith('prompts.') || n.startsWith('head.');
  const vars: tf.Variable[] = [];
  for (const n of Object.keys(params).filter(trains)) {
    const v = tf.variable(params[n], true, `${method}.${n}`);
    params[n].dispose();
    params[n] = v;
    vars.push(v);
  }
  return { m: { cfg, params, kernels: kernelsFor('wasm') }, vars, dispose: () => tf.dispose(Object.values(params)) };
}

describe('gradientsOf / variableGradsOf', () => {
  for (const method of ['ft', 'vpt_deep'] as const) {
    it(`${method}: tfjs' loss and gradients to the bit, at a lower peak, leaving no tensor behind`, async () => {
      const { m, vars, dispose } = model(method);
      const x = tf.randomNormal([4, 3, m.cfg.imageSize, m.cfg.imageSize], 0, 1, 'float32', 5) as tf.Tensor4D;
      const y = tf.tensor1d([1, 2, 3, 4], 'int32');
      const opts = { promptMode: method === 'vpt_deep' ? ('deep' as const) : ('none' as const), training: true, promptDropout: 0.1, dropoutSeed: 9 };
      const loss = () => crossEntropy(forward(m, x, opts), y);
      const before = tf.memory().numTensors;
      const stock = await probeMemory(() => tf.variableGrads(loss, vars), { live: [x, y, ...vars] });
      const lean = await probeMemory(() => variableGradsOf(loss, vars), { live: [x, y, ...vars] });
      expect(bits(lean.result.value).equals(bits(stock.result.value))).toBe(true);
      for (const v of vars) expect(bits(lean.result.grads[v.name]).equals(bits(stock.result.grads[v.name])), v.name).toBe(true);
      // What tfjs holds until the pass ends (saved activations and every intermediate's gradient) goes as it is used.
      expect(lean.peakBytes - lean.startBytes).toBeLessThan(0.7 * (stock.peakBytes - stock.startBytes));
      tf.dispose([stock.result.value, lean.result.value, ...Object.values(stock.result.grads), ...Object.values(lean.result.grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      dispose();
    });
  }

  it('as engine.gradients: a given dy, a null gradient off the path, and the named errors', () => {
    const [a, b] = tf.tidy(() => [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.tensor1d([4, 5, 6]))]);
    const dy = tf.tensor1d([1, 10, 100]);
    const r = gradientsOf(() => tf.mul(a, a), [a, b], dy, true);
    expect(Array.from(r.grads[0]!.dataSync())).toEqual([2, 40, 600]);
    expect(r.grads[1]).toBeNull();
    expect(dy.isDisposed).toBe(false); // the caller's
    expect(() => gradientsOf(() => tf.mul(a, 2), [b])).toThrow(/Cannot compute gradient of y=f\(x\)/);
    expect(() => variableGradsOf(() => tf.sum(tf.mul(a, 2)), [b])).toThrow(/Cannot find a connection/);
    expect(() => variableGradsOf(() => tf.mul(a, 2) as tf.Scalar, [a])).toThrow(/must return a scalar/);
    // After an error nothing stays recorded: the next gradient starts clean.
    expect((tf.engine() as unknown as { state: { activeTape: unknown } }).state.activeTape).toBeNull();
    tf.dispose([a, b, dy, r.value, r.grads[0]!]);
  });
});

describe('shape operations that save nothing', () => {
  /** The tensors the tape nodes made by `f` saved for the backward pass. */
  function savedBy(f: () => void): number {
    const engine = tf.engine() as unknown as { startTape(): void; endTape(): void; state: { activeTape: { saved?: tf.Tensor[] }[] | null } };
    engine.startTape();
    let n = 0;
    try {
      tf.tidy(() => {
        f(); // everything it made but what the tape saved goes with this scope
      });
    } finally {
      engine.endTape();
      for (const node of engine.state.activeTape ?? []) {
        n += node.saved?.length ?? 0;
        tf.dispose(node.saved ?? []);
      }
      engine.state.activeTape = null;
    }
    return n;
  }

  it("reshape and residual: tfjs' values and gradients, and no saved tensor (tf.reshape and tf.add save theirs)", () => {
    const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1),
      b = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 2),
      w = tf.randomNormal([6, 4], 0, 1, 'float32', 3);
    const lean = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(reshape(residual(x, y), [6, 4]), w));
    const stock = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.add(x, y), [6, 4]), w));
    const [gl, gs] = [tf.grads(lean)([a, b]), tf.grads(stock)([a, b])];
    gl.forEach((g, i) => expect(bits(g).equals(bits(gs[i])), `gradient ${i}`).toBe(true));
    const [vl, vs] = tf.tidy(() => [lean(a, b), stock(a, b)]);
    expect(bits(vl).equals(bits(vs))).toBe(true);
    expect(savedBy(() => reshape(residual(a, b), [6, 4]))).toBe(0);
    expect(savedBy(() => tf.reshape(tf.add(a, b), [6, 4]))).toBe(3); // Add: a and b; Reshape: its input
    expect(() => residual(a, w)).toThrow(/shapes \[2,3,4\] and \[6,4\] differ/);
    tf.dispose([a, b, w, vl, vs, ...gl, ...gs]);
  });
});

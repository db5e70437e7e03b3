import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { PRESETS, parameterCount } from './config';
import { adaptToResolution, initHead, randomParams, resizePosEmbed } from './params';
import { camFromGradients, forward, gradCam, traceBlocks, withoutPrompts } from './vit';
import { paramsFromCanonical, toComputeTensor } from './params';
import { loadCheckpoint } from '../weights/load';
import { parseSafetensors } from '../weights/formats/safetensors';
import { readAll } from '../weights/formats/archive';
import { fixture } from '../weights/testutil';
import { stockKernels } from './ops';
import { chooseBackend, looksSoftware, type HostCapabilities } from '../backend/select';

beforeAll(async () => {
  await initNodeBackend('cpu');
});

describe('position embeddings at another resolution', () => {
  it('same grid: the identical tensor', () => {
    const pe = tf.randomNormal([1, 17, 8]);
    expect(resizePosEmbed(pe, 4)).toBe(pe);
    pe.dispose();
  });
  it('another grid: CLS kept, grid resized, a constant grid stays constant', async () => {
    const pe = tf.concat([tf.fill([1, 1, 3], 7), tf.fill([1, 16, 3], 2)], 1); // CLS = 7, grid = 2
    const out = resizePosEmbed(pe, 7);
    expect(out.shape).toEqual([1, 50, 3]);
    const v = (await out.data()) as Float32Array;
    expect(Array.from(v.slice(0, 3))).toEqual([7, 7, 7]);
    for (const x of v.slice(3)) expect(x).toBeCloseTo(2, 6);
    tf.dispose([pe, out]);
  });
  it('a model adapted to 112 px runs at 112 px', () => {
    const cfg = { ...PRESETS.fixture_tiny, imageSize: 64 };
    const params = randomParams(cfg, 1);
    const next = adaptToResolution(params, cfg, 112);
    expect(next.imageSize).toBe(112);
    expect(params['pos_embed'].shape).toEqual([1, 1 + 49, cfg.hiddenSize]);
    const logits = tf.tidy(() => forward({ cfg: next, params, kernels: stockKernels }, tf.zeros([2, 3, 112, 112]) as tf.Tensor4D));
    expect(logits.shape).toEqual([2, cfg.numClasses]);
    tf.dispose([logits, ...Object.values(params)]);
  });
});

describe('Grad-CAM', () => {
  it("matches the golden fixture's map (each sample's own label; test/fixtures/README.md)", async () => {
    for (const [weights, golden] of [['hf_tiny_model.safetensors', 'hf_tiny_golden.safetensors']]) {
      const ckpt = await loadCheckpoint(fixture(weights), { name: weights });
      const g = readAll(parseSafetensors(fixture(golden), golden));
      const want = g.get('gradcam')!;
      expect(want, `${golden} holds a Grad-CAM map`).toBeDefined();
      const params = paramsFromCanonical(ckpt.tensors);
      for (const k of ['head.weight', 'head.bias']) if (g.has(k)) params[k] = toComputeTensor(k, g.get(k)!); // the hub layout has no head
      const px = g.get('pixel_values')!,
        labels = g.get('labels')!;
      const cam = tf.tidy(() =>
        gradCam(
          { cfg: ckpt.config, params, kernels: stockKernels },
          tf.tensor4d(px.data, px.shape as [number, number, number, number]),
          tf.tensor1d(Array.from(labels.data, Math.round), 'int32'),
        ),
      );
      expect(cam.shape).toEqual(want.shape);
      const got = cam.dataSync();
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want.data[i]!));
      expect(worst, weights).toBeLessThan(1e-4);
      tf.dispose([cam, ...Object.values(params)]);
    }
  });

  it('computes the map of a hand-worked case, and never reads CLS or prompt tokens', () => {
    // 2 x 2 patches, 2 channels, after CLS and 2 prompts whose huge values must not count.
    const prefix = [
      [900, -900],
      [50, 50],
      [-70, 30],
    ];
    const a = [...prefix, [1, 0], [0, 1], [2, 2], [-1, 0]]; // activations A
    const g = [...prefix, [1, 0], [3, 0], [1, 2], [-1, 2]]; // gradients G
    // w = mean of G over the patches = [1, 1]; A·w = [1, 1, 4, -1]; relu -> [1, 1, 4, 0];
    // (cam - 0) / (4 - 0 + 1e-7) -> [0.25, 0.25, 1, 0].
    const cam = tf.tidy(() => camFromGradients(tf.tensor3d([a]), tf.tensor3d([g]), 2, 2));
    expect(cam.shape).toEqual([1, 2, 2]);
    const v = Array.from(cam.dataSync());
    cam.dispose();
    [0.25, 0.25, 1, 0].forEach((want, i) => expect(v[i]).toBeCloseTo(want, 6));
  });

  it('works for any class, with and without prompts, normalised to [0, 1] on the patch grid', async () => {
    const cfg = PRESETS.fixture_tiny;
    const params = {
      ...randomParams(cfg, 3),
      'prompts.0': tf.randomNormal([2, cfg.hiddenSize]),
      'prompts.1': tf.randomNormal([2, cfg.hiddenSize]),
      'prompts.2': tf.randomNormal([2, cfg.hiddenSize]),
    };
    const x = tf.randomNormal([2, 3, 64, 64]) as tf.Tensor4D;
    for (const promptMode of ['none', 'shallow', 'deep'] as const) {
      for (const target of [0, 4]) {
        const cam = gradCam({ cfg, params, kernels: stockKernels }, x, tf.tensor1d([target, target], 'int32'), { promptMode });
        expect(cam.shape).toEqual([2, 4, 4]);
        const v = (await cam.data()) as Float32Array;
        for (const c of v) expect(c >= 0 && c <= 1).toBe(true);
        cam.dispose();
      }
    }
    tf.dispose([x, ...Object.values(params)]);
  });
});

describe('prompts', () => {
  const cfg = PRESETS.fixture_tiny;
  const withPromptSets = () => ({
    ...randomParams(cfg, 5),
    ...Object.fromEntries([0, 1, 2].map((i) => [`prompts.${i}`, tf.randomNormal([3, cfg.hiddenSize], 0, 1, 'float32', 40 + i)])),
  });

  it('dropout draws its own mask for every image of a batch (the reference drops after expanding to the batch)', async () => {
    const params = withPromptSets();
    const one = tf.randomNormal([1, 3, 64, 64], 0, 1, 'float32', 9) as tf.Tensor4D;
    const twins = tf.concat([one, one]) as tf.Tensor4D; // the same image twice
    const m = { cfg, params, kernels: stockKernels };
    const rows = async (training: boolean) => {
      const logits = forward(m, twins, { promptMode: 'deep', training, promptDropout: 0.5, dropoutSeed: 3 });
      const v = Array.from(await logits.data());
      logits.dispose();
      return [v.slice(0, cfg.numClasses), v.slice(cfg.numClasses)];
    };
    const [a, b] = await rows(true);
    expect(a.some((x, i) => Math.abs(x - b[i]) > 1e-4)).toBe(true);
    const [c, d] = await rows(false);
    c.forEach((x, i) => expect(x).toBeCloseTo(d[i], 5));
    tf.dispose([one, twins, ...Object.values(params)]);
  });

  it('traceBlocks: one input and one output per block; without prompts they are the frozen sequence', async () => {
    const params = withPromptSets();
    const x = tf.randomNormal([2, 3, 64, 64], 0, 1, 'float32', 11) as tf.Tensor4D;
    const m = { cfg, params, kernels: stockKernels };
    const deep = traceBlocks(m, x, { promptMode: 'deep' });
    expect(deep.inputs).toHaveLength(cfg.numLayers);
    expect(deep.inputs[1].shape).toEqual([2, 1 + 3 + 16, cfg.hiddenSize]);
    expect(withoutPrompts(deep.outputs[2], 3).shape).toEqual([2, 1 + 16, cfg.hiddenSize]);
    // The embedding is the same with or without prompts; the last output differs.
    const plain = traceBlocks(m, x);
    expect(plain.outputs[2].shape).toEqual([2, 17, cfg.hiddenSize]);
    const same = await tf.max(tf.abs(tf.sub(deep.embedded, plain.embedded))).data();
    expect(same[0]).toBe(0);
    const moved = await tf.max(tf.abs(tf.sub(withoutPrompts(deep.outputs[2], 3), plain.outputs[2]))).data();
    expect(moved[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, ...Object.values(params)]);
  });
});

describe('seeded initialisation', () => {
  it('replays for every seed, 0 included (tfjs draws Gaussians unseeded for seed 0)', async () => {
    const cfg = PRESETS.fixture_tiny;
    for (const seed of [0, 1]) {
      const a = randomParams(cfg, seed),
        b = randomParams(cfg, seed);
      for (const n of Object.keys(a)) expect(Array.from(await a[n].data()), `${n} seed ${seed}`).toEqual(Array.from(await b[n].data()));
      tf.dispose([...Object.values(a), ...Object.values(b)]);
    }
    const h1 = initHead(cfg, 4, 0),
      h2 = initHead(cfg, 4, 0);
    expect(Array.from(await h1['head.weight'].data())).toEqual(Array.from(await h2['head.weight'].data()));
    tf.dispose([...Object.values(h1), ...Object.values(h2)]);
  });
});

describe('presets', () => {
  it('ViT-B/16 has the published size (86.6 M with a 1000-class head)', () => {
    expect(parameterCount({ ...PRESETS.vit_b16, numClasses: 1000 })).toBe(86_567_656);
  });
});

describe('backend choice', () => {
  const caps = (o: Partial<HostCapabilities>): HostCapabilities => ({
    webgpu: { available: false, software: false, description: 'none' },
    webgl: { available: false, software: false, description: 'none' },
    wasm: true,
    ...o,
  });
  it('hardware WebGPU first', () => {
    expect(chooseBackend(caps({ webgpu: { available: true, software: false, description: 'NVIDIA' } })).backend).toBe('webgpu');
  });
  it('a software (SwiftShader) WebGPU adapter loses to WASM, and the reason says so', () => {
    const c = chooseBackend(
      caps({
        webgpu: { available: true, software: true, description: 'google swiftshader' },
        webgl: { available: true, software: true, description: 'SwiftShader' },
      }),
    );
    expect(c.backend).toBe('wasm');
    expect(c.reason).toMatch(/software/);
    expect(c.noWebGPU).toBe(false);
  });
  it('no WebGPU: the banner flag is set and the fallback is named', () => {
    const c = chooseBackend(caps({ webgl: { available: true, software: false, description: 'Intel Iris' } }));
    expect(c.backend).toBe('webgl');
    expect(c.noWebGPU).toBe(true);
  });
  it('an override wins when available, and falls back with a reason when not', () => {
    const sw = caps({ webgpu: { available: true, software: true, description: 'swiftshader' } });
    expect(chooseBackend(sw, 'webgpu').backend).toBe('webgpu');
    const c = chooseBackend(caps({}), 'webgpu');
    expect(c.backend).toBe('wasm');
    expect(c.reason).toMatch(/not available/);
  });
  it('recognises software renderers by name', () => {
    expect(looksSoftware('Google SwiftShader')).toBe(true);
    expect(looksSoftware('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(looksSoftware('NVIDIA GeForce RTX 4090')).toBe(false);
  });
});

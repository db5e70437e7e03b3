/**
 * The bundled model (public/models/tiny_pretrained.safetensors, made by `npm run pretrain`) must
 * load with the lab's loader and still recognise its own pretraining classes on held-out images,
 * with the 50-class head it ships with. A missing file is a failure, not a skip: the lab's
 * offline study depends on it.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend/node';
import { paramsFromCanonical, disposeParams } from '../model/params';
import { forward } from '../model/vit';
import { kernelsFor } from '../kernels';
import { bundledModelPath } from '../train/host.node.js';
import { loadCheckpointFromPath } from '../weights/node';
import { preprocessImage } from './preprocess';
import { PRETRAIN_NUM_CLASSES, pretrainingSplits, renderPretrainImage, renderSynthScene } from './pretraining';
import { HeadAccuracy, SCENE_CHANCE, SCENE_HEADS, SCENE_LOGITS, sampleLabelledScene } from './sceneObjective';
import { BUNDLED_DIMS } from '../train/dims';

const MODEL = bundledModelPath('tiny_pretrained');
const HELD_OUT = 200;
/** The seed the bundled model was pretrained with (its model card's command): test split of that seed is disjoint from its training stream. */
const PRETRAIN_SEED = 0;

describe('bundled tiny_pretrained model', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('exists, loads as timm layout, and is small', async () => {
    expect(existsSync(MODEL), `${MODEL} is missing: run \`npm run pretrain\` and commit the weights`).toBe(true);
    const ckpt = await loadCheckpointFromPath(MODEL);
    expect(ckpt.layout).toBe('timm');
    expect(ckpt.config.numClasses).toBe(PRETRAIN_NUM_CLASSES);
    expect(ckpt.config.layerNormEps).toBe(1e-6);
    expect(ckpt.tensors.get('head.weight')?.shape).toEqual([PRETRAIN_NUM_CLASSES, ckpt.config.hiddenSize]);
    let bytes = 0;
    for (const t of ckpt.tensors.values()) bytes += t.data.byteLength;
    expect(bytes).toBeLessThanOrEqual(25e6);
  });

  it(`beats chance (${(100 / PRETRAIN_NUM_CLASSES).toFixed(0)}%) by more than 5x on ${HELD_OUT} held-out pretraining images with its own head`, async () => {
    expect(existsSync(MODEL), `${MODEL} is missing: run \`npm run pretrain\` and commit the weights`).toBe(true);
    const ckpt = await loadCheckpointFromPath(MODEL);
    const cfg = ckpt.config;
    const params = paramsFromCanonical(ckpt.tensors);
    const before = tf.memory().numTensors;
    const items = pretrainingSplits({ seed: PRETRAIN_SEED, testSize: HELD_OUT }).test;
    const S = cfg.imageSize;
    const plane = 3 * S * S;
    let correct = 0;
    for (let s = 0; s < items.length; s += 100) {
      const part = items.slice(s, s + 100);
      const x = new Float32Array(part.length * plane); // [B, 3, S, S]
      part.forEach((it, k) => preprocessImage(renderPretrainImage(it.label, it.seed!, S), S, { mean: cfg.mean, std: cfg.std }, x, k * plane));
      const pred = tf.tidy(() => tf.argMax(forward({ cfg, params, kernels: kernelsFor(tf.getBackend()) }, tf.tensor4d(x, [part.length, 3, S, S])), -1));
      const p = await pred.data();
      pred.dispose();
      part.forEach((it, k) => (correct += p[k] === it.label ? 1 : 0));
    }
    expect(tf.memory().numTensors).toBe(before);
    disposeParams(params);
    const accuracy = correct / items.length;
    expect(accuracy).toBeGreaterThan(5 / PRETRAIN_NUM_CLASSES);
  });
});

const SCENES_MODEL = bundledModelPath('scenes_vit');

describe('bundled scenes_vit model', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('exists, has the shape the lab plans memory and prompts for, and is small', async () => {
    expect(existsSync(SCENES_MODEL), `${SCENES_MODEL} is missing: see docs/pretraining.md`).toBe(true);
    const ckpt = await loadCheckpointFromPath(SCENES_MODEL);
    const { numClasses, layerNormEps, mean, std, ...dims } = ckpt.config;
    expect(dims).toEqual(BUNDLED_DIMS.scenes_vit);
    expect(numClasses).toBe(SCENE_LOGITS);
    expect([layerNormEps, mean, std]).toEqual([1e-6, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
    let bytes = 0;
    for (const t of ckpt.tensors.values()) bytes += t.data.byteLength;
    expect(bytes).toBeLessThanOrEqual(25e6);
  });

  it(`answers every one of its ${SCENE_HEADS.length} scene questions above chance on ${HELD_OUT} held-out scenes`, async () => {
    const ckpt = await loadCheckpointFromPath(SCENES_MODEL);
    const cfg = ckpt.config;
    const params = paramsFromCanonical(ckpt.tensors);
    const counter = new HeadAccuracy();
    const S = cfg.imageSize;
    const plane = 3 * S * S;
    const items = pretrainingSplits({ seed: PRETRAIN_SEED, testSize: HELD_OUT }).test;
    for (let s = 0; s < items.length; s += 100) {
      const part = items.slice(s, s + 100);
      const x = new Float32Array(part.length * plane); // [B, 3, S, S]
      const labels = part.map((it, k) => {
        const { scene, labels: l } = sampleLabelledScene(it.label, it.seed!);
        preprocessImage(renderSynthScene(scene, { size: S }), S, { mean: cfg.mean, std: cfg.std }, x, k * plane);
        return l;
      });
      const logits = tf.tidy(() => forward({ cfg, params, kernels: kernelsFor(tf.getBackend()) }, tf.tensor4d(x, [part.length, 3, S, S]))); // [B, ΣK]
      const values = await logits.data();
      logits.dispose();
      labels.forEach((l, k) => counter.add(values.subarray(k * SCENE_LOGITS, (k + 1) * SCENE_LOGITS), l));
    }
    disposeParams(params);
    const { perHead, mean } = counter.accuracy();
    // Its card: every head but orientation (at chance, 12.9 % of 8 bins) learned. Each of those
    // beats its own chance (1 / classes) by half again, and the mean is over twice chance.
    const learned = SCENE_HEADS.map((h, i) => ({ name: h.name, acc: perHead[i]!, chance: 100 / h.classes.length })).filter((h) => h.name !== 'orientation');
    for (const h of learned) expect(h.acc, h.name).toBeGreaterThan(1.5 * h.chance);
    expect(mean).toBeGreaterThan(2 * SCENE_CHANCE);
  });
});

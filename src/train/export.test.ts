import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { TINY_VIT } from './testutil';
import { randomParams, type ParamSet } from '../model/params';
import { openProceduralTask } from '../data/procedural';
import { METHODS } from './methods';
import { type MethodId } from '../domain/run';
import { train } from './trainer';
import { trainDataFromSplits } from '../data/fromSplits';
import { readTrainedParams, trainedParamsFile } from './export';
import { loadCheckpoint } from '../weights/load';

const cfg = TINY_VIT;
let backbone: ParamSet;
beforeAll(async () => {
  await initNodeBackend('wasm');
  backbone = randomParams(cfg, 5);
});
const data = () => trainDataFromSplits(openProceduralTask('clevr_like_count', { trainSize: 48, valSize: 8, testSize: 48, seed: 2 }), { imageSize: 32 });

for (const id of ['vpt_deep', 'ft'] as MethodId[]) {
  it(`${id}: exported parameters, imported into a fresh run, give the same test predictions`, async () => {
    const d = data();
    const hyper = { epochs: 3, batchSize: 16, promptLength: 3, seed: 4, lr: id === 'ft' ? 0.05 : 2 };
    const trained = await train({ cfg, backbone, method: METHODS[id], data: d, hyper });
    const bytes = await trainedParamsFile(trained.params, trained.trainable, cfg, {
      method: id,
      taskId: 'clevr_like_count',
      numClasses: 8,
      promptLength: 3,
      baseModel: 'random',
    });
    const names = [...Object.keys(readTrainedParams(bytes, 'x').params)].sort();
    if (id === 'vpt_deep') expect(names).toEqual(['head.bias', 'head.weight', 'prompts.0', 'prompts.1']);
    else expect(names.length).toBe(Object.keys(backbone).filter((n) => !n.startsWith('head.')).length + 2);
    const { params: imported } = readTrainedParams(bytes, 'x');
    const evaluated = await train({ cfg, backbone, method: METHODS[id], data: d, hyper: { ...hyper, epochs: 0 }, initial: imported });
    expect(evaluated.test.confusion).toEqual(trained.test.confusion);
    tf.dispose(Object.values(imported));
    for (const o of [trained, evaluated]) for (const [n, t] of Object.entries(o.params)) if (backbone[n] !== t) t.dispose();
    // A fully fine-tuned export is an ordinary timm checkpoint too.
    if (id === 'ft') expect((await loadCheckpoint(bytes, { name: 'ft.safetensors' })).layout).toBe('timm');
  });
}

it('a file that is not an export is refused with a clear message', async () => {
  expect(() => readTrainedParams(new Uint8Array(16), 'junk.bin')).toThrow(/junk\.bin/);
});

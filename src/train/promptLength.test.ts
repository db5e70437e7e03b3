import { describe, expect, it } from 'vitest';
import { PRESETS, gridSize } from '../model/config';
import { TASKS, promptLengthFor } from '../data/catalog';
import type { RunConfig } from '../domain/run';
import { resolvePromptLength } from './session';

/** What `npm run train` and `npm run study` hand the session when no --prompt-length is given. */
const config = (taskId: string, method: RunConfig['method']): RunConfig => ({
  runId: 'x',
  modelLabel: 'x',
  model: { kind: 'random', preset: 'fixture_tiny' },
  taskId,
  data: { kind: 'procedural' },
  method,
  trainSize: 800,
  valSize: 200,
  testSize: 0,
  epochs: 1,
  batchSize: 32,
  seed: 0,
  imageSize: 0,
  gradcamSamples: 0,
});

describe('one prompt-length rule for train and study', () => {
  it('an unset prompt length resolves to the catalog rule for the model’s patch count', () => {
    const bundled = { ...PRESETS.fixture_tiny, imageSize: 48, patchSize: 12 }; // the bundled model's 16 patches
    for (const cfg of [PRESETS.vit_b16, bundled]) {
      for (const t of TASKS) {
        expect(resolvePromptLength(config(t.id, 'vpt_deep'), cfg).promptLength, `${t.id} at ${gridSize(cfg) ** 2} patches`).toBe(
          promptLengthFor(t, gridSize(cfg) ** 2),
        );
      }
    }
    expect(resolvePromptLength(config('svhn', 'vpt_deep'), bundled).promptLength).toBe(16);
    expect(resolvePromptLength(config('svhn', 'vpt_deep'), PRESETS.vit_b16).promptLength).toBe(200);
    expect(resolvePromptLength(config('svhn', 'linear'), bundled).promptLength).toBe(0);
    expect(resolvePromptLength({ ...config('svhn', 'vpt_deep'), promptLength: 3 }, bundled).promptLength).toBe(3);
  });
});

/**
 * `npm run train` and memory, as a user meets it: the plan is printed and kept in the results
 * JSON beside the WASM heap's high-water mark, and a run that cannot fit one image stops with a
 * named error before the model's weights are read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { errorLine, runCli } from './testutil';
import { makeTempDir } from '../data/fixtures.node';
import { FIXTURES } from '../weights/testutil';

// A CLI run each; on a busy 2-core CI machine each can wait long for a core.
vi.setConfig({ testTimeout: 600_000 });

const MB = 1e6;

describe('npm run train: memory', () => {
  it('prints the plan and keeps it in the results JSON with the heap high-water mark', async () => {
    const out = join(makeTempDir(), 'r.json');
    const run = await runCli('train', [
      '--model',
      join(FIXTURES, 'timm_tiny_model.safetensors'),
      '--task',
      'synth_shapes',
      '--method',
      'vpt_deep',
      '--epochs',
      '1',
      '--batch',
      '8',
      '--train-size',
      '16',
      '--test-size',
      '8',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toMatch(/^memory: about .* per step of 3\.50 GiB \(wasm\); micro-batch 8; evaluation in batches of 8$/m);
    expect(run.stderr).toMatch(/^memory: WASM heap high-water \d+ MiB \(planned \d+ MiB per step\)$/m);
    const json = JSON.parse(readFileSync(out, 'utf8')) as {
      memory: { plan: { microBatch: number; accumulation: number; estimateBytes: number; budgetBytes: number }[]; heapHighWaterBytes: number };
    };
    const [plan] = json.memory.plan;
    expect(plan).toMatchObject({ microBatch: 8, accumulation: 1, budgetBytes: 4 * 2 ** 30 - 512 * 2 ** 20 });
    // The heap only grows: its size at the end is the run's high-water mark, and the plan bounds it.
    expect(json.memory.heapHighWaterBytes).toBeGreaterThan(0);
    expect(json.memory.heapHighWaterBytes).toBeLessThanOrEqual(1.1 * plan!.estimateBytes);
  });

  it('ViT-B/16 at 1024 px: run/does-not-fit before any weight is read, in bounded memory', async () => {
    const run = await runCli('train', [
      '--model',
      'random_vit_b16',
      '--task',
      'synth_shapes',
      '--method',
      'ft',
      '--image-size',
      '1024',
      '--batch',
      '8',
      '--train-size',
      '8',
      '--out',
      join(makeTempDir(), 'r.json'),
    ]);
    const line = errorLine(run);
    expect(line, run.stderr.slice(-2000)).toContain('[run/does-not-fit]');
    expect(line).toContain('Even one image per step does not fit the WASM heap');
    expect(line).toContain('4097 tokens');
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    // Loading the weights first peaked at 583 MB (344 MB of them); the plan stops before (about
    // 200 MB single-threaded, 320 MB with the threaded WASM runtime's workers).
    expect(run.peakBytes).toBeLessThan(450 * MB);
  });
});

/**
 * `npm run train` says when a run's loss rose, as the page does: a warning line naming the epoch,
 * the loss, what it rose above and the tenth of the learning rate to try, and `lossRise` in the
 * results JSON (null for a run whose loss fell).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from './testutil';
import { makeTempDir } from '../data/fixtures.node';
import { FIXTURES } from '../weights/testutil';

vi.setConfig({ testTimeout: 600_000 });

const args = (lr: string, out: string) => [
  '--model',
  join(FIXTURES, 'timm_tiny_model.safetensors'),
  '--task',
  'synth_shapes',
  '--method',
  'linear',
  '--epochs',
  '3',
  '--batch',
  '4',
  '--train-size',
  '32',
  '--test-size',
  '8',
  '--lr',
  lr,
  '--out',
  out,
];

describe('npm run train: the loss-rise warning', () => {
  it('a run at the top of the prompt grid warns and records where its loss rose; a calm one records null', async () => {
    const dir = makeTempDir();
    const wild = await runCli('train', args('50', join(dir, 'wild.json')));
    expect(wild.code, wild.stderr.slice(-2000)).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'wild.json'), 'utf8')) as {
      lossRise: { kind: string; epoch: number; loss: number; reference: number; lr: number } | null;
    };
    expect(json.lossRise).toMatchObject({ lr: 50 });
    expect(json.lossRise!.loss).toBeGreaterThan(json.lossRise!.reference);
    expect(wild.stderr).toMatch(/^warning: The loss is rising, not falling: .* \(base lr 50\)\. .* Rerun with --lr 5\.$/m);
    const calm = await runCli('train', args('0.05', join(dir, 'calm.json')));
    expect(calm.code, calm.stderr.slice(-2000)).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'calm.json'), 'utf8')) as { lossRise: unknown }).lossRise).toBeNull();
    expect(calm.stderr).not.toMatch(/^warning: The loss is rising/m);
  });
});

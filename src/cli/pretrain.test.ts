/**
 * `npm run pretrain` is reproducible where its schedule allows: with `--steps` the learning rate
 * and the curriculum follow the step count, so the same seed gives the same weights to the bit;
 * with `--minutes` they follow the wall clock, so two runs differ (the README says so).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runCli } from './testutil';
import { makeTempDir } from '../data/fixtures.node';

vi.setConfig({ testTimeout: 600_000 });

/** The tensor bytes of a safetensors file, without its header (which records wall time and the command). */
function tensorBytes(file: string): Buffer {
  const b = readFileSync(file);
  const headerLength = Number(b.readBigUInt64LE(0));
  return b.subarray(8 + headerLength);
}

async function pretrain(seed: number): Promise<Buffer> {
  const dir = makeTempDir();
  // A one-block model of width 32 on 16 px scenes: a few seconds, still every part of a step.
  const run = await runCli('pretrain', [
    ...['--steps', '4', '--batch', '8', '--width', '32', '--depth', '1', '--heads', '1', '--patch', '8', '--image-size', '16'],
    ...['--eval-size', '16', '--val-size', '0', '--seed', String(seed), '--out-dir', dir],
  ]);
  try {
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    return tensorBytes(join(dir, 'tiny_pretrained.safetensors'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('npm run pretrain', () => {
  it('gives the same weights to the bit for the same seed with --steps, and other weights for another seed', async () => {
    const a = await pretrain(3);
    const b = await pretrain(3);
    const c = await pretrain(4);
    expect(a.length).toBeGreaterThan(10_000);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });
});

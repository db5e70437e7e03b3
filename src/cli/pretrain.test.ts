/**
 * `npm run pretrain` is reproducible where its schedule allows: with `--steps` the learning rate
 * and the curriculum follow the step count, so the same seed gives the same weights to the bit;
 * with `--minutes` they follow the wall clock, so two runs differ (the README says so).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { REPO, runCli } from './testutil';
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

/** A one-block scenes model on 16 px images, checkpointing every 3 steps. */
const SCENES_RUN = [
  ...['--objective', 'scenes', '--steps', '150', '--batch', '8', '--width', '32', '--depth', '1', '--heads', '1', '--patch', '8', '--image-size', '16'],
  ...['--eval-size', '16', '--val-size', '0', '--checkpoint-steps', '3', '--seed', '5'],
];

/** Starts the run and sends SIGINT as soon as its first checkpoint is written; resolves with its exit code and output. */
function interrupted(dir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/pretrain.ts', ...SCENES_RUN, '--out-dir', dir], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('checkpoint: step 3,')) {
        sent = true;
        p.kill('SIGINT');
      }
    });
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('npm run pretrain --resume', () => {
  it('a run stopped by Ctrl-C and resumed ends with the same weights to the bit as one never stopped, and logs as it goes', async () => {
    const whole = makeTempDir();
    const parts = makeTempDir();
    try {
      const straight = await runCli('pretrain', [...SCENES_RUN, '--out-dir', whole]);
      expect(straight.code, straight.stderr.slice(-2000)).toBe(0);

      const stopped = await interrupted(parts);
      expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
      expect(stopped.stderr).toMatch(/SIGINT: saving a checkpoint/);
      const resumeLine = /continue with: (npm run pretrain -- --resume \S+)/.exec(stopped.stderr);
      expect(resumeLine, stopped.stderr.slice(-2000)).not.toBeNull();
      const state = JSON.parse(readFileSync(join(parts, 'scenes_vit.partial.json'), 'utf8')) as { step: number };
      expect(state.step).toBeGreaterThanOrEqual(3);
      expect(state.step).toBeLessThan(150);
      expect(existsSync(join(parts, 'scenes_vit.safetensors'))).toBe(false);

      const resumed = await runCli('pretrain', ['--resume', parts]);
      expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
      expect(resumed.stderr).toContain(`resuming at step ${state.step}`);
      expect(tensorBytes(join(parts, 'scenes_vit.safetensors')).equals(tensorBytes(join(whole, 'scenes_vit.safetensors')))).toBe(true);
      // The checkpoint is removed once the model is written; the log holds both sessions.
      expect(existsSync(join(parts, 'scenes_vit.partial.json'))).toBe(false);
      const log = readFileSync(join(parts, 'scenes_vit.log'), 'utf8');
      expect(log).toContain(`stopped by SIGINT at step ${state.step}`);
      expect(log.match(/held-out accuracy [\d.]+%/g)).toHaveLength(1);
      expect(log.match(/npm run pretrain --/g)!.length).toBe(2);
    } finally {
      rmSync(whole, { recursive: true, force: true });
      rmSync(parts, { recursive: true, force: true });
    }
  });

  it('names what is wrong with a --resume folder', async () => {
    const dir = makeTempDir();
    try {
      const run = await runCli('pretrain', ['--resume', dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/error \[checkpoint\/unreadable\]: --resume: .* holds no resume checkpoint/);
      const both = await runCli('pretrain', ['--resume', dir, '--out-dir', dir]);
      expect(both.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

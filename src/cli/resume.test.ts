/**
 * Ctrl-C and --resume, as a user meets them: `train` and `study` run through the engine, a SIGINT
 * after an epoch stops the run and keeps that epoch's checkpoint beside --out, and the command run
 * again (`train --resume`; `study` as it is) finishes with exactly what an uninterrupted run gives:
 * the same trained parameters, byte for byte, and the same table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FIXTURES } from '../weights/testutil';
import { REPO, runCli } from './testutil';
import type { StudyFile } from './studyFile';

// Several CLI runs each; on a busy 2-core machine each can wait long for a core.
vi.setConfig({ testTimeout: 600_000 });

const dir = mkdtempSync(join(tmpdir(), 'cli-resume-'));
const live = new Set<ChildProcess>();
afterAll(() => {
  for (const p of live) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts a CLI, waits until `ready` holds (checked on its stderr so far, every 50 ms), sends it
 * SIGINT, and resolves with its exit code and stderr once it has exited.
 */
function interrupted(name: string, args: string[], ready: (stderr: string) => boolean): Promise<{ code: number | null; stderr: string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', `src/cli/${name}.ts`, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(p);
  let stderr = '';
  p.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (ready(stderr)) {
        clearInterval(poll);
        p.kill('SIGINT');
      }
    }, 50);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearInterval(poll);
      live.delete(p);
      resolve({ code, stderr });
    });
  });
}

const model = join(FIXTURES, 'hf_tiny_model.safetensors');

describe('npm run train: Ctrl-C and --resume', () => {
  it('an FT run stopped after its first epoch and resumed ends with the weights of an uninterrupted run, byte for byte', async () => {
    const base = ['--model', model, '--task', 'synth_shapes', '--method', 'ft', '--epochs', '4', '--train-size', '96', '--val-size', '16'].concat([
      '--test-size',
      '16',
      '--batch',
      '8',
      '--seed',
      '3',
    ]);
    const at = (name: string) => ['--out', join(dir, `${name}.json`), '--save-params', join(dir, `${name}.safetensors`)];

    const whole = await runCli('train', [...base, ...at('whole')]);
    expect(whole.code, whole.stderr.slice(-2000)).toBe(0);

    const stopped = await interrupted('train', [...base, ...at('resumed')], (e) => /^epoch 1: /m.test(e));
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
    expect(stopped.stderr).toMatch(/^interrupted: epoch [1-3] of 4 done; --resume continues from the checkpoint in .*resumed\.json\.resume$/m);
    expect(existsSync(join(dir, 'resumed.safetensors'))).toBe(false);
    const partial = JSON.parse(readFileSync(join(dir, 'resumed.json'), 'utf8')) as { status: string; epochs: unknown[] };
    expect(partial.status).toBe('cancelled');
    const kept = partial.epochs.length;
    expect(kept).toBeGreaterThanOrEqual(1);

    // Starting afresh over the checkpoint, or resuming with other settings, is refused: nothing trained is lost.
    const fresh = await runCli('train', [...base, ...at('resumed')]);
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toMatch(
      /error \[output\/unwritable\]: --out: ".*resumed\.json\.resume" holds the checkpoint of an unfinished run \(epoch \d of 4 done\)\. Continue it with the same command and --resume/,
    );
    const other = await runCli('train', [...base.map((a) => (a === '3' ? '4' : a)), ...at('resumed'), '--resume']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('was started with other settings (seed 3 → 4)');

    const resumed = await runCli('train', [...base, ...at('resumed'), '--resume']);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(resumed.stderr).toContain(`resume: epoch ${kept} of 4 done; continuing from the checkpoint`);
    // Only the epochs after the checkpoint were trained again.
    expect(resumed.stderr).not.toMatch(/^epoch 1: /m);
    expect(resumed.stderr).toMatch(/^epoch 4: /m);

    const a = readFileSync(join(dir, 'whole.safetensors')),
      b = readFileSync(join(dir, 'resumed.safetensors'));
    expect(b.length).toBeGreaterThan(100_000); // the whole model: FT trains every weight
    expect(b.equals(a)).toBe(true);
    type Results = { status: string; epochs: { trainLoss: number; valAcc: number }[]; test: { testAcc: number; confusion: number[][] } };
    const [ra, rb] = ['whole', 'resumed'].map((n) => JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')) as Results);
    expect(rb.status).toBe('done');
    expect(rb.epochs.map((e) => [e.trainLoss, e.valAcc])).toEqual(ra.epochs.map((e) => [e.trainLoss, e.valAcc]));
    expect(rb.test).toEqual(ra.test);
    // A finished run leaves nothing beside --out.
    expect(existsSync(join(dir, 'resumed.json.resume'))).toBe(false);
  });
});

describe('npm run study: Ctrl-C in a cell', () => {
  it('a study stopped inside its second cell continues that cell from its checkpoint and ends with the table of an uninterrupted one', async () => {
    const base = ['--model', model, '--tasks', 'synth_count', '--methods', 'linear,vpt_deep', '--sizes', '96', '--epochs', '4'].concat([
      '--test-size',
      '16',
      '--batch',
      '8',
      '--frechet',
      '0',
    ]);
    const out = (name: string) => ['--out', join(dir, `${name}.json`)];

    const whole = await runCli('study', [...base, ...out('study-whole')]);
    expect(whole.code, whole.stderr.slice(-2000)).toBe(0);

    // Stopped once the second cell's first checkpoint is on disk.
    const checkpoints = join(dir, 'study-resumed.json.resume', 'checkpoints');
    const stopped = await interrupted(
      'study',
      [...base, ...out('study-resumed')],
      () => existsSync(checkpoints) && readdirSync(checkpoints).some((f) => f.includes('vpt_deep')),
    );
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
    expect(stopped.stderr).toMatch(/^interrupted: 1 result\(s\) in .*study-resumed\.json; run the same command again to go on$/m);

    const again = await runCli('study', [...base, ...out('study-resumed')]);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(again.stderr).toMatch(/^\[2\/2\] synth_count vpt_deep n=96 seed 0: continuing from the checkpoint of epoch [1-3]$/m);
    expect(again.stdout).toBe(whole.stdout);

    const rows = (name: string) =>
      (JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as StudyFile).rows.map(({ seconds: _s, ...numbers }) => numbers);
    expect(rows('study-resumed')).toEqual(rows('study-whole'));
    expect(existsSync(join(dir, 'study-resumed.json.resume'))).toBe(false);
  });
});

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeTempDir, writeVtabFixture, zipFolder } from './fixtures.node.js';

const run = promisify(execFile);
const repo = join(__dirname, '..', '..');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/data.ts', ...args], { cwd: repo });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('npm run data -- check', () => {
  it('passes a good folder and its zip, printing per-split and per-class counts', async () => {
    const root = makeTempDir();
    const taskDir = writeVtabFixture(root);
    const good = await cli('check', root, '--task', 'eurosat');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/train800\.txt\s+10 images; 10\/10 classes present/);
    expect(good.stdout).toMatch(/test\.txt\s+6 images/);
    expect(good.stdout).toContain('Decoded 20 distinct images: all valid.');
    const zipPath = join(root, 'eurosat.zip');
    writeFileSync(zipPath, await zipFolder(taskDir));
    const zipped = await cli('check', zipPath, '--task', 'eurosat');
    expect(zipped.code).toBe(0);
    expect(zipped.stdout).toContain('zip "eurosat.zip"');
  });

  it('fails a broken folder with the file and line, and --skip-bad lists what it left out', async () => {
    const root = makeTempDir();
    writeVtabFixture(root, { breakage: 'truncated-image' });
    const bad = await cli('check', root, '--task', 'eurosat');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('data/bad-image');
    expect(bad.stderr).toContain('eurosat/train800.txt" line 5');
    const skipped = await cli('check', root, '--task', 'eurosat', '--skip-bad');
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain('Skipped 1');
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run data -- check');
    const unknown = await cli('check', root, '--task', 'nope');
    expect(unknown.code).toBe(2); // a usage error: the option's value is not a task
    expect(unknown.stderr).toContain('Unknown task "nope"');
  });
});

/**
 * Every command stops every process it starts, on success and on error: children started through
 * runChild (and everything they start) are gone when the command ends, however it ends; and
 * `npm run bench --hosts chromium` (browser, preview server) leaves nothing behind either way.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { markedProcesses } from '../../test/support/marked';

const repo = path.join(__dirname, '..', '..');

const marked = markedProcesses;

async function settle(marker: string): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const left = marked(marker);
    if (!left.length) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
  return marked(marker);
}

function run(args: string[], env: Record<string, string>, onSpawn?: (pid: number) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(
      process.execPath,
      ['--import', 'tsx', ...args],
      { cwd: repo, env: { ...process.env, ...env }, timeout: 300_000 },
      (err, _stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
      },
    );
    if (p.pid) onSpawn?.(p.pid);
  });
}

/** A command that starts `sh` with a grandchild through runChild, then ends the way it is told. */
function fixture(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-proc-'));
  const file = path.join(dir, 'cmd.ts');
  writeFileSync(
    file,
    `import { runChild } from ${JSON.stringify(path.join(repo, 'src/cli/processes.ts'))};
const how = process.argv[2];
void runChild('sh', ['-c', 'sleep 300 & sleep 300']);
setTimeout(() => {
  if (how === 'throw') throw new Error('failed on purpose');
  if (how === 'exit') process.exit(0);
}, 500);
setTimeout(() => {}, 60_000);
`,
  );
  return file;
}

describe('child processes of a command', () => {
  for (const how of ['exit', 'throw'] as const) {
    it(`are stopped, grandchildren included, when the command ends by ${how === 'exit' ? 'exiting' : 'an uncaught error'}`, async () => {
      const marker = `${how}-${process.pid}-${Date.now()}`;
      const r = await run([fixture(), how], { LAB_TEST_MARK: marker });
      expect(r.code).toBe(how === 'exit' ? 0 : 1);
      expect(await settle(marker)).toEqual([]);
    });
  }

  it('are stopped when the command is sent SIGTERM', async () => {
    const marker = `term-${process.pid}-${Date.now()}`;
    const p = spawn(process.execPath, ['--import', 'tsx', fixture(), 'wait'], { cwd: repo, env: { ...process.env, LAB_TEST_MARK: marker }, stdio: 'ignore' });
    for (let i = 0; i < 100 && marked(marker).length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(marked(marker).length).toBeGreaterThanOrEqual(3); // node, sh, sleep, sleep
    const code = await new Promise<number | null>((resolve) => {
      p.once('exit', (c) => resolve(c));
      p.kill('SIGTERM');
    });
    expect(code).toBe(143);
    expect(await settle(marker)).toEqual([]);
  });
});

describe('npm run bench --hosts chromium', () => {
  const args = [
    'src/cli/bench.ts',
    '--hosts',
    'chromium',
    '--backends',
    'wasm',
    '--presets',
    'fixture_tiny',
    '--modes',
    'forward',
    '--runs',
    '1',
    '--batch',
    '1',
    '--kernels',
    'lab',
  ];

  it('leaves no server or browser running after a successful run', async () => {
    const marker = `bench-ok-${process.pid}-${Date.now()}`;
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'lab-bench-')), 'bench.json');
    const r = await run([...args, '--out', out], { LAB_TEST_MARK: marker });
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(readFileSync(out, 'utf8')).rows as { host: string; heapBytes?: number }[];
    expect(rows.some((row) => row.host === 'chromium' && (row.heapBytes ?? 0) > 0)).toBe(true);
    expect(await settle(marker)).toEqual([]);
  });

  it('leaves nothing running when the browser cannot start (after the server did)', async () => {
    const marker = `bench-err-${process.pid}-${Date.now()}`;
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'lab-bench-')), 'bench.json');
    const r = await run([...args, '--out', out], { LAB_TEST_MARK: marker, CHROMIUM_PATH: '/nonexistent/chromium' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error/);
    expect(await settle(marker)).toEqual([]);
  });
});

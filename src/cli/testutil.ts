/** Runs a CLI as a user would, and measures it: exit code, output, wall time, peak memory (tests only). */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { expect } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
  /** Peak resident memory of the CLI process in bytes (test/support/peak-rss.cjs). */
  peakBytes: number;
  /** CPU time of the CLI process (user + system, all its threads) in milliseconds. */
  cpuMs: number;
}

/** `node --import tsx src/cli/<name>.ts ...args`, killed after `timeoutMs`. */
export function runCli(name: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'cli-peak-'));
  const peakFile = join(dir, 'peak');
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--require', join(REPO, 'test/support/peak-rss.cjs'), '--import', 'tsx', `src/cli/${name}.ts`, ...args],
      { cwd: REPO, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 2 ** 20, env: { ...process.env, PEAK_RSS_FILE: peakFile, ...opts.env } },
      (err, stdout, stderr) => {
        let peakBytes = NaN,
          cpuMs = NaN;
        try {
          ({ peakBytes, cpuMs } = JSON.parse(readFileSync(peakFile, 'utf8')) as { peakBytes: number; cpuMs: number });
        } catch {
          /* killed before exit */
        }
        rmSync(dir, { recursive: true, force: true });
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - t0, peakBytes, cpuMs });
      },
    );
  });
}

/** The error line a CLI prints for bad input: `error [<code>]: ...` (the last such line). */
export function errorLine(run: CliRun): string {
  return (
    run.stderr
      .split('\n')
      .filter((l) => l.startsWith('error'))
      .pop() ?? ''
  );
}

export const MB = 1e6;

/**
 * Bounds for a CLI that reads data only, and for one that loads tfjs and a model: CPU time of the
 * CLI process (not wall time, which on a shared CI machine depends on the neighbours), a few times
 * what a guarded run needs, and its peak resident memory.
 */
export const DATA_BOUND = { cpuMs: 20_000, bytes: 400 * MB };
export const TRAIN_BOUND = { cpuMs: 40_000, bytes: 900 * MB };

/**
 * The outcome every bad input must have: exactly one line `error [<code>]: ...` (or `error: ...`
 * for usage errors) holding each fragment, exit 1 (2 for usage errors), no stack trace, no control
 * character anywhere in stderr (a name from a file must not reach the terminal raw), and the CLI's
 * CPU time and peak memory within `bound`. Returns the line.
 */
export function expectNamed(run: CliRun, code: string, bound: { cpuMs: number; bytes: number }, ...fragments: string[]): string {
  const usage = code.startsWith('usage/');
  const line = errorLine(run);
  expect(line, run.stderr.slice(-2000)).toContain(usage ? 'error: ' : code.endsWith('/') ? `[${code}` : `[${code}]`);
  for (const f of fragments) expect(line).toContain(f);
  expect(run.code, run.stderr.slice(-2000)).toBe(usage ? 2 : 1);
  expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  expect(run.stderr.split('\n').filter((l) => l.startsWith('error')).length).toBe(1);
  // eslint-disable-next-line no-control-regex -- the check is that none reach the terminal
  expect(run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  expect(line.length).toBeLessThan(2500);
  console.log(`${code}: ${(run.cpuMs / 1000).toFixed(1)} s CPU, ${(run.ms / 1000).toFixed(1)} s wall, peak ${(run.peakBytes / MB).toFixed(0)} MB`);
  expect(run.cpuMs).toBeLessThan(bound.cpuMs);
  expect(run.peakBytes).toBeLessThan(bound.bytes);
  return line;
}

/**
 * The CPU time and peak memory of a run whose outcome is not an error (an input that was
 * mishandled rather than wrong): within `bound`, as for a named error. Logged for the record.
 */
export function expectBounded(run: CliRun, what: string, bound: { cpuMs: number; bytes: number }): void {
  console.log(`${what}: ${(run.cpuMs / 1000).toFixed(1)} s CPU, ${(run.ms / 1000).toFixed(1)} s wall, peak ${(run.peakBytes / MB).toFixed(0)} MB`);
  expect(run.cpuMs).toBeLessThan(bound.cpuMs);
  expect(run.peakBytes).toBeLessThan(bound.bytes);
}

/** A named pipe at `path` (Node has no call for it; bash's mkfifo is on every machine the tests run on). */
export function makeFifo(path: string): void {
  execFileSync('bash', ['-c', 'mkfifo "$1"', 'mkfifo', path]);
}

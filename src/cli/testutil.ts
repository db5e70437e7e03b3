/** Runs a CLI as a user would, and measures it: exit code, output, wall time, peak memory (tests only). */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

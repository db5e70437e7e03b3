/**
 * Processes found by a marker in their environment: a test starts a command with
 * LAB_TEST_MARK=<marker>, every process it starts inherits it, so whatever is still running with
 * it afterwards was left behind (src/cli/processes.test.ts, e2e/sweep-shards.spec.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Pids of the processes (other than this one) whose environment carries LAB_TEST_MARK=<marker>. */
export function markedProcesses(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').includes(`LAB_TEST_MARK=${marker}`)) out.push(Number(d));
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

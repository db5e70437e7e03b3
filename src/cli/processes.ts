/**
 * Child processes that a CLI starts, stopped whatever way the CLI ends: success, an error, an
 * uncaught exception, Ctrl-C, SIGTERM or SIGHUP.
 *
 * Each child runs in its own process group (`detached`), so stopping it stops what it started in
 * turn: `npx tsx …` is npx, then node, then tsx's worker; killing only the first leaves the others
 * running (a `vite preview` server, say, holding its port after the CLI has gone).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
let installed = false;

/** Signal the child's whole process group (it may outlive the child that led it). */
function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    /* the group is empty: everything in it has exited */
  }
}

/** Stop every child still running (SIGTERM to each group; SIGKILL at process exit). */
export function stopChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const p of live) killGroup(p, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  // 'exit' handlers must be synchronous: SIGKILL cannot be ignored, so nothing outlives us.
  process.on('exit', () => stopChildren('SIGKILL'));
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      stopChildren('SIGTERM');
      process.exit(code);
    });
  }
}

/**
 * Start a child in its own process group and track it until it exits. Resolves with its exit
 * code; rejects only when it cannot be started.
 */
export function runChild(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<number> {
  install();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], ...opts, detached: true });
    live.add(p);
    p.once('error', (e) => {
      live.delete(p);
      reject(e);
    });
    p.once('exit', (code, signal) => {
      // The child is gone; anything it left in its group goes with it.
      killGroup(p, 'SIGKILL');
      live.delete(p);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

/** How many children are running (tests). */
export function liveChildren(): number {
  return live.size;
}

/**
 * What `train` and `study` share to run through the engine (src/engine/runner.node.ts): the folder
 * beside `--out` where unfinished runs keep their last epoch's checkpoint, the backend the command
 * started, Ctrl-C that stops a run after its current step, and a failed run's error reported as
 * every CLI reports errors.
 */
import { stat } from 'node:fs/promises';
import type { BackendChoice } from '../backend/select';
import { nodeWasmThreading } from '../backend/node';
import { LabError, clip, quoted } from '../domain/errors';
import type { RunInfo, RunSummary } from '../domain/run';
import type { EngineRunnerOptions } from '../engine/runner.node.js';
import { filePersistence } from '../engine/files.node.js';
import type { Persistence, StoredTrained } from '../engine/persistence';
import { startBackend, type CliBackend, type StartedBackend } from './backend';

/** The folder where the runs of a command writing `out` are kept until they finish. */
export function stateDirOf(out: string): string {
  return `${out}.resume`;
}

/**
 * Where a command's runs are stored: as files in the state folder, but for the trained
 * parameters, which go where `keepTrained` puts them (train's --save-params) or nowhere: the
 * folder is only for resuming, and a finished run leaves it.
 */
export function cliPersistence(state: string, keepTrained: (t: StoredTrained) => Promise<void> = async () => {}): Persistence {
  return { ...filePersistence(state), putTrained: keepTrained, getTrained: async () => undefined };
}

/** The state folder is a folder or absent: a file in its way is refused before any work. */
export async function checkStateDir(dir: string, option: string): Promise<void> {
  const s = await stat(dir).catch(() => null);
  if (s && !s.isDirectory())
    throw new LabError(
      'output/unwritable',
      `${option} needs the folder ${quoted(dir)} beside it to keep the checkpoint of an unfinished run, and a file is in its way.`,
      `Move that file, or give ${option} another path.`,
    );
}

/**
 * The command's backend, for the engine: `start` starts it (printing what it got, as every CLI
 * does) once the command's input is checked; the engine's runs then use it, and after a lost
 * device the engine asks again and it starts anew.
 */
export function engineBackend(
  name: CliBackend,
  o: { gpuMemoryBytes?: number; threads?: number },
): Pick<EngineRunnerOptions, 'initBackend' | 'resetBackend'> & { start(): Promise<StartedBackend> } {
  const choiceOf = (b: StartedBackend): BackendChoice => ({
    backend: b.name,
    adapter: b.label,
    reason: 'chosen on the command line (--backend)',
    noWebGPU: b.name !== 'webgpu',
    threads: nodeWasmThreading() ?? undefined,
  });
  let started: Promise<StartedBackend> | null = null;
  let current: Promise<BackendChoice> | null = null;
  return {
    start: () => {
      if (!started) {
        started = startBackend(name, o);
        current = started.then(choiceOf);
      }
      return started;
    },
    initBackend: () => (current ??= startBackend(name, o).then(choiceOf)),
    resetBackend: () => {
      current = null;
    },
  };
}

/** A failed run's error, to be thrown: the CLI prints it as any other (code, message, fix). */
export function runFailure(info: RunInfo): Error {
  const e = info.summary.error;
  if (!e) return new Error(`run ${info.runId} ended ${info.summary.status} without an error`);
  return e.code === 'internal' ? new Error(e.message) : new LabError(e.code, e.message);
}

/** How a signal ends a command: 128 + its number, as a shell reports it. */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface Interrupt {
  /** The signal that asked the run to stop, if one did. */
  readonly signal: NodeJS.Signals | null;
  /** The exit code for that signal (130 for Ctrl-C). */
  readonly exitCode: number;
  /** Stop listening (the command goes on without a run to stop). */
  dispose(): void;
}

/**
 * While runs train: the first Ctrl-C (SIGINT) or SIGTERM calls `stop` (the run ends after its
 * current step, its last epoch's checkpoint kept) and `say` what happens; a second one ends the
 * process at once. Files are written under a temporary name and then renamed, so even then the
 * checkpoint on disk is a whole one.
 */
export function stopOnSignal(stop: () => void, say: (signal: NodeJS.Signals) => void): Interrupt {
  let signal: NodeJS.Signals | null = null;
  const on = (s: NodeJS.Signals) => {
    if (signal) process.exit(SIGNAL_EXIT[s] ?? 1);
    signal = s;
    say(s);
    stop();
  };
  const signals = Object.keys(SIGNAL_EXIT) as NodeJS.Signals[];
  for (const s of signals) process.on(s, on);
  return {
    get signal() {
      return signal;
    },
    get exitCode() {
      return signal ? (SIGNAL_EXIT[signal] ?? 1) : 0;
    },
    dispose: () => {
      for (const s of signals) process.off(s, on);
    },
  };
}

/**
 * The options in which a stored run's config and this command's differ, each as
 * "name stored → given" (values escaped and cut: a path may hold anything).
 */
export function configChanges(stored: RunSummary['config'], given: RunSummary['config']): string[] {
  const a = stored as unknown as Record<string, unknown>,
    b = given as unknown as Record<string, unknown>;
  // Keys sorted at every level: a stored record went through JSON, the given config did not.
  const sorted = (_k: string, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x;
  const text = (v: unknown) => (v === undefined ? 'default' : clip(JSON.stringify(v, sorted), 80));
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => k !== 'runId' && text(a[k]) !== text(b[k]))
    .sort()
    .map((k) => `${k} ${text(a[k])} → ${text(b[k])}`);
}

/**
 * The engine in a Node process, as the CLIs use it: one run at a time, each awaited to its end,
 * stored in a folder (files.node.ts) so that a run stopped by Ctrl-C keeps its last epoch's
 * checkpoint and a later process continues it. The queue, the run records, cancel and restart are
 * the page's, through the same `Engine`; only the host differs (Node's loaders, files, and the
 * backend the command started).
 */
import { isTerminal, type RunConfig, type RunInfo } from '../domain/run';
import { nodeHost } from '../train/host.node.js';
import { Engine, type EngineHost, type SessionObserver } from './engine';
import type { Persistence } from './persistence';
import type { Command, EngineEvent } from './protocol';

export interface EngineRunnerOptions {
  persistence: Persistence;
  /** The backend the command runs on (it started it, and printed what it chose). */
  initBackend: EngineHost['initBackend'];
  /** Forget the backend after a lost device, so that `initBackend` starts it again. */
  resetBackend?: () => void;
  /** Every event the engine reports (progress, steps, notices, each change of a run's record). */
  onEvent?: (e: EngineEvent) => void;
  observe?: SessionObserver;
}

type RestartFiles = Pick<Extract<Command, { type: 'restart' }>, 'model' | 'data' | 'importParams'>;

export class EngineRunner {
  private readonly engine: Engine;
  /** Who waits for which event: each listener sees every event until it returns true. */
  private readonly listeners = new Set<(e: EngineEvent) => boolean>();
  private active: string | null = null;
  /** Each run's latest record, as the engine last reported it. */
  private readonly latest = new Map<string, RunInfo>();

  constructor(o: EngineRunnerOptions) {
    this.engine = new Engine({
      run: nodeHost,
      persistence: o.persistence,
      initBackend: o.initBackend,
      resetBackend: o.resetBackend ?? (() => {}),
      observe: o.observe,
      emit: (e) => {
        if (e.type === 'run') this.latest.set(e.run.runId, e.run);
        o.onEvent?.(e);
        for (const l of [...this.listeners]) if (l(e)) this.listeners.delete(l);
      },
    });
  }

  /** The runs stored in the folder, as the page sees them after a reload (a killed run comes back interrupted). */
  async restore(): Promise<RunInfo[]> {
    const restored = this.next((e): e is Extract<EngineEvent, { type: 'restored' }> => e.type === 'restored');
    this.engine.handle({ type: 'restore' });
    return (await restored).runs;
  }

  /** Runs `config` to its end; resolves with its last record (done, failed or cancelled). */
  run(config: RunConfig, groupLabel = config.runId): Promise<RunInfo> {
    return this.until(config.runId, () => this.engine.handle({ type: 'enqueue', groupLabel, runs: [config] }));
  }

  /**
   * Runs a stored run again, from its checkpoint when it has one (as the page's Resume), to its
   * end. `runId` must be one `restore` returned.
   */
  restart(runId: string, files: RestartFiles): Promise<RunInfo> {
    return this.until(runId, () => this.engine.handle({ type: 'restart', runId, ...files }));
  }

  /** Stops the running run after its current step; its last epoch's checkpoint stays stored. */
  cancel(): void {
    if (this.active) this.engine.handle({ type: 'cancel', runId: this.active });
  }

  /** Deletes a run and everything stored with it. */
  async forget(runId: string): Promise<void> {
    const deleted = this.next((e) => e.type === 'deleted' && e.runId === runId);
    this.engine.handle({ type: 'delete', runId });
    await deleted;
    await this.engine.settled();
  }

  /** Resolves once everything asked of storage so far is written. */
  settled(): Promise<void> {
    return this.engine.settled();
  }

  private async until(runId: string, start: () => void): Promise<RunInfo> {
    // A restarted run's first record is 'queued': an earlier terminal record is never taken for its end.
    let started = false;
    const end = this.next((e): e is Extract<EngineEvent, { type: 'run' }> => {
      if (e.type !== 'run' || e.run.runId !== runId) return false;
      if (!isTerminal(e.run.summary.status)) started = true;
      return started && isTerminal(e.run.summary.status);
    });
    this.active = runId;
    try {
      start();
      await end;
      // A checkpoint still being written when the run stopped is reported once it is stored.
      await this.engine.settled();
      return this.latest.get(runId)!;
    } finally {
      this.active = null;
    }
  }

  private next<T extends EngineEvent>(match: (e: EngineEvent) => e is T): Promise<T>;
  private next(match: (e: EngineEvent) => boolean): Promise<EngineEvent>;
  private next(match: (e: EngineEvent) => boolean): Promise<EngineEvent> {
    return new Promise((resolve) =>
      this.listeners.add((e) => {
        if (!match(e)) return false;
        resolve(e);
        return true;
      }),
    );
  }
}

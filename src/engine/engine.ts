/**
 * The engine: the one owner of a run's life. It keeps the queue and every run's record, runs one
 * job at a time on tfjs (training runs, and the checks and measurements the page asks for),
 * stores what must survive a reload through its `Persistence`, and reports every change as an
 * EngineEvent. Host-agnostic: the page's worker gives it IndexedDB and the browser's loaders,
 * Node gives it files (tests drive it there with a persistence in memory).
 */
import type { BackendChoice } from '../backend/select';
import { LabError, toErrorInfo } from '../domain/errors';
import {
  dataSourceText,
  modelSourceText,
  withStepPoint,
  type BackendName,
  type QueueState,
  type ResumeState,
  type RunConfig,
  type RunInfo,
  type RunStatus,
} from '../domain/run';
import { wasmHelpersReady } from '../kernels/wasm/fused';
import { RunControl } from '../train/control';
import type { TrainerEvent } from '../train/trainer';
import { METHODS } from '../train/methods';
import { isDeviceLost } from '../train/recovery';
import {
  disposeSession,
  exportTrained,
  resolveHyperDefaults,
  runSession,
  trainedFileName,
  type RunHost,
  type SessionResult,
  type SessionStarted,
} from '../train/session';
import { LossRiseWatch } from '../train/divergence';
import { runPaperSession, type PaperEvent, type PaperSessionResult } from '../train/paperSession';
import { probeSpeed } from '../train/probe';
import { releaseAbandonedTape } from '../model/recompute';
import type { PaperResult, PaperSpec, PaperStage } from '../domain/paper';
import type { Command, EngineEvent } from './protocol';
import { trainedInfo, type Persistence } from './persistence';
import { inspectPicked, runTask, type TaskCommand } from './tasks';

export interface EngineHost {
  /** How checkpoints and data sources are read on this host. */
  run: RunHost;
  persistence: Persistence;
  /** Initialise (or switch to) a backend; null = the host's own choice. */
  /** `wasmThreads`: WASM threads asked for (benchmarks); by default the host decides. */
  initBackend(override: BackendName | null, wasmThreads?: number): Promise<BackendChoice>;
  /** Forget the backend after its device was lost, so the next initialisation starts afresh. */
  resetBackend(): void;
  /** Tell the page; buffers in `transfer` move instead of being copied. */
  emit(e: EngineEvent, transfer?: Transferable[]): void;
  /** What this host reads of each run's session beside the events (the CLIs; the page needs none). */
  observe?: SessionObserver;
}

/**
 * A host's view into a run's session, for what the run record does not keep: the memory plan at
 * the start, where a protocol run ends, and the session's result before the engine frees its
 * tensors (the CLIs' results files report the data's real sizes and the resolved config).
 */
export interface SessionObserver {
  started?(runId: string, info: SessionStarted): void;
  paperEvent?(runId: string, e: PaperEvent): void;
  /** Called before the engine stores the trained parameters and frees the session. */
  finished?(runId: string, result: { protocol: 'quick'; session: SessionResult } | { protocol: 'paper'; session: PaperSessionResult }): void;
}

/** A run the engine knows: its record, and while it waits or runs, what it runs on. */
interface RunEntry {
  info: RunInfo;
  /** Model, data and imported parameters (Files are not plain data: they are not stored). */
  config?: RunConfig;
  resume?: ResumeState;
  control?: RunControl;
}

export class Engine {
  private readonly runs = new Map<string, RunEntry>();
  /** Run ids waiting for the engine, in order. */
  private waiting: string[] = [];
  private active: string | null = null;
  private queueState: QueueState = 'idle';
  /** Work that is not a run (backend switches, checks, measurements): it goes before waiting runs. */
  private readonly tasks: (() => Promise<void>)[] = [];
  private busy = false;
  private backend: { choice: BackendChoice; override: BackendName | null; wasmThreads?: number } | null = null;
  /** The storage operations asked so far, one after the other (see `storage`). */
  private storing: Promise<void> = Promise.resolve();
  private backendChain: Promise<unknown> = Promise.resolve();
  /** Probes asked and not finished, by request id: cancelling one before it starts skips it. */
  private readonly probes = new Map<string, RunControl>();

  constructor(private readonly host: EngineHost) {}

  /** One command from the page. Everything long runs later, one job at a time. */
  handle(c: Command): void {
    switch (c.type) {
      case 'init':
        return this.schedule(() =>
          this.ensureBackend(c.backend ?? null).then(
            () => undefined,
            (err) => this.emit({ type: 'error', error: toErrorInfo(err) }),
          ),
        );
      case 'restore':
        return void this.restore();
      case 'enqueue':
        // Runs go before a measurement of how long they will take.
        this.cancelProbes();
        return void this.enqueue(c.runs, c.groupLabel, c.groupId);
      case 'probe': {
        const control = new RunControl();
        this.probes.set(c.requestId, control);
        return this.schedule(() => this.probe(c, control));
      }
      case 'cancel-probe':
        return this.probes.get(c.requestId)?.cancel();
      case 'pause':
      case 'resume':
        return this.pauseOrResume(c.runId, c.type);
      case 'cancel':
        return this.cancel(c.runId);
      case 'cancel-queue':
        return this.cancelQueue();
      case 'restart':
        return void this.restart(c);
      case 'delete':
        return void this.deleteRun(c.runId);
      case 'export-trained':
        return void this.exportTrained(c.requestId, c.runId);
      case 'inspect':
        // Not queued behind a run: a picked file is checked while the user is still choosing.
        return void inspectPicked(c, this.host.run).then(
          (r) => this.emit({ type: 'inspect-result', requestId: c.requestId, ...r }),
          (err) => this.emit({ type: 'error', requestId: c.requestId, error: toErrorInfo(err) }),
        );
      default:
        // What the cases above leave is a task (tasks.ts): the compiler checks that they agree.
        return this.schedule(() => this.task(c));
    }
  }

  /**
   * Initialise (or switch) the backend. Calls are chained, so two requests never initialise
   * concurrently; the same override (and WASM thread count, asked by benchmarks) twice is a no-op.
   */
  ensureBackend(override: BackendName | null, wasmThreads?: number): Promise<BackendChoice> {
    const next = this.backendChain.then(async () => {
      if (this.backend && this.backend.override === override && this.backend.wasmThreads === wasmThreads) return this.backend.choice;
      const choice = await this.host.initBackend(override, wasmThreads);
      await wasmHelpersReady(); // threaded WASM: the SIMD loops' helper threads, started while this worker can yield
      this.backend = { choice, override, wasmThreads };
      this.emit({ type: 'ready', choice });
      return choice;
    });
    this.backendChain = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every storage operation asked so far has finished. */
  settled(): Promise<void> {
    return this.storing;
  }

  /**
   * Every storage operation goes through here, in the order asked: a later write of a record
   * never lands before an earlier one, and a read sees every write asked before it.
   */
  private storage<T>(op: (p: Persistence) => Promise<T>): Promise<T> {
    const next = this.storing.then(() => op(this.host.persistence));
    this.storing = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private emit(e: EngineEvent, transfer?: Transferable[]): void {
    this.host.emit(e, transfer);
  }

  // ---- the queue ----

  private schedule(task: () => Promise<void>): void {
    this.tasks.push(task);
    void this.pump();
  }

  /** Runs jobs one at a time: tasks first (they are short), then the next waiting run. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const task = this.tasks.shift();
        if (task) {
          await task();
          continue;
        }
        const next = this.waiting.shift();
        if (next === undefined) break;
        this.active = next;
        this.setQueue('running');
        const status = await this.execute(next);
        this.active = null;
        if (!this.waiting.length) this.setQueue(status === 'cancelled' ? 'cancelled' : 'done');
      }
    } finally {
      this.busy = false;
    }
  }

  private setQueue(state: QueueState = this.queueState): void {
    this.queueState = state;
    this.emit({ type: 'queue', waiting: [...this.waiting], active: this.active, state });
  }

  private async enqueue(configs: RunConfig[], groupLabel: string, group?: string): Promise<void> {
    const groupId = group ?? newId('group');
    const now = Date.now();
    configs.forEach((asked, i) => {
      // The record names the learning rate the run trains at, the model's measured default included.
      const config = resolveHyperDefaults(asked);
      const { model, data, importParams, ...rest } = config;
      const info: RunInfo = {
        runId: config.runId,
        // startedAt + i keeps the queue's order when runs are sorted by start time.
        summary: {
          config: { ...rest, modelSource: modelSourceText(model), dataSource: dataSourceText(data) },
          backend: '',
          trainableParams: 0,
          totalParams: 0,
          epochs: [],
          status: 'queued',
          startedAt: now + i,
          notices: [],
        },
        groupId,
        groupLabel,
        methodLabel: METHODS[config.method].label,
        importedFrom: importParams?.name,
        hasCheckpoint: false,
      };
      this.runs.set(config.runId, { info, config });
      this.waiting.push(config.runId);
      this.changed(info);
    });
    this.setQueue('running');
    void this.pump();
  }

  private async restart(c: Extract<Command, { type: 'restart' }>): Promise<void> {
    const entry = this.runs.get(c.runId);
    if (!entry || entry.info.runId === this.active || this.waiting.includes(c.runId)) return;
    let resume: ResumeState | undefined;
    try {
      resume = entry.info.hasCheckpoint ? await this.storage((p) => p.getCheckpoint(c.runId)) : undefined;
    } catch {
      resume = undefined; // no checkpoint to read: the run starts again from its beginning
    }
    const { modelSource: _model, dataSource: _data, ...rest } = entry.info.summary.config;
    entry.config = { ...rest, model: c.model, data: c.data, importParams: c.importParams };
    entry.resume = resume;
    entry.info = {
      ...entry.info,
      summary: { ...entry.info.summary, status: 'queued', epochs: resume ? [...resume.epochs] : [], test: undefined, error: undefined, finishedAt: undefined },
    };
    this.changed(entry.info);
    this.waiting.push(c.runId);
    this.setQueue('running');
    void this.pump();
  }

  private pauseOrResume(runId: string, what: 'pause' | 'resume'): void {
    const entry = this.runs.get(runId);
    if (!entry?.control || runId !== this.active) return;
    if (what === 'pause') entry.control.pause();
    else entry.control.resume();
    const status: RunStatus = what === 'pause' ? 'paused' : 'running';
    this.update(runId, (i) => ({ ...i, summary: { ...i.summary, status } }));
    this.setQueue(status);
  }

  private cancel(runId: string): void {
    if (runId === this.active) return this.runs.get(runId)?.control?.cancel();
    if (!this.waiting.includes(runId)) return;
    this.waiting = this.waiting.filter((id) => id !== runId);
    this.finish(runId, 'cancelled');
    this.setQueue();
  }

  private cancelQueue(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const id of waiting) this.finish(id, 'cancelled');
    if (this.active) this.runs.get(this.active)?.control?.cancel();
    else this.setQueue('cancelled');
  }

  // ---- one run ----

  /** Runs one queued run to its end; returns how it ended. */
  private async execute(runId: string, deviceLostRetries = 1): Promise<RunStatus> {
    const entry = this.runs.get(runId);
    if (!entry?.config) return 'cancelled';
    const { config } = entry;
    const control = (entry.control = new RunControl());
    try {
      await this.ensureBackend(config.backend ?? null);
      this.update(runId, (i) => ({ ...i, summary: { ...i.summary, status: 'running', error: undefined, finishedAt: undefined } }));
      const t0 = Date.now();
      if (config.protocol?.kind === 'paper') await this.runPaper(runId, config, config.protocol, control);
      else await this.runQuick(runId, entry, config, control);
      // What the run took, to hold the page's estimate against (a resumed run: since its resume).
      this.show(runId, (i) => ({ ...i, summary: { ...i.summary, seconds: (Date.now() - t0) / 1000 } }));
      this.finish(runId, 'done');
      return 'done';
    } catch (err) {
      if (err instanceof LabError && err.code === 'run/cancelled') {
        this.finish(runId, 'cancelled');
        return 'cancelled';
      }
      if (isDeviceLost(err) && deviceLostRetries > 0) {
        // The GPU device is gone: start the backend afresh and continue from the last epoch.
        this.notice(
          runId,
          `The GPU device was lost (${(err as Error).message}). Re-initialised the backend and resumed from epoch ${entry.resume?.epochsDone ?? 0}.`,
        );
        this.backend = null;
        this.host.resetBackend();
        return this.execute(runId, deviceLostRetries - 1);
      }
      const error = toErrorInfo(err);
      this.emit({ type: 'error', runId, error });
      this.show(runId, (i) => ({ ...i, summary: { ...i.summary, error } })); // stored by the finish below
      this.finish(runId, 'failed');
      return 'failed';
    } finally {
      entry.control = undefined;
    }
  }

  /** The quick protocol: one session on train / val / test; its trained parameters are stored. */
  private async runQuick(runId: string, entry: RunEntry, config: RunConfig, control: RunControl): Promise<void> {
    // The loss-rise guard (train/divergence.ts): the first rise goes into the run's record once.
    const watch = new LossRiseWatch(config.lr);
    // The per-step loss up to the last finished epoch goes into the record, so a reload keeps the line.
    let steps = entry.resume ? (entry.info.stepCurve ?? []) : [];
    for (const m of entry.resume?.epochs ?? []) watch.epoch(m);
    const marked = (found: ReturnType<LossRiseWatch['epoch']>) => {
      if (found && !this.runs.get(runId)?.info.summary.lossRise) this.update(runId, (i) => ({ ...i, summary: { ...i.summary, lossRise: found } }));
    };
    const result = await runSession(
      config,
      this.host.run,
      control,
      {
        onProgress: (progress) => this.emit({ type: 'progress', runId, progress }),
        onStarted: (s) => {
          this.host.observe?.started?.(runId, s);
          this.update(runId, (i) => ({
            ...i,
            stepsPerEpoch: s.stepsPerEpoch,
            numClasses: s.numClasses,
            summary: { ...i.summary, backend: s.backend, trainableParams: s.trainableParams, totalParams: s.totalParams },
          }));
        },
        onEvent: (e) => {
          switch (e.type) {
            case 'step':
              marked(watch.step(e.loss, e));
              steps = withStepPoint(steps, { x: e.epoch - 1 + e.step / Math.max(1, e.stepsPerEpoch), loss: e.loss });
              return this.emit(stepEvent(runId, e));
            case 'epoch':
              marked(watch.epoch(e.metrics));
              // A resumed run may report an epoch again: the newer one replaces it.
              return this.update(runId, (i) => ({
                ...i,
                stepCurve: steps,
                summary: {
                  ...i.summary,
                  epochs: [...i.summary.epochs.filter((m) => !(m.epoch === e.metrics.epoch && m.phase === e.metrics.phase)), e.metrics],
                },
              }));
            case 'gradcam':
              this.emit({ type: 'gradcam', runId, epoch: e.epoch, samples: e.samples });
              return void this.storage((p) => p.putGradCam({ runId, epoch: e.epoch, samples: e.samples })).catch(() => undefined);
            case 'checkpoint':
              entry.resume = e.state;
              return void this.storeCheckpoint(runId, e.state);
            case 'notice':
              return this.notice(runId, e.message);
          }
        },
      },
      entry.resume,
    );
    try {
      this.host.observe?.finished?.(runId, { protocol: 'quick', session: result });
      this.update(runId, (i) => ({ ...i, summary: { ...i.summary, test: result.summary.test } }));
      for (const n of result.summary.notices.filter((n) => n.includes('skipped'))) this.notice(runId, n);
      await this.storeTrained(runId, await exportTrained(result, config), trainedFileName(config), result.outcome.trainable);
    } finally {
      disposeSession(result);
    }
  }

  /**
   * The paper protocol: search, choice, one final run per seed (paperSession). The record shows
   * the protocol run in progress (its stage and epochs) and ends with the whole outcome. Its
   * runs are not resumable one by one: an interrupted protocol starts again.
   */
  private async runPaper(runId: string, config: RunConfig, spec: PaperSpec, control: RunControl): Promise<void> {
    const result = await runPaperSession(
      config,
      { grid: spec.grid, seeds: spec.seeds, earlyStop: spec.earlyStop, analysisImages: spec.analysisImages },
      this.host.run,
      control,
      {
        onProgress: (progress) => this.emit({ type: 'progress', runId, progress }),
        onPaperEvent: (e) => {
          this.host.observe?.paperEvent?.(runId, e);
          if (e.type !== 'run-start') return;
          const stage: PaperStage = { stage: e.stage, index: e.index, of: e.of, lr: e.lr, wd: e.wd, seed: e.seed };
          this.show(runId, (i) => ({ ...i, summary: { ...i.summary, stage, epochs: [] } }));
        },
        onEvent: (e) => {
          switch (e.type) {
            case 'step':
              return this.emit(stepEvent(runId, e));
            case 'epoch':
              return this.show(runId, (i) => ({ ...i, summary: { ...i.summary, epochs: [...i.summary.epochs, e.metrics] } }));
            case 'notice':
              return this.notice(runId, e.message);
            default:
              return;
          }
        },
      },
    );
    this.host.observe?.finished?.(runId, { protocol: 'paper', session: result });
    const paper: PaperResult = { ...result.paper, why: result.why };
    this.update(runId, (i) => ({
      ...i,
      numClasses: result.numClasses,
      summary: {
        ...i.summary,
        config: { ...i.summary.config, lr: result.config.lr, weightDecay: result.config.weightDecay, promptLength: result.config.promptLength },
        backend: result.backend,
        trainableParams: result.trainableParams,
        totalParams: result.totalParams,
        // The first seed's final run, as it measured its epochs (its curve is also in `paper`).
        epochs: result.firstEpochs,
        test: result.firstTest,
        stage: undefined,
        paper,
        notices: [...i.summary.notices, ...result.paper.notices],
      },
    }));
    if (result.gradcam.length) {
      const epoch = config.epochs;
      this.emit({ type: 'gradcam', runId, epoch, samples: result.gradcam });
      void this.storage((p) => p.putGradCam({ runId, epoch, samples: result.gradcam })).catch(() => undefined);
    }
  }

  /** A run's end: its status and time; a finished run needs no checkpoint any more. */
  private finish(runId: string, status: RunStatus): void {
    const entry = this.runs.get(runId);
    if (!entry) return;
    entry.config = status === 'done' ? undefined : entry.config;
    entry.resume = undefined;
    const done = status === 'done' && entry.info.hasCheckpoint;
    this.update(runId, (i) => ({ ...i, hasCheckpoint: done ? false : i.hasCheckpoint, summary: { ...i.summary, status, finishedAt: Date.now() } }));
    if (done) this.storage((p) => p.deleteCheckpoint(runId)).catch(() => undefined);
  }

  private notice(runId: string | undefined, message: string): void {
    this.emit({ type: 'notice', runId, message });
    if (runId) this.update(runId, (i) => ({ ...i, summary: { ...i.summary, notices: [...i.summary.notices, message] } }));
  }

  /** Change a run's record, tell the page, and store it. */
  private update(runId: string, f: (i: RunInfo) => RunInfo): void {
    const info = this.show(runId, f);
    if (info) this.storeRun(info);
  }

  /**
   * Change a run's record and tell the page, without storing: what changes with every step of a
   * protocol, or is known from storage itself (a checkpoint, trained parameters, is there).
   */
  private show(runId: string, f: (i: RunInfo) => RunInfo): RunInfo | undefined {
    const entry = this.runs.get(runId);
    if (!entry) return undefined;
    entry.info = f(entry.info);
    this.emit({ type: 'run', run: entry.info });
    return entry.info;
  }

  private changed(info: RunInfo): void {
    this.emit({ type: 'run', run: info });
    this.storeRun(info);
  }

  private storeRun(info: RunInfo): void {
    const { hasCheckpoint: _checkpoint, trained: _trained, ...stored } = info;
    this.storage((p) => p.putRun(stored)).catch((e: Error) =>
      this.emit({
        type: 'notice',
        runId: info.runId,
        message: `Could not store the run in ${this.host.persistence.where}: ${e.message}. Export it as JSON to keep it.`,
      }),
    );
  }

  private async storeCheckpoint(runId: string, state: ResumeState): Promise<void> {
    try {
      await this.storage((p) => p.putCheckpoint(runId, state));
      if (this.runs.get(runId)?.info.hasCheckpoint === false) this.show(runId, (i) => ({ ...i, hasCheckpoint: true }));
    } catch (e) {
      this.emit({ type: 'notice', runId, message: `Could not store the checkpoint for resuming: ${(e as Error).message}` });
    }
  }

  /** The trained parameters go straight to storage: the page only learns that they are there. */
  private async storeTrained(runId: string, bytes: Uint8Array, fileName: string, trainable: string[]): Promise<void> {
    const stored = { runId, blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), fileName, trainable };
    try {
      await this.storage((p) => p.putTrained(stored));
      // The run may have been deleted meanwhile: then its parameters go too.
      if (!this.runs.has(runId)) return void this.storage((p) => p.deleteRun(runId)).catch(() => undefined);
      this.show(runId, (i) => ({ ...i, trained: trainedInfo(stored) }));
    } catch (e) {
      this.emit({ type: 'notice', runId, message: `Could not store the trained parameters in ${this.host.persistence.where}: ${(e as Error).message}.` });
    }
  }

  // ---- stored runs ----

  /**
   * Reads stored runs. A run the reload stopped while it trained (running or paused) becomes
   * 'interrupted'; one that was still waiting stays 'queued' (it never started, and nothing of it
   * is lost). Neither runs by itself: their files are gone with the page, so the page offers to
   * resume them (`stopped`, in queue order).
   */
  private async restore(): Promise<void> {
    try {
      const { runs, checkpointIds, gradcams, trained } = await this.storage((p) => p.loadAll());
      const stopped: RunInfo[] = [];
      for (const s of runs) {
        if (this.runs.has(s.runId)) continue;
        const { status } = s.summary;
        const wasTraining = status === 'running' || status === 'paused';
        const info: RunInfo = {
          ...s,
          summary: wasTraining ? { ...s.summary, status: 'interrupted' } : s.summary,
          hasCheckpoint: checkpointIds.has(s.runId),
          trained: trained.get(s.runId),
        };
        this.runs.set(s.runId, { info });
        if (wasTraining) this.storage((p) => p.putRun({ ...s, summary: info.summary })).catch(() => undefined);
        if (wasTraining || status === 'queued') stopped.push(info);
      }
      stopped.sort((a, b) => a.summary.startedAt - b.summary.startedAt);
      this.emit({ type: 'restored', runs: runs.map((s) => this.runs.get(s.runId)!.info), gradcams, stopped: stopped.map((i) => i.runId) });
    } catch (e) {
      this.emit({ type: 'restored', runs: [], gradcams: [], stopped: [] });
      this.emit({ type: 'notice', message: `Stored runs could not be read from ${this.host.persistence.where}: ${(e as Error).message}` });
    }
  }

  private async deleteRun(runId: string): Promise<void> {
    if (runId === this.active) return;
    this.runs.delete(runId);
    if (this.waiting.includes(runId)) {
      this.waiting = this.waiting.filter((id) => id !== runId);
      this.setQueue();
    }
    this.emit({ type: 'deleted', runId });
    await this.storage((p) => p.deleteRun(runId)).catch((e: Error) => this.emit({ type: 'notice', message: `Could not delete the stored run: ${e.message}` }));
  }

  private async exportTrained(requestId: string, runId: string): Promise<void> {
    try {
      const t = await this.storage((p) => p.getTrained(runId));
      if (!t)
        throw new LabError(
          'storage/missing',
          `The trained parameters of this run are not stored in ${this.host.persistence.where} (runs finished before this version, or storage was cleared).`,
        );
      this.emit({ type: 'trained-file', requestId, runId, blob: t.blob, fileName: t.fileName });
    } catch (e) {
      const error = toErrorInfo(
        e instanceof LabError
          ? e
          : new LabError('storage/failed', `Could not read the trained parameters from ${this.host.persistence.where}: ${(e as Error).message}`),
      );
      this.emit({ type: 'error', runId, requestId, error });
    }
  }

  // ---- checks and measurements ----

  private cancelProbes(): void {
    for (const control of this.probes.values()) control.cancel();
  }

  /**
   * One probe of a run's configuration (train/probe.ts). Never beside or between runs: one asked
   * while runs wait is answered 'run/cancelled' without a step (the runs measure themselves).
   */
  private async probe(c: Extract<Command, { type: 'probe' }>, control: RunControl): Promise<void> {
    try {
      if (control.cancelled || this.waiting.length) throw new LabError('run/cancelled', 'The probe was cancelled: runs are queued.');
      const choice = await this.ensureBackend(c.config.backend ?? null);
      const speed = await probeSpeed(c.config, this.host.run, control);
      this.emit({ type: 'probe-result', requestId: c.requestId, ...speed, threads: choice.threads?.threads });
    } catch (err) {
      releaseAbandonedTape(); // what a cancelled or failed step saved
      this.emit({ type: 'error', requestId: c.requestId, error: toErrorInfo(err) });
    } finally {
      this.probes.delete(c.requestId);
    }
  }

  private async task(c: TaskCommand): Promise<void> {
    try {
      await runTask(c, { ensureBackend: (b, t) => this.ensureBackend(b, t), run: this.host.run, emit: (e) => this.emit(e) });
    } catch (err) {
      this.emit({ type: 'error', requestId: c.requestId, error: toErrorInfo(err) });
    }
  }
}

function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** A trainer's step as the engine reports it, quick or paper protocol alike (the trainer's event carries no run id). */
function stepEvent(runId: string, e: Extract<TrainerEvent, { type: 'step' }>): Extract<EngineEvent, { type: 'step' }> {
  const { epoch, phase, step, stepsPerEpoch, loss, imagesPerSec } = e;
  return { type: 'step', runId, epoch, phase, step, stepsPerEpoch, loss, imagesPerSec };
}

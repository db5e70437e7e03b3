/**
 * The engine worker: owns tfjs. Runs one training run at a time from a FIFO queue, answers
 * verify and Fréchet requests, and reports everything as EngineEvents (protocol.ts).
 * The page never blocks on any of it.
 */
import * as tf from '@tensorflow/tfjs';
import { initBrowserBackend } from '../backend/init';
import type { BackendChoice } from '../backend/select';
import type { BackendName, ResumeState, RunConfig } from '../domain/run';
import { LabError, toErrorInfo } from '../domain/errors';
import { browserDecoder } from '../data/decode.browser';
import { FileListSource, DirectoryHandleSource, UrlSource } from '../data/source';
import { ZipSource } from '../data/zip';
import { splitGaussian } from '../analysis/features';
import { frechetDistance } from '../analysis/frechet';
import { trainDataFromSplits } from '../train/fromSplits';
import { disposeSession, exportTrained, loadModel, openSplits, runSession, trainedFileName, type RunHost } from '../train/session';
import { RunControl } from '../train/control';
import { isDeviceLost } from '../train/recovery';
import { formatReport, verifyGolden } from '../verify/golden';
import { parseSafetensors } from '../weights/formats/safetensors';
import { readAll } from '../weights/formats/archive';
import { loadCheckpoint } from '../weights/load';
import { HUB_CHECKPOINTS, dropOtherCaches, fetchCheckpoint, readFileSource } from '../weights/sources';
import { disposeParams } from '../model/params';
import { bundledModelUrl } from '../pwa/site';
import { pretrainingSplits } from '../data/pretraining';
import type { Command, EngineEvent } from './protocol';
import { runBenchCase, type BenchRow } from '../bench/bench';
import { PRESETS } from '../model/config';
import { formatKernelCheck, runKernelCheck } from '../kernels/webgpu/check';

const post = (e: EngineEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(e, transfer);

const host: RunHost = {
  decoder: browserDecoder,
  async loadCheckpoint(spec, onProgress) {
    switch (spec.kind) {
      case 'hub': {
        const hub = HUB_CHECKPOINTS.find((h) => h.id === spec.id);
        if (!hub) throw new LabError('config/invalid', `Unknown hub checkpoint '${spec.id}'.`);
        return loadCheckpoint(await fetchCheckpoint(hub.url, { onProgress }), { name: hub.url, layout: hub.layout });
      }
      case 'bundled': {
        const url = bundledModelUrl(spec.id);
        const cacheName = `vit-bundled-${__BUNDLED_MODEL_HASH__}`;
        await dropOtherCaches('vit-bundled-', cacheName);
        return loadCheckpoint(await fetchCheckpoint(url, { onProgress, cacheName }), { name: `${spec.id}.safetensors` });
      }
      case 'file':
        return loadCheckpoint(await readFileSource(spec.file, onProgress), { name: spec.name });
      default:
        throw new LabError('config/invalid', `Model source '${spec.kind}' is not available in the browser.`);
    }
  },
  async openSource(spec) {
    switch (spec.kind) {
      case 'files':
        return new FileListSource(spec.files.map((f) => ({ path: f.path, file: f.file as File })));
      case 'directory':
        return new DirectoryHandleSource(spec.handle as FileSystemDirectoryHandle);
      case 'zip':
        return ZipSource.open(spec.file, spec.name);
      case 'url':
        return new UrlSource(spec.base);
      default:
        throw new LabError('config/invalid', `Data source '${spec.kind}' is not available in the browser.`);
    }
  },
};

let backendChoice: BackendChoice | null = null;
let backendOverride: BackendName | undefined;
let backendChain: Promise<unknown> = Promise.resolve();

/**
 * Initialise (or switch) the backend. Calls are chained, so two requests never initialise
 * concurrently; the same override twice is a no-op.
 */
function ensureBackend(override?: BackendName): Promise<BackendChoice> {
  const next = backendChain.then(async () => {
    if (backendChoice && override === backendOverride) return backendChoice;
    backendOverride = override;
    backendChoice = await initBrowserBackend(override ?? null);
    post({ type: 'ready', choice: backendChoice });
    return backendChoice;
  });
  backendChain = next.catch(() => undefined);
  return next;
}

/**
 * One queue for everything that uses tfjs (runs, checks, Fréchet distances): jobs run one at a
 * time, so a check on another backend never switches it under a running training.
 */
type Job = { kind: 'run'; run: QueuedRun } | { kind: 'task'; fn: () => Promise<void> };

interface QueuedRun {
  config: RunConfig;
  resume?: ResumeState;
  control: RunControl;
}

const queue: Job[] = [];
const controls = new Map<string, RunControl>();
let running = false;

async function pump(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (queue.length) {
      const job = queue.shift()!;
      if (job.kind === 'run') await executeRun(job.run);
      else await job.fn();
    }
  } finally {
    running = false;
  }
}

async function executeRun(job: QueuedRun, deviceLostRetries = 1): Promise<void> {
  const { config, control } = job;
  const runId = config.runId;
  if (control.cancelled) {
    post({ type: 'state', runId, status: 'cancelled' });
    return;
  }
  let lastCheckpoint: ResumeState | undefined = job.resume;
  try {
    await ensureBackend(config.backend);
    post({ type: 'state', runId, status: 'running' });
    const result = await runSession(
      config,
      host,
      control,
      {
        onProgress: (progress) => post({ type: 'progress', runId, progress }),
        onStarted: (s) => post({ type: 'run-started', runId, ...s }),
        onEvent: (e) => {
          switch (e.type) {
            case 'step':
              post({ type: 'step', runId, epoch: e.epoch, phase: e.phase, step: e.step, stepsPerEpoch: e.stepsPerEpoch, loss: e.loss, imagesPerSec: e.imagesPerSec });
              break;
            case 'epoch':
              post({ type: 'epoch', runId, metrics: e.metrics });
              break;
            case 'gradcam':
              post({ type: 'gradcam', runId, epoch: e.epoch, samples: e.samples });
              break;
            case 'checkpoint':
              lastCheckpoint = e.state;
              post({ type: 'checkpoint', runId, state: e.state });
              break;
            case 'notice':
              post({ type: 'notice', runId, message: e.message });
              break;
          }
        },
      },
      job.resume,
    );
    post({ type: 'test', runId, result: result.summary.test! });
    const trained = await exportTrained(result, config);
    const buffer = trained.buffer.slice(trained.byteOffset, trained.byteOffset + trained.byteLength) as ArrayBuffer;
    post({ type: 'trained', runId, bytes: buffer, fileName: trainedFileName(config), trainable: result.outcome.trainable }, [buffer]);
    for (const n of result.summary.notices.filter((n) => n.includes('skipped'))) post({ type: 'notice', runId, message: n });
    disposeSession(result);
    post({ type: 'state', runId, status: 'done' });
  } catch (err) {
    if (err instanceof LabError && err.code === 'run/cancelled') {
      post({ type: 'state', runId, status: 'cancelled' });
      return;
    }
    if (isDeviceLost(err) && deviceLostRetries > 0) {
      // The GPU device is gone: start the backend afresh and continue from the last epoch.
      post({ type: 'notice', runId, message: `The GPU device was lost (${(err as Error).message}). Re-initialised the backend and resumed from epoch ${lastCheckpoint?.epochsDone ?? 0}.` });
      backendChoice = null;
      try {
        tf.engine().reset();
      } catch {
        /* best effort */
      }
      await executeRun({ ...job, resume: lastCheckpoint }, deviceLostRetries - 1);
      return;
    }
    post({ type: 'error', runId, error: toErrorInfo(err) });
    post({ type: 'state', runId, status: 'failed' });
  } finally {
    controls.delete(runId);
  }
}

async function handleVerify(c: Extract<Command, { type: 'verify' }>): Promise<void> {
  try {
    await ensureBackend(c.backend);
    const ckpt = await loadCheckpoint(new Uint8Array(await c.weights.arrayBuffer()), { name: c.weightsName });
    const golden = readAll(parseSafetensors(new Uint8Array(await c.golden.arrayBuffer()), 'golden'));
    const report = await verifyGolden(ckpt, golden);
    post({ type: 'verify-result', requestId: c.requestId, report, lines: formatReport(report) });
  } catch (err) {
    post({ type: 'error', requestId: c.requestId, error: toErrorInfo(err) });
  }
}

async function handleBench(c: Extract<Command, { type: 'bench' }>): Promise<void> {
  try {
    const choice = await ensureBackend(c.backend);
    const rows: BenchRow[] = [];
    for (const bc of c.cases) {
      const preset = PRESETS[bc.preset as keyof typeof PRESETS];
      if (!preset) throw new LabError('config/invalid', `Unknown preset '${bc.preset}'.`);
      const cfg = bc.imageSize ? { ...preset, imageSize: bc.imageSize } : preset;
      rows.push(await runBenchCase({ preset: bc.preset, cfg, mode: bc.mode, batch: bc.batch, promptLength: bc.promptLength, recompute: bc.recompute }, { host: 'chromium', warmup: c.warmup, runs: c.runs, kernels: c.kernels }));
    }
    post({ type: 'bench-result', requestId: c.requestId, rows, adapter: choice.adapter });
  } catch (err) {
    post({ type: 'error', requestId: c.requestId, error: toErrorInfo(err) });
  }
}

/** 'kernel-check': the lab's WebGPU kernels against stock tfjs (src/kernels/webgpu/check.ts). */
async function handleKernelCheck(c: Extract<Command, { type: 'kernel-check' }>): Promise<void> {
  try {
    const choice = await ensureBackend(c.backend ?? 'webgpu');
    const rows = await runKernelCheck({ full: c.full, timing: c.timing, reps: c.reps, only: c.only });
    post({ type: 'kernel-check-result', requestId: c.requestId, rows, lines: formatKernelCheck(rows), pass: rows.length > 0 && rows.every((r) => r.ok), adapter: choice.adapter });
  } catch (err) {
    post({ type: 'error', requestId: c.requestId, error: toErrorInfo(err) });
  }
}

async function handleFrechet(c: Extract<Command, { type: 'frechet' }>): Promise<void> {
  try {
    await ensureBackend();
    const model = await loadModel(c.model, c.imageSize || undefined, host, () => {});
    try {
      const norm = { mean: model.cfg.mean, std: model.cfg.std };
      const adapt = (s: Awaited<ReturnType<typeof openSplits>>) => trainDataFromSplits(s, { imageSize: model.cfg.imageSize, normalization: norm });
      let refSplits;
      let refName: string;
      if ('kind' in c.reference && c.reference.kind === 'pretraining') {
        refSplits = pretrainingSplits({ count: c.count, seed: c.seed });
        refName = 'the bundled model\'s pretraining data';
      } else {
        refSplits = await openSplits({ taskId: c.taskIds[0], data: c.reference as never, trainSize: 800, valSize: 200, testSize: c.count, seed: c.seed }, host);
        refName = 'your reference set';
      }
      const ref = await splitGaussian(model, adapt(refSplits).test, c.count);
      const distances: { taskId: string; distance: number }[] = [];
      for (const taskId of c.taskIds) {
        const splits = await openSplits({ taskId, data: c.data, trainSize: 800, valSize: 200, testSize: c.count, seed: c.seed }, host);
        const g = await splitGaussian(model, adapt(splits).test, c.count);
        distances.push({ taskId, distance: frechetDistance(ref, g) });
      }
      post({ type: 'frechet-result', requestId: c.requestId, distances, reference: refName });
    } finally {
      disposeParams(model.params);
    }
  } catch (err) {
    post({ type: 'error', requestId: c.requestId, error: toErrorInfo(err) });
  }
}

self.onmessage = (ev: MessageEvent<Command>) => {
  const c = ev.data;
  switch (c.type) {
    case 'init':
      // Queued like any job: a backend switch waits for the running job to finish.
      queue.push({ kind: 'task', fn: () => ensureBackend(c.backend).then(() => undefined, (err) => post({ type: 'error', error: toErrorInfo(err) })) });
      void pump();
      break;
    case 'start': {
      const control = new RunControl();
      controls.set(c.config.runId, control);
      queue.push({ kind: 'run', run: { config: c.config, resume: c.resumeFrom, control } });
      post({ type: 'state', runId: c.config.runId, status: 'queued' });
      void pump();
      break;
    }
    case 'pause':
      controls.get(c.runId)?.pause();
      post({ type: 'state', runId: c.runId, status: 'paused' });
      break;
    case 'resume':
      controls.get(c.runId)?.resume();
      post({ type: 'state', runId: c.runId, status: 'running' });
      break;
    case 'cancel': {
      const control = controls.get(c.runId);
      control?.cancel();
      const i = queue.findIndex((q) => q.kind === 'run' && q.run.config.runId === c.runId);
      if (i >= 0) {
        queue.splice(i, 1);
        post({ type: 'state', runId: c.runId, status: 'cancelled' });
      }
      break;
    }
    case 'verify':
      queue.push({ kind: 'task', fn: () => handleVerify(c) });
      void pump();
      break;
    case 'bench':
      queue.push({ kind: 'task', fn: () => handleBench(c) });
      void pump();
      break;
    case 'kernel-check':
      queue.push({ kind: 'task', fn: () => handleKernelCheck(c) });
      void pump();
      break;
    case 'frechet':
      queue.push({ kind: 'task', fn: () => handleFrechet(c) });
      void pump();
      break;
  }
};

self.addEventListener('unhandledrejection', (ev) => post({ type: 'error', error: toErrorInfo((ev as PromiseRejectionEvent).reason) }));

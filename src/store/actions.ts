/**
 * Every change to the store, as plain exported functions (no hooks): setup edits (mirrored to
 * the URL), the run queue, engine events, persistence and the paper views' requests.
 */
import type { BackendName, MethodId, DataSpec, ModelSpec, ResumeState, RunConfig, RunSummary } from '../domain/run';
import { PROCEDURAL_TASKS, getTask } from '../data/catalog';
import * as db from '../persist/db';
import { type ErrorInfo, LabError, toErrorInfo } from '../domain/errors';
import { METHODS } from '../train/methods';
import { onEngineEvent, send } from '../worker/client';
import type { EngineEvent } from '../worker/protocol';
import { blobs } from './blobs';
import { downloadBlob } from './export';
import {
  SWEEP_SIZES,
  defaultImageSize,
  effectivePromptLength,
  modelLabel,
  sanitize,
  setupFromUrl,
  setupToHash,
  valSizeOf,
  type Setup,
} from './setup';
import { useLab, type Alert, type LabState, type RunRecord } from './store';

const get = useLab.getState;
const set = useLab.setState;

// ---------------------------------------------------------------- setup and URL

/** Reads the setup from the page URL (call once at start-up). */
export function loadSetupFromLocation(): void {
  set({ setup: setupFromUrl(location.hash, location.search) });
  writeUrl();
}

function writeUrl(): void {
  const hash = '#' + setupToHash(get().setup);
  if (location.hash !== hash) history.replaceState(null, '', location.pathname + location.search + hash);
}

/** Changes setup fields; values are clamped to what the UI allows and mirrored to the URL. */
export function updateSetup(patch: Partial<Setup>): void {
  const prev = get().setup;
  let next = { ...prev, ...patch };
  // A new model brings its native resolution, unless the resolution was set in the same edit.
  if (patch.model && patch.model !== prev.model && patch.imageSize === undefined && patch.model !== 'file') next.imageSize = defaultImageSize(patch.model);
  // A new task brings its paper prompt length.
  if (patch.taskId && patch.taskId !== prev.taskId && patch.promptLength === undefined) next.promptLength = null;
  next = sanitize(next, { allowZeroEpochs: !!blobs.importParams });
  set({ setup: next });
  writeUrl();
}

export function toggleMethod(id: MethodId, on: boolean): void {
  const { methods } = get().setup;
  const next = on ? [...methods.filter((m) => m !== id), id] : methods.filter((m) => m !== id);
  if (next.length === 0) return; // at least one method stays selected
  const order = Object.keys(METHODS) as MethodId[];
  updateSetup({ methods: order.filter((m) => next.includes(m)) });
}

export function pickModelFile(file: File | null): void {
  blobs.modelFile = file;
  if (file) updateSetup({ model: 'file', modelFileName: file.name });
  else updateSetup({ modelFileName: '' });
}

/** A folder as files with relative paths (input webkitdirectory, or a drop). */
export function pickDataFiles(files: { path: string; file: Blob }[], name: string): void {
  blobs.dataFiles = files;
  blobs.dataDirectory = null;
  blobs.dataZip = null;
  set({ picked: { ...get().picked, data: { kind: 'files', name, count: files.length } } });
  updateSetup({ data: 'local' });
}

export function pickDataDirectory(handle: { name: string }): void {
  blobs.dataDirectory = handle;
  blobs.dataFiles = null;
  blobs.dataZip = null;
  set({ picked: { ...get().picked, data: { kind: 'directory', name: handle.name, count: 0 } } });
  updateSetup({ data: 'local' });
}

export function pickDataZip(file: File | null): void {
  blobs.dataZip = file;
  blobs.dataFiles = null;
  blobs.dataDirectory = null;
  set({ picked: { ...get().picked, data: file ? { kind: 'zip', name: file.name, count: 1 } : null } });
  updateSetup({ data: 'zip' });
}

/**
 * Trained parameters (a file exported by an earlier run) the next runs start from; null clears
 * them (epochs 0, "only evaluate", is then no longer allowed).
 */
export function pickImportParams(file: File | null): void {
  blobs.importParams = file;
  set({ picked: { ...get().picked, importParams: file ? { name: file.name, bytes: file.size } : null } });
  updateSetup({});
}

export function togglePresentation(on?: boolean): void {
  set({ presentation: on ?? !get().presentation });
}

// ---------------------------------------------------------------- alerts

let alertId = 0;

export function reportError(error: ErrorInfo, runId?: string): void {
  const errors = get().errors;
  // The same failure reported for every queued run shows once.
  if (errors.some((e) => e.code === error.code && e.message === error.message)) return;
  set({ errors: [...errors, { id: ++alertId, code: error.code, message: error.message, runId }] });
}

export function dismissError(id: number): void {
  set({ errors: get().errors.filter((e) => e.id !== id) });
}

function addNotice(message: string, runId?: string): void {
  const notices: Alert[] = [...get().notices, { id: ++alertId, code: 'notice', message, runId }];
  set({ notices: notices.slice(-20) });
}

export function dismissNotice(id: number): void {
  set({ notices: get().notices.filter((e) => e.id !== id) });
}

// ---------------------------------------------------------------- engine

let subscribed = false;

/** Creates the engine worker and asks it to choose a backend (the badge shows its answer). */
export function startEngine(): void {
  if (!subscribed) {
    onEngineEvent(handleEvent);
    subscribed = true;
  }
  const { engine, setup } = get();
  if (engine.state !== 'off') return;
  set({ engine: { ...engine, state: 'starting' } });
  send({ type: 'init', backend: setup.backend ?? undefined });
}

export function setBackendOverride(backend: BackendName | null): void {
  updateSetup({ backend });
  if (get().engine.state === 'off') return startEngine();
  set({ engine: { ...get().engine, state: 'starting' } });
  send({ type: 'init', backend: backend ?? undefined });
}

// ---------------------------------------------------------------- specs

function modelSpecOf(setup: Setup): ModelSpec {
  if (setup.model === 'file') {
    if (!blobs.modelFile) throw new LabError('config/invalid', 'No checkpoint file is loaded.', 'Choose a .safetensors or .npz file with "Local checkpoint file", or pick another model.');
    return { kind: 'file', file: blobs.modelFile, name: blobs.modelFile.name };
  }
  const [kind, ...rest] = setup.model.split(':');
  const id = rest.join(':');
  if (kind === 'hub') return { kind: 'hub', id };
  if (kind === 'random') return { kind: 'random', preset: id };
  return { kind: 'bundled', id };
}

function dataSpecOf(setup: Setup): DataSpec {
  const task = getTask(setup.taskId);
  if (task.source === 'procedural') return { kind: 'procedural' };
  if (setup.data === 'url') {
    if (!setup.dataUrl.trim()) throw new LabError('config/invalid', `No URL is given for ${task.name}.`, 'Type the base URL of a vtab-1k folder, or pick a local folder or zip.');
    return { kind: 'url', base: setup.dataUrl.trim() };
  }
  if (setup.data === 'zip') {
    if (!blobs.dataZip) throw new LabError('config/invalid', `No zip is picked for ${task.name}.`, 'Choose the vtab-1k zip, or pick a folder instead.');
    return { kind: 'zip', file: blobs.dataZip, name: blobs.dataZip.name };
  }
  if (blobs.dataFiles) return { kind: 'files', files: blobs.dataFiles };
  if (blobs.dataDirectory) return { kind: 'directory', handle: blobs.dataDirectory };
  throw new LabError('config/invalid', `${task.name} needs its images: no folder is picked.`, 'Pick or drop the vtab-1k folder (or its zip), or choose an "Offline (procedural)" task.');
}

function dataSourceText(setup: Setup, spec: DataSpec): string {
  switch (spec.kind) {
    case 'procedural':
      return 'procedural';
    case 'url':
      return `url:${spec.base}`;
    case 'zip':
      return `zip:${spec.name}`;
    case 'files':
      return `folder:${get().picked.data?.name ?? 'files'} (${spec.files.length} files)`;
    case 'directory':
      return `folder:${get().picked.data?.name ?? 'directory'}`;
    case 'path':
      return `path:${spec.path}`;
  }
  return setup.data;
}

function modelSourceText(spec: ModelSpec): string {
  switch (spec.kind) {
    case 'file':
      return `file:${spec.name}`;
    case 'random':
      return `random:${spec.preset}`;
    case 'path':
      return `path:${spec.path}`;
    default:
      return `${spec.kind}:${spec.id}`;
  }
}

// ---------------------------------------------------------------- the queue

/** Model, data and imported parameters of queued runs (Files are not plain data, so they stay out of the store). */
const specs = new Map<string, { model: ModelSpec; data: DataSpec; importParams?: RunConfig['importParams'] }>();
/** Checkpoints to resume from, by run id, until the run starts. */
const resumeStates = new Map<string, ResumeState>();

function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

function configFor(setup: Setup, method: MethodId, model: ModelSpec, data: DataSpec, trainSize = setup.trainSize): RunConfig {
  const task = getTask(setup.taskId);
  return {
    runId: newId(method),
    modelLabel: modelLabel(setup),
    model,
    taskId: setup.taskId,
    data,
    method,
    trainSize,
    valSize: valSizeOf(trainSize),
    testSize: task.source === 'procedural' ? Math.max(1, setup.testSize) : setup.testSize,
    epochs: setup.epochs,
    batchSize: setup.batchSize,
    lr: setup.lr ?? undefined,
    promptLength: effectivePromptLength(setup),
    seed: setup.seed,
    imageSize: setup.imageSize,
    backend: setup.backend ?? undefined,
    gradcamSamples: setup.gradcamSamples,
    importParams: blobs.importParams ? { file: blobs.importParams, name: blobs.importParams.name } : undefined,
  };
}

function summaryOf(config: RunConfig, setup: Setup): RunSummary {
  const { model, data, importParams: _i, ...rest } = config;
  return {
    config: { ...rest, modelSource: modelSourceText(model), dataSource: dataSourceText(setup, data) },
    backend: '',
    trainableParams: 0,
    totalParams: 0,
    epochs: [],
    status: 'queued',
    startedAt: Date.now(),
    notices: [],
  };
}

function addRuns(configs: RunConfig[], groupLabel: string): string[] {
  const setup = get().setup;
  const groupId = newId('group');
  const runs = { ...get().runs };
  const ids: string[] = [];
  configs.forEach((config, i) => {
    const { model, data, importParams } = config;
    specs.set(config.runId, { model, data, importParams });
    const summary = summaryOf(config, setup);
    summary.startedAt += i; // keeps the queue order when sorted by start time
    runs[config.runId] = { summary, groupId, groupLabel, methodLabel: METHODS[config.method].label, progress: {}, hasCheckpoint: false, importedFrom: importParams?.name };
    ids.push(config.runId);
  });
  set({ runs, order: [...get().order, ...ids], queue: [...get().queue, ...ids], viewGroupId: null, queueState: 'running' });
  for (const id of ids) persistRun(id);
  pump();
  return ids;
}

/** The setup's model and data specs, or null after showing what the setup lacks. */
function specsOrReport(setup: Setup): { model: ModelSpec; data: DataSpec } | null {
  try {
    return { model: modelSpecOf(setup), data: dataSpecOf(setup) };
  } catch (e) {
    if (e instanceof LabError) {
      reportError(toErrorInfo(e));
      return null;
    }
    throw e;
  }
}

/**
 * Queues one run per selected method with the current setup (run one after another). Returns
 * the run ids, or [] when the setup lacks something (the page then shows why).
 */
export function startQueue(): string[] {
  const setup = get().setup;
  const specs = specsOrReport(setup);
  if (!specs) return [];
  const { model, data } = specs;
  set({ errors: [] });
  const task = getTask(setup.taskId);
  const configs = setup.methods.map((m) => configFor(setup, m, model, data));
  return addRuns(configs, `${task.name} · ${modelLabel(setup)} · ${setup.trainSize} train · ${new Date().toLocaleTimeString()}`);
}

/** Queues the data-size sweep: FT and VPT-deep at every size of SWEEP_SIZES on the current task. */
export function startSweep(sizes: readonly number[] = SWEEP_SIZES, methods: MethodId[] = ['ft', 'vpt_deep']): string[] {
  const setup = get().setup;
  const specs = specsOrReport(setup);
  if (!specs) return [];
  const { model, data } = specs;
  const configs = sizes.flatMap((n) => methods.map((m) => configFor(setup, m, model, data, n)));
  return addRuns(configs, `Data-size sweep · ${getTask(setup.taskId).name} · ${modelLabel(setup)}`);
}

/** Starts the next queued run when the engine is free. */
function pump(): void {
  const { activeRunId, queue } = get();
  if (activeRunId) return;
  const [next, ...rest] = queue;
  if (!next) {
    if (get().queueState === 'running' || get().queueState === 'paused') set({ queueState: 'done' });
    return;
  }
  const record = get().runs[next];
  const spec = specs.get(next);
  if (!record || !spec) {
    set({ queue: rest });
    return pump();
  }
  startEngine();
  const { summary } = record;
  const { modelSource: _m, dataSource: _d, ...cfg } = summary.config;
  const config: RunConfig = { ...cfg, model: spec.model, data: spec.data, importParams: spec.importParams };
  const resumeFrom = resumeStates.get(next);
  resumeStates.delete(next);
  set({ queue: rest, activeRunId: next, queueState: 'running' });
  patchRun(next, (r) => ({ ...r, summary: { ...r.summary, status: 'running', error: undefined, finishedAt: undefined } }));
  send(resumeFrom ? { type: 'start', config, resumeFrom } : { type: 'start', config });
}

export function pauseActive(): void {
  const id = get().activeRunId;
  if (id) send({ type: 'pause', runId: id });
}

export function resumeActive(): void {
  const id = get().activeRunId;
  if (id) send({ type: 'resume', runId: id });
}

/** Cancels the running run and everything still queued. */
export function cancelQueue(): void {
  const { activeRunId, queue } = get();
  for (const id of queue) {
    patchRun(id, (r) => ({ ...r, summary: { ...r.summary, status: 'cancelled', finishedAt: Date.now() } }));
    persistRun(id);
  }
  set({ queue: [], queueState: activeRunId ? get().queueState : 'cancelled' });
  if (activeRunId) send({ type: 'cancel', runId: activeRunId });
}

/**
 * Resumes an interrupted (or failed, or cancelled) run from its last stored checkpoint, or from
 * the start when none was stored. Files must be picked again when the run used local ones.
 */
export async function resumeRun(runId: string): Promise<void> {
  const record = get().runs[runId];
  if (!record) return;
  const cfg = record.summary.config;
  const model = specFromSource(cfg.modelSource, 'model');
  const data = specFromSource(cfg.dataSource, 'data');
  if (!model || !data) {
    reportError({ code: 'config/invalid', message: `To resume this run, load ${!model ? `the checkpoint file "${cfg.modelSource.replace(/^file:/, '')}"` : 'its data folder or zip'} again in the setup panel, then press Resume.` }, runId);
    return;
  }
  // A run that started from imported parameters needs that file again (unless a checkpoint continues it).
  const imported = record.importedFrom;
  let importParams: RunConfig['importParams'];
  if (imported && !record.hasCheckpoint) {
    if (!blobs.importParams || blobs.importParams.name !== imported) {
      reportError({ code: 'config/invalid', message: `To restart this run, load its trained parameters "${imported}" again with "Start from trained parameters", then press Restart.` }, runId);
      return;
    }
    importParams = { file: blobs.importParams, name: imported };
  }
  specs.set(runId, { model: model as ModelSpec, data: data as DataSpec, importParams });
  let state: ResumeState | undefined;
  try {
    state = record.hasCheckpoint ? await db.getCheckpoint(runId) : undefined;
  } catch {
    state = undefined;
  }
  if (state) resumeStates.set(runId, state);
  patchRun(runId, (r) => ({ ...r, summary: { ...r.summary, status: 'queued', epochs: state ? [...state.epochs] : [], test: undefined, error: undefined } }));
  set({ queue: [...get().queue, runId], queueState: 'running', viewGroupId: record.groupId });
  pump();
}

/** Rebuilds a model or data spec from its stored description, using picked files when needed. */
function specFromSource(source: string, what: 'model' | 'data'): ModelSpec | DataSpec | null {
  const [kind, ...rest] = source.split(':');
  const arg = rest.join(':');
  if (what === 'model') {
    if (kind === 'hub') return { kind: 'hub', id: arg };
    if (kind === 'bundled') return { kind: 'bundled', id: arg };
    if (kind === 'random') return { kind: 'random', preset: arg };
    if (kind === 'file' && blobs.modelFile && blobs.modelFile.name === arg) return { kind: 'file', file: blobs.modelFile, name: arg };
    return null;
  }
  if (kind === 'procedural') return { kind: 'procedural' };
  if (kind === 'url') return { kind: 'url', base: arg };
  if (kind === 'zip' && blobs.dataZip) return { kind: 'zip', file: blobs.dataZip, name: blobs.dataZip.name };
  if (kind === 'folder' && blobs.dataFiles) return { kind: 'files', files: blobs.dataFiles };
  if (kind === 'folder' && blobs.dataDirectory) return { kind: 'directory', handle: blobs.dataDirectory };
  return null;
}

/** Deletes a run for good (the page confirms first). */
export async function deleteRun(runId: string): Promise<void> {
  const { runs, order, queue, activeRunId } = get();
  if (activeRunId === runId) return;
  const { [runId]: _gone, ...rest } = runs;
  set({ runs: rest, order: order.filter((id) => id !== runId), queue: queue.filter((id) => id !== runId) });
  specs.delete(runId);
  await db.deleteRun(runId).catch((e: Error) => addNotice(`Could not delete the stored run: ${e.message}`));
}

/** Downloads a finished run's trained parameters (safetensors) from IndexedDB. */
export async function exportTrainedParams(runId: string): Promise<void> {
  try {
    const t = await db.getTrained(runId);
    if (!t) {
      reportError({ code: 'storage/missing', message: 'The trained parameters of this run are not stored in this browser (runs finished before this version, or storage was cleared).' }, runId);
      return;
    }
    downloadBlob(t.blob, t.fileName);
  } catch (e) {
    reportError({ code: 'storage/failed', message: `Could not read the trained parameters from this browser (IndexedDB): ${(e as Error).message}` }, runId);
  }
}

export function viewGroup(groupId: string | null): void {
  set({ viewGroupId: groupId });
}

// ---------------------------------------------------------------- engine events

function patchRun(runId: string, f: (r: RunRecord) => RunRecord): RunRecord | undefined {
  const r = get().runs[runId];
  if (!r) return undefined;
  const next = f(r);
  set({ runs: { ...get().runs, [runId]: next } });
  return next;
}

function persistRun(runId: string): void {
  const r = get().runs[runId];
  if (!r) return;
  db.putRun({ runId, summary: r.summary, groupId: r.groupId, groupLabel: r.groupLabel, methodLabel: r.methodLabel, classNames: r.classNames, numClasses: r.numClasses, importedFrom: r.importedFrom }).catch((e: Error) =>
    addNotice(`Could not store the run in this browser (IndexedDB): ${e.message}. Export it as JSON to keep it.`, runId),
  );
}

const TERMINAL: RunSummary['status'][] = ['done', 'cancelled', 'failed'];

function finishRun(runId: string, status: RunSummary['status']): void {
  const r = patchRun(runId, (r) => ({ ...r, summary: { ...r.summary, status, finishedAt: Date.now() }, step: undefined }));
  if (!r) return;
  persistRun(runId);
  if (status === 'done') {
    db.deleteCheckpoint(runId).catch(() => undefined);
    patchRun(runId, (r) => ({ ...r, hasCheckpoint: false }));
  }
  if (get().activeRunId === runId) {
    set({ activeRunId: null });
    if (status === 'cancelled' && get().queue.length === 0) set({ queueState: 'cancelled' });
    pump();
  }
}

export function handleEvent(ev: EngineEvent): void {
  switch (ev.type) {
    case 'ready':
      set({ engine: { state: 'ready', choice: ev.choice } });
      return;
    case 'progress': {
      const unit = ev.progress.unit;
      patchRun(ev.runId, (r) => ({ ...r, progress: { ...r.progress, [unit]: ev.progress } }));
      return;
    }
    case 'run-started':
      patchRun(ev.runId, (r) => ({
        ...r,
        stepsPerEpoch: ev.stepsPerEpoch,
        numClasses: ev.numClasses,
        classNames: ev.classNames,
        summary: { ...r.summary, backend: ev.backend, trainableParams: ev.trainableParams, totalParams: ev.totalParams, status: 'running' },
      }));
      persistRun(ev.runId);
      return;
    case 'step':
      patchRun(ev.runId, (r) => ({ ...r, step: { epoch: ev.epoch, phase: ev.phase, step: ev.step, stepsPerEpoch: ev.stepsPerEpoch, loss: ev.loss, imagesPerSec: ev.imagesPerSec } }));
      return;
    case 'epoch':
      patchRun(ev.runId, (r) => ({
        ...r,
        summary: {
          ...r.summary,
          // A resumed run may report an epoch again: the newer one replaces it.
          epochs: [...r.summary.epochs.filter((e) => !(e.epoch === ev.metrics.epoch && e.phase === ev.metrics.phase)), ev.metrics],
        },
      }));
      persistRun(ev.runId);
      return;
    case 'gradcam':
      patchRun(ev.runId, (r) => ({ ...r, gradcam: { epoch: ev.epoch, samples: ev.samples } }));
      db.putGradCam({ runId: ev.runId, epoch: ev.epoch, samples: ev.samples }).catch(() => undefined);
      return;
    case 'checkpoint':
      db.putCheckpoint(ev.runId, ev.state).then(
        () => patchRun(ev.runId, (r) => ({ ...r, hasCheckpoint: true })),
        (e: Error) => addNotice(`Could not store the checkpoint for resuming: ${e.message}`, ev.runId),
      );
      return;
    case 'test':
      patchRun(ev.runId, (r) => ({ ...r, summary: { ...r.summary, test: ev.result } }));
      persistRun(ev.runId);
      return;
    case 'trained': {
      // Straight to IndexedDB as a Blob: the store only learns that it is there and how big.
      const stored: db.StoredTrained = { runId: ev.runId, blob: new Blob([ev.bytes], { type: 'application/octet-stream' }), fileName: ev.fileName, trainable: ev.trainable };
      db.putTrained(stored).then(
        () => {
          // The run may have been deleted meanwhile: then its parameters go too.
          if (!get().runs[ev.runId]) return void db.deleteRun(ev.runId).catch(() => undefined);
          patchRun(ev.runId, (r) => ({ ...r, trained: db.trainedInfo(stored) }));
        },
        (e: Error) => addNotice(`Could not store the trained parameters in this browser (IndexedDB): ${e.message}.`, ev.runId),
      );
      return;
    }
    case 'state': {
      if (TERMINAL.includes(ev.status)) return finishRun(ev.runId, ev.status);
      // The engine acknowledges a start with 'queued'; the page already shows it as the active run.
      if (ev.status === 'queued' && get().activeRunId === ev.runId) return;
      patchRun(ev.runId, (r) => ({ ...r, summary: { ...r.summary, status: ev.status } }));
      persistRun(ev.runId);
      if (get().activeRunId === ev.runId && (ev.status === 'paused' || ev.status === 'running')) set({ queueState: ev.status });
      return;
    }
    case 'notice':
      addNotice(ev.message, ev.runId);
      patchRun(ev.runId, (r) => ({ ...r, summary: { ...r.summary, notices: [...r.summary.notices, ev.message] } }));
      persistRun(ev.runId);
      return;
    case 'error': {
      if (ev.requestId) {
        set({ paper: { ...get().paper, frechetPending: get().paper.frechetPending.filter((id) => id !== ev.requestId) } });
      }
      reportError(ev.error, ev.runId);
      if (ev.runId) {
        const r = get().runs[ev.runId];
        if (!r) return;
        if (ev.error.code === 'run/cancelled') return finishRun(ev.runId, 'cancelled');
        patchRun(ev.runId, (r) => ({ ...r, summary: { ...r.summary, error: ev.error } }));
        if (!TERMINAL.includes(r.summary.status)) finishRun(ev.runId, 'failed');
        else persistRun(ev.runId);
      } else if (!ev.requestId && get().engine.state === 'starting') {
        set({ engine: { ...get().engine, state: 'off' } });
      }
      return;
    }
    case 'frechet-result': {
      const frechet = { ...get().paper.frechet };
      for (const d of ev.distances) frechet[d.taskId] = { distance: d.distance, reference: ev.reference };
      set({ paper: { ...get().paper, frechet, frechetPending: get().paper.frechetPending.filter((id) => id !== ev.requestId) } });
      return;
    }
    case 'verify-result':
      return;
  }
}

// ---------------------------------------------------------------- restore

/** Reads stored runs; a run left unfinished by a reload becomes 'interrupted'. */
export async function restoreRuns(): Promise<void> {
  try {
    const { runs: stored, checkpointIds, gradcams, trained } = await db.loadAll();
    const runs: LabState['runs'] = { ...get().runs };
    const cams = new Map(gradcams.map((g) => [g.runId, g]));
    for (const s of stored) {
      if (runs[s.runId]) continue;
      const unfinished = !TERMINAL.includes(s.summary.status) && s.summary.status !== 'interrupted';
      const summary: RunSummary = unfinished ? { ...s.summary, status: 'interrupted' } : s.summary;
      const cam = cams.get(s.runId);
      runs[s.runId] = {
        summary,
        groupId: s.groupId,
        groupLabel: s.groupLabel,
        methodLabel: s.methodLabel,
        classNames: s.classNames,
        numClasses: s.numClasses,
        progress: {},
        hasCheckpoint: checkpointIds.has(s.runId),
        gradcam: cam ? { epoch: cam.epoch, samples: cam.samples } : undefined,
        trained: trained.get(s.runId),
        importedFrom: s.importedFrom,
      };
      if (unfinished) db.putRun({ ...s, summary }).catch(() => undefined);
    }
    const order = [...new Set([...stored.map((s) => s.runId), ...get().order])];
    set({ runs, order, restored: true });
  } catch (e) {
    set({ restored: true });
    addNotice(`Stored runs could not be read: ${(e as Error).message}`);
  }
}

// ---------------------------------------------------------------- paper views

export function setReference(reference: LabState['paper']['reference'], referenceUrl?: string): void {
  set({ paper: { ...get().paper, reference, referenceUrl: referenceUrl ?? get().paper.referenceUrl } });
}

export function pickReferenceZip(file: File | null): void {
  blobs.referenceZip = file;
  set({ picked: { ...get().picked, reference: file ? { name: file.name } : null } });
  if (file) setReference('zip');
}

/**
 * Asks the engine for Fréchet distances between each task's features and the reference set:
 * the procedural tasks always, and the current VTAB task when its data is picked.
 */
export function requestFrechet(count = 64): void {
  const { setup, paper } = get();
  let model: ModelSpec;
  try {
    model = modelSpecOf(setup);
  } catch (e) {
    if (e instanceof LabError) return reportError(toErrorInfo(e));
    throw e;
  }
  let reference: DataSpec | { kind: 'pretraining' };
  if (paper.reference === 'pretraining') {
    if (!setup.model.startsWith('bundled:')) {
      return reportError({ code: 'config/invalid', message: 'Only the bundled model ships its pretraining data. For a hub or file model, choose a reference set of images (a URL or a zip).' });
    }
    reference = { kind: 'pretraining' };
  }
  else if (paper.reference === 'url') {
    if (!paper.referenceUrl.trim()) return reportError({ code: 'config/invalid', message: 'No reference URL is given. Type the base URL of a reference image folder.' });
    reference = { kind: 'url', base: paper.referenceUrl.trim() };
  } else {
    if (!blobs.referenceZip) return reportError({ code: 'config/invalid', message: 'No reference zip is picked. Choose one, or use another reference set.' });
    reference = { kind: 'zip', file: blobs.referenceZip, name: blobs.referenceZip.name };
  }
  startEngine();
  const common = { model, modelLabel: modelLabel(setup), reference, count, imageSize: setup.imageSize, seed: setup.seed };
  const pending: string[] = [];
  const procId = newId('frechet');
  pending.push(procId);
  send({ type: 'frechet', requestId: procId, taskIds: PROCEDURAL_TASKS.map((t) => t.id), data: { kind: 'procedural' }, ...common });
  if (getTask(setup.taskId).source === 'vtab') {
    try {
      const data = dataSpecOf(setup);
      const id = newId('frechet');
      pending.push(id);
      send({ type: 'frechet', requestId: id, taskIds: [setup.taskId], data, ...common });
    } catch {
      // no data picked for the VTAB task: only the procedural ones are measured
    }
  }
  set({ paper: { ...get().paper, frechetPending: [...get().paper.frechetPending, ...pending] } });
}

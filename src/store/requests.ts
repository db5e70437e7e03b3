/**
 * What the page asks the engine for, built from its state: the runs of a Start or a sweep, the
 * specs to restart a stored run with, the Fréchet requests. Pure: each returns the request, or
 * the problem the page shows instead (a file that is not picked, a URL that is not typed).
 */
import { PROCEDURAL_TASKS, getTask } from '../data/catalog';
import { LabError, toErrorInfo, type ErrorInfo } from '../domain/errors';
import { parseSourceText, type DataSpec, type MethodId, type ModelSpec, type RunConfig } from '../domain/run';
import type { Command } from '../engine/protocol';
import { SWEEP_SIZES, modelLabel, paperSpecOf, resolutionError, valSizeOf, type Setup } from './setup';
import type { LabState } from './state';
import { probeKey, runWork, secondsOf, setupRun, speedBefore } from './estimate';
import { rerunLr } from '../train/divergence';

type Result<T> = { ok: T } | { problem: ErrorInfo };

/** A setup that lacks something: the lab's one error type, as plain data for the store. */
const problem = (message: string, hint = ''): { problem: ErrorInfo } => ({ problem: toErrorInfo(new LabError('config/invalid', message, hint)) });

/** A run id: the method, the time, a random tail. */
export function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

function modelSpec(s: LabState): Result<ModelSpec> {
  const { setup, picked } = s;
  if (setup.model === 'file') {
    if (!picked.model)
      return problem('No checkpoint file is loaded.', 'Choose a .safetensors or .npz file with "Local checkpoint file", or pick another model.');
    return { ok: { kind: 'file', file: picked.model, name: picked.model.name } };
  }
  const { kind, arg } = parseSourceText(setup.model);
  if (kind === 'hub') return { ok: { kind: 'hub', id: arg } };
  if (kind === 'random') return { ok: { kind: 'random', preset: arg } };
  return { ok: { kind: 'bundled', id: arg } };
}

function dataSpec(s: LabState): Result<DataSpec> {
  const { setup, picked } = s;
  const task = getTask(setup.taskId);
  if (task.source === 'procedural') return { ok: { kind: 'procedural' } };
  if (setup.data === 'url') {
    if (!setup.dataUrl.trim()) return problem(`No URL is given for ${task.name}.`, 'Type the base URL of a vtab-1k folder, or pick a local folder or zip.');
    return { ok: { kind: 'url', base: setup.dataUrl.trim() } };
  }
  const data = picked.data;
  if (setup.data === 'zip') {
    if (data?.kind !== 'zip') return problem(`No zip is picked for ${task.name}.`, 'Choose the vtab-1k zip, or pick a folder instead.');
    return { ok: { kind: 'zip', file: data.file, name: data.name } };
  }
  if (data?.kind === 'files') return { ok: { kind: 'files', files: data.files, name: data.name } };
  if (data?.kind === 'directory') return { ok: { kind: 'directory', handle: data.handle, name: data.name } };
  return problem(
    `${task.name} needs its images: no folder is picked.`,
    'Pick or drop the vtab-1k folder (or its zip), or choose an "Offline (procedural)" task.',
  );
}

function runConfig(s: LabState, method: MethodId, model: ModelSpec, data: DataSpec, trainSize: number): RunConfig {
  const { setup, picked } = s;
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
    promptLength: setup.promptLength ?? undefined,
    seed: setup.seed,
    imageSize: setup.imageSize,
    backend: setup.backend ?? undefined,
    gradcamSamples: setup.gradcamSamples,
    skipBad: setup.skipBad || undefined,
    importParams: picked.importParams ? { file: picked.importParams.file, name: picked.importParams.name } : undefined,
    protocol: paperSpecOf(setup, method),
  };
}

type Enqueue = Extract<Command, { type: 'enqueue' }>;

/** One run per selected method with the current setup, as one group. */
export function queueRequest(s: LabState): Result<Enqueue> {
  return runsRequest(
    s,
    s.setup.methods,
    [s.setup.trainSize],
    (setup) => `${getTask(setup.taskId).name} · ${modelLabel(setup)} · ${setup.trainSize} train · ${new Date().toLocaleTimeString()}`,
  );
}

/** The data-size sweep: the methods at every size, on the current task. */
export function sweepRequest(s: LabState, sizes: readonly number[] = SWEEP_SIZES, methods: MethodId[] = ['ft', 'vpt_deep']): Result<Enqueue> {
  return runsRequest(s, methods, sizes, (setup) => `Data-size sweep · ${getTask(setup.taskId).name} · ${modelLabel(setup)}`);
}

function runsRequest(s: LabState, methods: MethodId[], sizes: readonly number[], label: (setup: Setup) => string): Result<Enqueue> {
  if (s.setup.protocol === 'paper' && s.picked.importParams) {
    return problem(
      'The paper protocol trains every run from the pretrained model, so it cannot start from imported parameters.',
      'Clear "Start from trained parameters", or switch the protocol to quick.',
    );
  }
  const model = modelSpec(s);
  if ('problem' in model) return model;
  const data = dataSpec(s);
  if ('problem' in data) return data;
  const resolution = resolutionError(s.setup);
  if (resolution) return { problem: toErrorInfo(new LabError('config/invalid', resolution)) };
  const runs = sizes.flatMap((n) =>
    methods.map((m) => {
      // The estimate beside Start, per run, kept with the run to compare with what it took.
      const speed = speedBefore(s, setupRun({ ...s.setup, trainSize: n }, m));
      const predicted = speed ? secondsOf(runWork(setupRun({ ...s.setup, trainSize: n }, m)), speed.rates) : NaN;
      return { ...runConfig(s, m, model.ok, data.ok, n), predictedSeconds: Number.isFinite(predicted) ? predicted : undefined };
    }),
  );
  return { ok: { type: 'enqueue', groupLabel: label(s.setup), runs } };
}

/** Why Start cannot start now: which input, and what is wrong with it. */
export interface StartBlocker {
  input: string;
  reason: string;
}

/**
 * Why Start would not start: a chosen input whose check at pick time found it unusable (or is
 * still checking it), or a setup that lacks something (a file not picked, a resolution the
 * patches do not divide). Null when Start can start. The button is disabled and says this, so a
 * Start never queues runs that are bound to fail.
 */
export function startBlocker(s: LabState): StartBlocker | null {
  const inputs = [
    { what: 'model' as const, used: s.setup.model === 'file', name: `The checkpoint “${s.picked.model?.name ?? ''}”` },
    {
      what: 'data' as const,
      used: getTask(s.setup.taskId).source === 'vtab' && s.setup.data !== 'url',
      name: `The data “${s.picked.data?.name ?? ''}”`,
    },
    { what: 'importParams' as const, used: !!s.picked.importParams, name: `The trained parameters “${s.picked.importParams?.name ?? ''}”` },
  ];
  for (const i of inputs) {
    const check = s.checks[i.what];
    if (!i.used || !check) continue;
    if (check.state === 'bad') return { input: i.name, reason: `${check.text}${check.code ? ` (${check.code})` : ''}` };
    if (check.state === 'checking') return { input: i.name, reason: 'is still being checked' };
  }
  const r = runsRequest(s, s.setup.methods, [s.setup.trainSize], () => '');
  return 'problem' in r ? { input: 'The setup', reason: r.problem.message } : null;
}

/**
 * A probe of the run a Start would queue for `method` (train/probe.ts), with its key in the
 * store's probe results; null when the model is a file that is not picked.
 */
export function probeRequest(s: LabState, method: MethodId): { cmd: Extract<Command, { type: 'probe' }>; key: string } | null {
  const model = modelSpec(s);
  if ('problem' in model) return null;
  // The probe generates its images: the data source plays no part in a step's time.
  const config = { ...runConfig(s, method, model.ok, { kind: 'procedural' }, s.setup.trainSize), importParams: undefined, protocol: undefined };
  return { cmd: { type: 'probe', requestId: newId('probe'), config }, key: probeKey(setupRun(s.setup, method)) };
}

/**
 * The check of a picked file, asked as soon as it is picked: the local checkpoint, or the VTAB
 * task's picked folder or zip (URLs are read at Start). Null when there is nothing local to check.
 */
export function inspectRequest(s: LabState, what: 'model' | 'data' | 'importParams'): Extract<Command, { type: 'inspect' }> | null {
  const base = { type: 'inspect' as const, requestId: newId(`inspect-${what}`), taskId: s.setup.taskId, skipBad: s.setup.skipBad };
  if (what === 'importParams') {
    const p = s.picked.importParams;
    return p ? { ...base, importParams: { file: p.file, name: p.name } } : null;
  }
  if (what === 'model')
    return s.setup.model === 'file' && s.picked.model ? { ...base, model: { kind: 'file', file: s.picked.model, name: s.picked.model.name } } : null;
  if (getTask(s.setup.taskId).source !== 'vtab' || !s.picked.data || s.setup.data === 'url') return null;
  const data = dataSpec(s);
  return 'ok' in data ? { ...base, data: data.ok } : null;
}

/**
 * The specs to run a stored run again: its model and data from their stored source lines, with
 * the files the user picked where it used local ones (they cannot be stored).
 */
export function restartRequest(s: LabState, runId: string): Result<Extract<Command, { type: 'restart' }>> | null {
  const record = s.runs[runId];
  if (!record) return null;
  const cfg = record.summary.config;
  const model = modelFromSource(cfg.modelSource, s);
  const data = dataFromSource(cfg.dataSource, s);
  if (!model || !data) {
    return problem(
      `To resume this run, load ${!model ? `the checkpoint file "${cfg.modelSource.replace(/^file:/, '')}"` : 'its data folder or zip'} again in the setup panel, then press Resume.`,
    );
  }
  // A run that started from imported parameters needs that file again (unless a checkpoint continues it).
  const imported = record.importedFrom;
  if (!imported || record.hasCheckpoint) return { ok: { type: 'restart', runId, model, data } };
  const file = s.picked.importParams;
  if (!file || file.name !== imported) {
    return problem(`To restart this run, load its trained parameters "${imported}" again with "Start from trained parameters", then press Restart.`);
  }
  return { ok: { type: 'restart', runId, model, data, importParams: { file: file.file, name: imported } } };
}

/**
 * A run whose loss rose, again at a tenth of its learning rate (train/divergence.ts rerunLr): the
 * same setup otherwise, queued into the same group so its curves land beside the first try.
 */
export function rerunRequest(s: LabState, runId: string): Result<Enqueue> | null {
  const record = s.runs[runId];
  if (!record) return null;
  const { modelSource, dataSource, ...cfg } = record.summary.config;
  const lr = record.summary.lossRise?.lr ?? cfg.lr;
  if (lr === undefined) return null;
  const model = modelFromSource(modelSource, s);
  const data = dataFromSource(dataSource, s);
  if (!model || !data)
    return problem(
      `To rerun this run, load ${!model ? `the checkpoint file "${modelSource.replace(/^file:/, '')}"` : 'its data folder or zip'} again in the setup panel first.`,
    );
  const config: RunConfig = { ...cfg, runId: newId(cfg.method), model, data, lr: rerunLr(lr), protocol: undefined };
  return { ok: { type: 'enqueue', groupLabel: record.groupLabel, groupId: record.groupId, runs: [config] } };
}

function modelFromSource(source: string, s: LabState): ModelSpec | null {
  const { kind, arg } = parseSourceText(source);
  if (kind === 'hub') return { kind: 'hub', id: arg };
  if (kind === 'bundled') return { kind: 'bundled', id: arg };
  if (kind === 'random') return { kind: 'random', preset: arg };
  if (kind === 'file' && s.picked.model?.name === arg) return { kind: 'file', file: s.picked.model, name: arg };
  return null;
}

function dataFromSource(source: string, s: LabState): DataSpec | null {
  const { kind, arg } = parseSourceText(source);
  const picked = s.picked.data;
  if (kind === 'procedural') return { kind: 'procedural' };
  if (kind === 'url') return { kind: 'url', base: arg };
  if (kind === 'zip' && picked?.kind === 'zip') return { kind: 'zip', file: picked.file, name: picked.name };
  if (kind === 'folder' && picked?.kind === 'files') return { kind: 'files', files: picked.files, name: picked.name };
  if (kind === 'folder' && picked?.kind === 'directory') return { kind: 'directory', handle: picked.handle, name: picked.name };
  return null;
}

/**
 * Fréchet distances between each task's features and the reference set: the procedural tasks
 * always, and the current VTAB task when its data is picked.
 */
export function frechetRequests(s: LabState, count = 64): Result<Extract<Command, { type: 'frechet' }>[]> {
  const { setup, paper } = s;
  const model = modelSpec(s);
  if ('problem' in model) return model;
  let reference: DataSpec | { kind: 'pretraining' };
  if (paper.reference === 'pretraining') {
    if (!setup.model.startsWith('bundled:')) {
      return problem('Only the bundled model ships its pretraining data.', 'For a hub or file model, choose a reference set of images (a URL or a zip).');
    }
    reference = { kind: 'pretraining' };
  } else if (paper.reference === 'url') {
    if (!paper.referenceUrl.trim()) return problem('No reference URL is given.', 'Type the base URL of a reference image folder.');
    reference = { kind: 'url', base: paper.referenceUrl.trim() };
  } else {
    if (!s.picked.reference) return problem('No reference zip is picked.', 'Choose one, or use another reference set.');
    reference = { kind: 'zip', file: s.picked.reference.file, name: s.picked.reference.name };
  }
  const common = { type: 'frechet' as const, model: model.ok, reference, count, imageSize: setup.imageSize, seed: setup.seed };
  const out: Extract<Command, { type: 'frechet' }>[] = [
    { ...common, requestId: newId('frechet'), taskIds: PROCEDURAL_TASKS.map((t) => t.id), data: { kind: 'procedural' } },
  ];
  const data = getTask(setup.taskId).source === 'vtab' ? dataSpec(s) : null;
  // No data picked for the VTAB task: only the procedural ones are measured.
  if (data && 'ok' in data) out.push({ ...common, requestId: newId('frechet'), taskIds: [setup.taskId], data: data.ok });
  return { ok: out };
}

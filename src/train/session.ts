/**
 * One run from its setup: load the model, open the task's data, train, summarise. The browser
 * worker and `npm run train` both call this; what differs between hosts (how a checkpoint path
 * or a folder is read, which image decoder runs) comes in through `RunHost`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ViTConfig } from '../model/config';
import { PRESETS, checkConfig, gridSize } from '../model/config';
import type { ParamSet } from '../model/params';
import { adaptToResolution, disposeParams, paramsFromCanonical, randomParams } from '../model/params';
import { getTask, promptLengthFor } from '../data/catalog';
import { openProceduralTask } from '../data/procedural';
import { selectSplits } from '../data/splits';
import { openVtabTask } from '../data/vtab';
import type { FileSource } from '../data/source';
import type { ImageDecoder, SelectedSplits } from '../data/types';
import { LabError, quoted } from '../domain/errors';
import type { ProgressCallback } from '../domain/progress';
import type { CanonicalCheckpoint } from '../weights/types';
import { dataSourceText, modelSourceText, type DataSpec, type ModelSpec, type ResumeState, type RunConfig, type RunSummary } from '../domain/run';
import { isMethodId, METHODS } from './methods';
import type { TrainData } from '../data/trainData';
import { trainDataFromSplits } from '../data/fromSplits';
import { disposeAll, readTrainedParams, trainedParamsFile } from './export';
import type { RunControl } from './control';
import type { TrainerEvent, TrainOutcome } from './trainer';
import { countParams, train, tunedMethod, type Hyper } from './trainer';
import { memoryBudget } from './budget';
import { planPhases, type MemoryPlan, type ModelDims } from './memory';
import { dimsOf, resolutionProblem } from './dims';
import { kernelsFor } from '../kernels';
import { recordedDefault } from './defaults';
import type { ViT } from '../model/vit';

/** What differs between the browser worker and Node. */
export interface RunHost {
  /** Bytes -> canonical checkpoint for every model spec but `random`. */
  loadCheckpoint(
    spec: ModelSpec,
    o: { onProgress?: ProgressCallback; onNotice?: (message: string) => void; signal?: AbortSignal },
  ): Promise<CanonicalCheckpoint>;
  /** A file source for a non-procedural data spec. */
  openSource(spec: DataSpec): Promise<FileSource>;
  decoder: ImageDecoder;
}

/** A model ready to run on the active backend, and where it came from. */
export interface LoadedModel extends ViT {
  /** Where it came from, in words. */
  source: string;
}

/** How a model or a task's data is loaded: on which host, with what progress reports. */
export interface LoadOptions {
  host: RunHost;
  onProgress?: ProgressCallback;
  /** What loading noticed but did not stop for (e.g. the browser would not keep a downloaded copy). */
  onNotice?: (message: string) => void;
  /** Stops a download (the run's cancel). */
  signal?: AbortSignal;
}

/** Model spec -> parameters at `imageSize` (undefined: the checkpoint's own). The caller disposes `params`. */
export async function loadModel(spec: ModelSpec, o: LoadOptions & { imageSize?: number }): Promise<LoadedModel> {
  const { host, onProgress, onNotice, signal, imageSize } = o;
  let cfg: ViTConfig;
  let params: ParamSet;
  let source: string;
  if (spec.kind === 'random') {
    const preset = PRESETS[spec.preset as keyof typeof PRESETS];
    if (!preset) throw new LabError('config/invalid', `Unknown model preset '${spec.preset}'.`, `Use one of: ${Object.keys(PRESETS).join(', ')}.`);
    cfg = { ...preset, numClasses: 0 };
    params = randomParams(cfg, 0);
    source = modelSourceText(spec);
  } else {
    const ckpt = await host.loadCheckpoint(spec, { onProgress, onNotice, signal });
    cfg = ckpt.config;
    checkConfig(cfg);
    params = paramsFromCanonical(ckpt.tensors);
    ckpt.tensors.clear(); // drop the host copy as soon as the tensors exist
    source = modelSourceText(spec);
  }
  if (imageSize && imageSize !== cfg.imageSize) {
    const problem = resolutionProblem(imageSize, cfg, source);
    if (problem) {
      disposeParams(params);
      throw problem;
    }
    cfg = adaptToResolution(params, cfg, imageSize);
  }
  return { cfg, params, kernels: kernelsFor(tf.getBackend()), source };
}

export interface DataRequest {
  taskId: string;
  data: DataSpec;
  trainSize: number;
  valSize: number;
  testSize: number;
  seed: number;
  skipBad?: boolean;
}

/** Data spec + task -> selected splits (procedural or a vtab-1k source). */
export async function openSplits(req: DataRequest, { host, onProgress }: LoadOptions): Promise<SelectedSplits> {
  const task = getTask(req.taskId);
  if (task.source === 'procedural') {
    return openProceduralTask(task, { trainSize: req.trainSize, valSize: req.valSize, testSize: req.testSize || undefined, seed: req.seed });
  }
  if (req.data.kind === 'procedural') {
    throw new LabError(
      'data/not-vtab-layout',
      `${task.name} needs its VTAB-1k images; none were given.`,
      `Choose a vtab-1k folder or zip (with a "${task.folder}/" folder) or a base URL, or pick an offline procedural task.`,
    );
  }
  const source = await host.openSource(req.data);
  const vtab = await openVtabTask(source, task, { skipBad: req.skipBad, decoder: host.decoder, onProgress });
  const canonical = req.trainSize === 800 && req.valSize === 200;
  const selected = selectSplits(vtab, canonical ? { seed: req.seed } : { trainSize: req.trainSize, valSize: req.valSize, seed: req.seed });
  if (req.testSize > 0 && selected.test.length > req.testSize) selected.test = selected.test.slice(0, req.testSize);
  return selected;
}

/** What a session knows once its model is loaded and its data open, before the first step. */
export interface SessionStarted {
  backend: string;
  trainableParams: number;
  totalParams: number;
  stepsPerEpoch: number;
  numClasses: number;
  /** One memory plan per phase. */
  memory: MemoryPlan[];
}

export interface SessionCallbacks {
  onProgress?: ProgressCallback;
  onEvent?: (e: TrainerEvent) => void;
  onStarted?: (info: SessionStarted) => void;
}

export interface SessionResult {
  summary: RunSummary;
  outcome: TrainOutcome;
  model: LoadedModel;
  data: TrainData;
}

/** Plain summary of a config, for storage and results files (no Blobs). */
export function summaryConfig(config: RunConfig): RunSummary['config'] {
  const { model, data, importParams, ...rest } = config;
  void importParams;
  return { ...rest, modelSource: modelSourceText(model), dataSource: dataSourceText(data) };
}

/** Grad-CAM samples: a fixed, evenly spread set of test images, the same for every method. */
export function gradcamIndices(testSize: number, count: number): number[] {
  if (count <= 0 || testSize <= 0) return [];
  const n = Math.min(count, testSize);
  return Array.from({ length: n }, (_, i) => Math.floor((i * testSize) / n));
}

/** A run config whose prompt length is known (see resolvePromptLength). */
export type ResolvedConfig = RunConfig & { promptLength: number };

/**
 * The config with its prompt length: the one given, or the catalog's rule for the task and this
 * model's patch count (the paper's length × patches / 196, at least 1). Methods without prompts
 * record 0.
 */
export function resolvePromptLength(config: RunConfig, cfg: Pick<ViTConfig, 'imageSize' | 'patchSize'>): ResolvedConfig {
  if (config.promptLength !== undefined) return config as ResolvedConfig;
  const prompted = METHODS[config.method].phases.some((p) => p.promptMode !== 'none');
  return { ...config, promptLength: prompted ? promptLengthFor(getTask(config.taskId), gridSize(cfg) ** 2) : 0 };
}

/**
 * The config with its learning rate and weight decay written in: the typed ones, else the model's
 * measured defaults (defaults.ts, bundled models), else the method's reference recipe. Written
 * into the config so every record of the run (the page's table, the exports, the CLI's JSON)
 * names the rate it trained at, not a blank.
 */
export function resolveHyperDefaults(config: RunConfig): RunConfig {
  if (config.protocol) return config; // the paper protocol searches both
  const recorded = recordedDefault(config.model, config.method);
  const recipe = METHODS[config.method].phases.at(-1)!.recipe;
  const lr = config.lr ?? recorded?.lr ?? recipe.baseLr;
  const out: RunConfig = { ...config, lr, weightDecay: config.weightDecay ?? recorded?.weightDecay ?? recipe.weightDecay };
  // A measured prompt rate that differs from the base rate travels as the prompts' lr scale.
  if (config.lr === undefined && recorded?.promptLr && recorded.promptLr !== lr && config.promptControls?.lrScale === undefined)
    out.promptControls = { ...config.promptControls, lrScale: recorded.promptLr / lr };
  return out;
}

/** The trainer's hyperparameters of a run config. */
export function hyperOf(config: ResolvedConfig): Hyper {
  const c = config.promptControls ?? {};
  return {
    epochs: config.epochs,
    batchSize: config.batchSize,
    lr: config.lr,
    weightDecay: config.weightDecay,
    promptLength: config.promptLength,
    seed: config.seed,
    promptInit: c.init,
    freezePrompts: c.freeze,
    promptDropout: c.dropout,
    promptLrScale: c.lrScale,
    recompute: config.recompute,
  };
}

/**
 * Run one config to the end. Training events stream through `cb.onEvent`; the returned outcome
 * owns the trained parameters (dispose with `disposeSession`).
 */
export async function runSession(
  asked: RunConfig,
  host: RunHost,
  control: RunControl,
  cb: SessionCallbacks = {},
  resume?: ResumeState,
): Promise<SessionResult> {
  if (!isMethodId(asked.method))
    throw new LabError('config/invalid', `Unknown method ${quoted(asked.method, 40)}.`, `Use one of: ${Object.keys(METHODS).join(', ')}.`);
  const method = METHODS[asked.method];
  const requested = resolveHyperDefaults(asked);
  const progress = cb.onProgress ?? (() => {});
  const plan = (config: ResolvedConfig, dims: ModelDims) =>
    planPhases(dims, tunedMethod(method, hyperOf(config)).phases, {
      numClasses: getTask(config.taskId).classes,
      promptLength: config.promptLength,
      batch: Math.min(config.batchSize, config.trainSize),
      budget: memoryBudget(),
      recompute: config.recompute,
      backboneCopy: false,
    });
  // A model whose sizes are known without its weights (presets, hub checkpoints, the bundled
  // model) is planned before it is loaded: one that cannot fit one image stops before a weight is read.
  const known = dimsOf(requested.model, requested.imageSize ?? 0);
  if (known) {
    // Before a weight is downloaded: a resolution the model's patches do not divide.
    const problem = resolutionProblem(requested.imageSize ?? 0, dimsOf(requested.model)!, modelSourceText(requested.model));
    if (problem) throw problem;
    plan(resolvePromptLength(requested, known), known);
  }
  const loadNotices: string[] = [];
  const model = await loadModel(requested.model, {
    host,
    imageSize: requested.imageSize,
    onProgress: progress,
    onNotice: (message) => loadNotices.push(message),
    signal: control.signal,
  });
  try {
    const config = resolvePromptLength(requested, model.cfg);
    // The memory plan, before any data is opened or a step is taken: a run that cannot fit one
    // image stops here with 'run/does-not-fit'; the trainer follows the same plan.
    const memory = plan(config, model.cfg);
    const splits = await openSplits(config, { host, onProgress: progress });
    const data = trainDataFromSplits(splits, {
      imageSize: model.cfg.imageSize,
      normalization: { mean: model.cfg.mean, std: model.cfg.std },
      skipBad: config.skipBad,
    });
    if (data.train.size === 0) throw new LabError('data/too-few-items', 'The training split is empty.', 'Choose a train size of at least one batch.');
    const counts = countParams(model.cfg, model.params, tunedMethod(method, hyperOf(config)), data.numClasses, config.promptLength);
    const summary: RunSummary = {
      config: { ...summaryConfig(config), imageSize: model.cfg.imageSize },
      backend: tf.getBackend(),
      trainableParams: counts.trainable,
      totalParams: counts.total,
      epochs: [],
      status: 'running',
      startedAt: Date.now(),
      notices: [],
    };
    const batch = Math.min(config.batchSize, data.train.size);
    cb.onStarted?.({
      backend: summary.backend,
      trainableParams: counts.trainable,
      totalParams: counts.total,
      stepsPerEpoch: Math.max(1, Math.floor(data.train.size / batch)),
      numClasses: data.numClasses,
      memory,
    });
    // What loading noticed but did not stop for (a copy the cache refused, a list naming an image
    // twice), said once, up front.
    for (const message of [...loadNotices, ...(splits.warnings ?? [])]) {
      summary.notices.push(message);
      cb.onEvent?.({ type: 'notice', message });
    }
    const initial = config.importParams ? importedParams(await config.importParams.file.arrayBuffer(), config.importParams.name, config.method) : undefined;
    const outcome = await train({
      initial,
      cfg: model.cfg,
      backbone: model.params,
      // The loaded model is this run's alone: what trains replaces it rather than living beside it.
      consumeBackbone: true,
      kernels: model.kernels,
      method,
      data,
      hyper: hyperOf(config),
      gradcamIndices: gradcamIndices(data.test.size, config.gradcamSamples),
      control,
      resume,
      emit: (e) => {
        if (e.type === 'notice') summary.notices.push(e.message);
        cb.onEvent?.(e);
      },
    });
    if (initial) disposeAll(initial);
    summary.epochs = outcome.epochs;
    summary.test = outcome.test;
    summary.status = 'done';
    summary.finishedAt = Date.now();
    if (data.skipped?.length)
      summary.notices.push(
        `${data.skipped.length} bad item(s) were skipped: ${data.skipped
          .slice(0, 5)
          .map((s) => `${s.file}${s.line ? `:${s.line}` : ''}`)
          .join(', ')}${data.skipped.length > 5 ? ', ...' : ''}.`,
      );
    return { summary, outcome, model, data };
  } catch (err) {
    disposeParams(model.params);
    throw err;
  }
}

/**
 * Trained parameters imported for a run, refused when the run's method has no use for part of
 * them: prompts imported for a method without prompts would be dropped without a word, and the
 * run would not start from what the user picked.
 */
export function importedParams(bytes: ArrayBuffer, name: string, methodId: RunConfig['method']): ParamSet {
  const { params, meta } = readTrainedParams(new Uint8Array(bytes), name);
  const last = METHODS[methodId].phases.at(-1)!;
  const prompts = Object.keys(params).filter((k) => k.startsWith('prompts.'));
  if (last.promptMode === 'none' && prompts.length) {
    disposeParams(params);
    const from = meta.method && METHODS[meta.method as keyof typeof METHODS] ? METHODS[meta.method as keyof typeof METHODS].label : 'a prompt method';
    throw new LabError(
      'config/invalid',
      `'${name}' holds ${prompts.length} layer(s) of prompts trained by ${from}; ${METHODS[methodId].label} uses no prompts, so they would be dropped and the run would not start from this file.`,
      `Import it for a prompt method (${from}, with the same prompt length), or clear "Start from trained parameters" to train ${METHODS[methodId].label} from the pretrained model.`,
    );
  }
  return params;
}

/** The trained parameters of a finished session as a file (see export.ts). */
export function exportTrained(r: SessionResult, config: RunConfig): Promise<Uint8Array> {
  return trainedParamsFile(r.outcome.params, r.outcome.trainable, r.model.cfg, {
    method: config.method,
    taskId: config.taskId,
    numClasses: r.data.numClasses,
    promptLength: r.summary.config.promptLength ?? 0,
    baseModel: modelSourceText(config.model),
  });
}

export function trainedFileName(config: RunConfig): string {
  return `${config.taskId}-${config.method}-seed${config.seed}.safetensors`;
}

/** Free the tensors of a finished session: trained parameters and the loaded backbone. */
export function disposeSession(r: SessionResult): void {
  const seen = new Set<tf.Tensor>();
  for (const t of [...Object.values(r.outcome.params), ...Object.values(r.model.params)]) {
    if (!seen.has(t)) {
      seen.add(t);
      t.dispose();
    }
  }
}

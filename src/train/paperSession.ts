/**
 * The paper protocol on a real model and task (paper.ts is the protocol; this is its runner):
 * the model loads once and the task's splits are drawn once, from the config's seed, so every
 * search run and every seed sees the same images (as VTAB-1k's fixed lists); the seeds vary
 * initialisation, batch order and dropout. Search runs read train800 and val200 only (their test
 * split is empty); each final run trains on train800val200 and reads the test images only in its
 * evaluation after the last step. Then, on the first seed's final model, the "why" analyses
 * (analysis/why.ts): CKA to the pretrained features per layer, and the attention on prompts.
 */
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, GradCamSample, RunConfig, RunSummary, TestResult } from '../domain/run';
import { LabError, quoted } from '../domain/errors';
import type { ProgressCallback } from '../domain/progress';
import { featureSimilarity, promptAttention } from '../analysis/why';
import type { PaperSpec, PaperStage, WhyAnalysis } from '../domain/paper';

export type { WhyAnalysis } from '../domain/paper';
import type { ParamSet } from '../model/params';
import { disposeParams } from '../model/params';
import { isMethodId, METHODS } from './methods';
import type { RunControl } from './control';
import { gradCamSamples } from './evaluate';
import { trainDataFromSplits } from '../data/fromSplits';
import { protocolSplits, runPaperProtocol, type CurvePoint, type PaperOutcome, type ProtocolRunRequest, type ProtocolRunResult } from './paper';
import { countParams, train, tunedMethod, type TrainerEvent, type TrainOutcome } from './trainer';
import { gradcamIndices, hyperOf, loadModel, openSplits, resolvePromptLength, summaryConfig, type RunHost } from './session';
import type { TrainData } from '../data/trainData';

/** What the protocol is asked for (a run config's `protocol`, without its kind). */
export type PaperSettings = Omit<PaperSpec, 'kind'>;

/** A protocol run starting or ending, for progress displays: where it is (PaperStage), then what it saw. */
export type PaperEvent =
  | (PaperStage & { type: 'run-start'; trainSize: number; valSize: number; testSize: number })
  | (PaperStage & { type: 'run-end'; valAcc?: number; testAcc?: number; stoppedEarly: boolean; seconds: number });

export interface PaperCallbacks {
  onProgress?: ProgressCallback;
  /** The current protocol run's trainer events (steps, epochs, notices). */
  onEvent?: (e: TrainerEvent) => void;
  onPaperEvent?: (e: PaperEvent) => void;
}

export interface PaperSessionResult {
  config: RunSummary['config'];
  backend: string;
  trainableParams: number;
  totalParams: number;
  paper: PaperOutcome;
  why: WhyAnalysis | null;
  /** Grad-CAM of the first seed's final model on fixed test images, after its evaluation. */
  gradcam: GradCamSample[];
  /** The first seed's full test report (per-class accuracy, confusion matrix). */
  firstTest: TestResult;
  /** The first seed's final run's epochs, as it measured them. */
  firstEpochs: EpochMetrics[];
  numClasses: number;
}

/** Dispose what a run made (its head, prompts, variables), never the shared backbone. */
function disposeRunParams(params: ParamSet, backbone: ParamSet): void {
  for (const [n, t] of Object.entries(params)) if (backbone[n] !== t) t.dispose();
}

const curveOf = (epochs: { epoch: number; trainLoss: number; trainAcc: number; valAcc: number }[]): CurvePoint[] =>
  epochs.map((e) => ({ epoch: e.epoch, trainLoss: e.trainLoss, trainAcc: e.trainAcc, heldOutAcc: e.valAcc }));

/** Run the paper protocol for one config (one task × method). */
export async function runPaperSession(
  requested: RunConfig,
  settings: PaperSettings,
  host: RunHost,
  control: RunControl,
  cb: PaperCallbacks = {},
): Promise<PaperSessionResult> {
  if (!isMethodId(requested.method))
    throw new LabError('config/invalid', `Unknown method ${quoted(requested.method, 40)}.`, `Use one of: ${Object.keys(METHODS).join(', ')}.`);
  const method = METHODS[requested.method];
  if (requested.importParams)
    throw new LabError(
      'config/invalid',
      'The paper protocol trains from the pretrained model; it cannot start from imported parameters.',
      'Use the quick protocol to continue from saved parameters.',
    );
  const progress = cb.onProgress ?? (() => {});
  const model = await loadModel(requested.model, {
    host,
    imageSize: requested.imageSize,
    onProgress: progress,
    onNotice: (message) => cb.onEvent?.({ type: 'notice', message }),
    signal: control.signal,
  });
  const backbone = model.params;
  // The first seed's final model, kept for the analyses after the protocol (a closure sets it).
  const kept: { first: { seed: number; params: ParamSet; test: TestResult; epochs: EpochMetrics[] } | null } = { first: null };
  try {
    const config = resolvePromptLength(requested, model.cfg);
    const splits = protocolSplits(await openSplits(config, { host, onProgress: progress }));
    const normalization = { mean: model.cfg.mean, std: model.cfg.std };
    const dataFor = (stage: 'search' | 'final'): TrainData =>
      trainDataFromSplits(stage === 'search' ? splits.search : splits.final, { imageSize: model.cfg.imageSize, normalization, skipBad: config.skipBad });
    let data: { stage: 'search' | 'final'; data: TrainData } | null = null;
    const baseHyper = hyperOf(config);
    const numClasses = splits.search.task.classes;
    const counts = countParams(model.cfg, backbone, tunedMethod(method, baseHyper), numClasses, config.promptLength);

    const run = async (req: ProtocolRunRequest): Promise<ProtocolRunResult> => {
      // One decoded-image cache per stage: the search's images are dropped before the final runs.
      if (data?.stage !== req.stage) data = { stage: req.stage, data: dataFor(req.stage) };
      const d = data.data;
      // Where this run sits in the protocol, as every progress event reports it.
      const stage: PaperStage = { stage: req.stage, index: req.index, of: req.of, lr: req.lr, wd: req.wd, seed: req.seed };
      if (d.train.size === 0) throw new LabError('data/too-few-items', 'The training split is empty.', 'Choose a train size of at least one batch.');
      cb.onPaperEvent?.({
        type: 'run-start',
        ...stage,
        trainSize: d.train.size,
        valSize: d.val.size,
        testSize: d.test.size,
      });
      const t0 = performance.now();
      const epochsSoFar: EpochMetrics[] = [];
      let outcome: TrainOutcome;
      try {
        outcome = await train({
          cfg: model.cfg,
          backbone,
          kernels: model.kernels,
          method,
          data: d,
          hyper: { ...baseHyper, lr: req.lr, weightDecay: req.wd, seed: req.seed },
          control,
          emit: (e) => {
            if (e.type === 'epoch') epochsSoFar.push(e.metrics);
            cb.onEvent?.(e);
          },
          stopAfterEpoch: req.stopAfterEpoch ? (m) => req.stopAfterEpoch!(m.trainLoss) : undefined,
        });
      } catch (err) {
        // A search point whose loss stopped being finite is a diverged point (the reference skips
        // such runs), not the end of the protocol; a final run that diverges is.
        if (req.stage !== 'search' || !(err instanceof LabError) || err.code !== 'run/diverged') throw err;
        const seconds = (performance.now() - t0) / 1000;
        const curve = [...curveOf(epochsSoFar), { epoch: epochsSoFar.length + 1, trainLoss: NaN, trainAcc: NaN, heldOutAcc: NaN }];
        cb.onPaperEvent?.({
          type: 'run-end',
          ...stage,
          valAcc: NaN,
          stoppedEarly: true,
          seconds,
        });
        return { curve, valAcc: NaN, stoppedEarly: true, seconds };
      }
      const seconds = (performance.now() - t0) / 1000;
      const curve = curveOf(outcome.epochs);
      const result: ProtocolRunResult =
        req.stage === 'search'
          ? { curve, valAcc: outcome.epochs.at(-1)?.valAcc ?? NaN, stoppedEarly: outcome.epochs.length < method.phases.length * config.epochs, seconds }
          : { curve, testAcc: outcome.test.testAcc, numTest: outcome.test.numTest, stoppedEarly: false, seconds };
      if (req.stage === 'final' && !kept.first) kept.first = { seed: req.seed, params: outcome.params, test: outcome.test, epochs: outcome.epochs };
      else disposeRunParams(outcome.params, backbone);
      cb.onPaperEvent?.({
        type: 'run-end',
        ...stage,
        valAcc: result.valAcc,
        testAcc: result.testAcc,
        stoppedEarly: result.stoppedEarly,
        seconds,
      });
      return result;
    };

    const paper = await runPaperProtocol(
      {
        grid: settings.grid,
        seeds: settings.seeds,
        numClasses,
        searchTrainSize: splits.search.train.length,
        valSize: splits.search.val.length,
        earlyStop: settings.earlyStop,
      },
      run,
    );

    // The why analyses and Grad-CAM read test images, after every final evaluation.
    let why: WhyAnalysis | null = null;
    let gradcam: GradCamSample[] = [];
    const first = kept.first;
    if (first) {
      const finalData = (data as { stage: 'search' | 'final'; data: TrainData } | null)?.data ?? dataFor('final');
      const tuned = { cfg: model.cfg, params: first.params, kernels: model.kernels };
      const opts = { promptMode: method.phases[method.phases.length - 1].promptMode, training: false };
      const images = Math.min(settings.analysisImages ?? 64, finalData.test.size);
      if (images > 0) {
        why = {
          seed: first.seed,
          images,
          cka: await featureSimilarity(tuned, opts, { cfg: model.cfg, params: backbone, kernels: model.kernels }, finalData.test, images),
          promptAttention: await promptAttention(tuned, opts, finalData.test, images),
        };
      }
      if (config.gradcamSamples > 0) gradcam = await gradCamSamples(tuned, finalData, gradcamIndices(finalData.test.size, config.gradcamSamples), opts);
    }
    return {
      config: { ...summaryConfig(config), imageSize: model.cfg.imageSize, lr: paper.chosen.lr, weightDecay: paper.chosen.wd },
      backend: tf.getBackend(),
      trainableParams: counts.trainable,
      totalParams: counts.total,
      paper,
      why,
      gradcam,
      firstTest: first!.test,
      firstEpochs: first!.epochs,
      numClasses,
    };
  } finally {
    if (kept.first) disposeRunParams(kept.first.params, backbone);
    disposeParams(backbone);
  }
}

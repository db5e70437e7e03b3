/** Run records for the store's tests: one small quick FT run, changed field by field. */
import type { EpochMetrics, RunInfo, RunSummary } from '../domain/run';

export const summary = (o: Partial<RunSummary> = {}): RunSummary => ({
  config: {
    runId: 'a',
    modelLabel: 'm',
    taskId: 'synth_count',
    method: 'ft',
    trainSize: 8,
    valSize: 2,
    testSize: 4,
    epochs: 2,
    batchSize: 4,
    promptLength: 2,
    seed: 1,
    imageSize: 0,
    gradcamSamples: 1,
    modelSource: 'bundled:tiny_pretrained',
    dataSource: 'procedural',
  },
  backend: '',
  trainableParams: 0,
  totalParams: 0,
  epochs: [],
  status: 'queued',
  startedAt: 1000,
  notices: [],
  ...o,
});
export const info = (o: Partial<RunInfo> = {}, s: Partial<RunSummary> = {}): RunInfo => ({
  runId: 'a',
  summary: summary(s),
  groupId: 'g1',
  groupLabel: 'group',
  methodLabel: 'Full fine-tuning',
  hasCheckpoint: false,
  ...o,
});
export const epoch = (n: number): EpochMetrics => ({
  epoch: n,
  phase: 1,
  trainLoss: 1 / n,
  trainAcc: 10 * n,
  valAcc: 5 * n,
  seconds: 1,
  lr: 0.1,
  numTensors: 10,
  numBytes: 100,
});

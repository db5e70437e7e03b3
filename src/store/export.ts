/**
 * Results as files: every run as JSON (summaries with their setup and every epoch), a CSV with
 * one row per run. Grad-CAM pixels and checkpoints are not exported.
 */
import type { RunSummary } from '../domain/run';
import type { LabState } from './state';

export interface ExportedRun {
  runId: string;
  group: string;
  method: string;
  methodLabel: string;
  summary: RunSummary;
}

export interface ExportFile {
  app: 'vpt-vs-ft-lab';
  version: 1;
  exportedAt: string;
  runs: ExportedRun[];
}

export function exportRuns(state: Pick<LabState, 'runs' | 'order'>): ExportFile {
  return {
    app: 'vpt-vs-ft-lab',
    version: 1,
    exportedAt: new Date().toISOString(),
    runs: state.order
      .map((id) => state.runs[id])
      .filter((r) => !!r)
      .map((r) => ({ runId: r.summary.config.runId, group: r.groupLabel, method: r.summary.config.method, methodLabel: r.methodLabel, summary: r.summary })),
  };
}

const CSV_COLUMNS = [
  'runId', 'status', 'task', 'method', 'model', 'data', 'trainSize', 'valSize', 'testSize', 'epochs', 'batchSize', 'lr', 'promptLength', 'seed',
  'imageSize', 'backend', 'trainableParams', 'totalParams', 'finalTrainLoss', 'finalValAcc', 'testAcc', 'startedAt', 'finishedAt',
] as const;

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function runsToCsv(state: Pick<LabState, 'runs' | 'order'>): string {
  const rows = exportRuns(state).runs.map(({ summary: s }) => {
    const last = s.epochs.at(-1);
    const c = s.config;
    const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      runId: c.runId, status: s.status, task: c.taskId, method: c.method, model: c.modelSource, data: c.dataSource, trainSize: c.trainSize,
      valSize: c.valSize, testSize: c.testSize, epochs: c.epochs, batchSize: c.batchSize, lr: c.lr, promptLength: c.promptLength, seed: c.seed,
      imageSize: c.imageSize, backend: s.backend, trainableParams: s.trainableParams, totalParams: s.totalParams, finalTrainLoss: last?.trainLoss,
      finalValAcc: last?.valAcc, testAcc: s.test?.testAcc, startedAt: new Date(s.startedAt).toISOString(),
      finishedAt: s.finishedAt ? new Date(s.finishedAt).toISOString() : '',
    };
    return CSV_COLUMNS.map((k) => csvCell(row[k])).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

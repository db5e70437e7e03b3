/**
 * Results as files: every run as JSON (summaries with their setup and every epoch), a CSV with
 * one row per run. Grad-CAM pixels and checkpoints are not exported.
 */
import type { RunSummary } from '../domain/run';
import type { LabState } from './state';
import { headlineAcc, takeawayOf } from './selectors';
import type { Sentence } from '../analysis/takeaway';

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
  /** "What this shows" of every group that compares finished methods (analysis/takeaway.ts). */
  whatThisShows: { group: string; sentences: Sentence[] }[];
}

export function exportRuns(state: Pick<LabState, 'runs' | 'order'>): ExportFile {
  const records = state.order.map((id) => state.runs[id]).filter((r) => !!r);
  const groupIds = [...new Set(records.map((r) => r.groupId))];
  return {
    app: 'vpt-vs-ft-lab',
    version: 1,
    exportedAt: new Date().toISOString(),
    runs: state.order
      .map((id) => state.runs[id])
      .filter((r) => !!r)
      .map((r) => ({ runId: r.summary.config.runId, group: r.groupLabel, method: r.summary.config.method, methodLabel: r.methodLabel, summary: r.summary })),
    whatThisShows: groupIds
      .map((g) => records.filter((r) => r.groupId === g))
      .map((runs) => ({ group: runs[0]!.groupLabel, sentences: takeawayOf(runs) }))
      .filter((t) => t.sentences.length > 0),
  };
}

const CSV_COLUMNS = [
  'runId',
  'status',
  'task',
  'method',
  'model',
  'data',
  'protocol',
  'trainSize',
  'valSize',
  'finalTrainSize',
  'testSize',
  'epochs',
  'batchSize',
  'lr',
  'weightDecay',
  'promptLength',
  'seed',
  'seeds',
  'imageSize',
  'backend',
  'trainableParams',
  'totalParams',
  'finalTrainLoss',
  'finalValAcc',
  'testAcc',
  'testStd',
  'seedTestAccs',
  'chance',
  'nearChance',
  'searchRuns',
  'lossRise',
  'startedAt',
  'finishedAt',
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
    const p = s.paper;
    const h = headlineAcc(s);
    // Paper protocol: testAcc is the mean over seeds, lr / weightDecay the values chosen on val,
    // searchRuns every search point as lr/wd:val%, seedTestAccs every seed as seed:test%.
    const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      runId: c.runId,
      status: s.status,
      task: c.taskId,
      method: c.method,
      model: c.modelSource,
      data: c.dataSource,
      protocol: c.protocol ? 'paper' : 'quick',
      trainSize: c.trainSize,
      valSize: c.valSize,
      finalTrainSize: p ? p.finalTrainSize : c.trainSize,
      testSize: c.testSize,
      epochs: c.epochs,
      batchSize: c.batchSize,
      lr: c.lr,
      weightDecay: c.weightDecay,
      promptLength: c.promptLength,
      seed: c.seed,
      seeds: p ? p.final.map((f) => f.seed).join(';') : c.seed,
      imageSize: c.imageSize,
      backend: s.backend,
      trainableParams: s.trainableParams,
      totalParams: s.totalParams,
      finalTrainLoss: last?.trainLoss,
      finalValAcc: p ? p.chosen.valAcc : last?.valAcc,
      testAcc: p ? p.mean : s.test?.testAcc,
      testStd: p && Number.isFinite(p.std) ? p.std : '',
      seedTestAccs: p ? p.final.map((f) => `${f.seed}:${f.testAcc}`).join(';') : '',
      chance: h?.chance ?? '',
      nearChance: h ? h.nearChance : '',
      searchRuns: p ? p.search.map((r) => `${r.lr}/${r.wd}:${Number.isFinite(r.valAcc) ? r.valAcc : 'NaN'}${r.diverged ? '(diverged)' : ''}`).join(';') : '',
      // Where the loss first rose (train/divergence.ts), as kind@epoch: loss / reference.
      lossRise: s.lossRise ? `${s.lossRise.kind}@${s.lossRise.epoch}: ${s.lossRise.loss.toFixed(4)} / ${s.lossRise.reference.toFixed(4)}` : '',
      startedAt: new Date(s.startedAt).toISOString(),
      finishedAt: s.finishedAt ? new Date(s.finishedAt).toISOString() : '',
    };
    return CSV_COLUMNS.map((k) => csvCell(row[k])).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

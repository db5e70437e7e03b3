/**
 * The miniature study's paper-protocol results as Markdown: the accuracy table (mean ± std over
 * seeds, the chosen learning rate, results within noise of chance marked) and the "why" table
 * (CKA to the pretrained features per layer, and the generalisation gap of the chosen search run).
 */
import { getTask } from '../data/catalog';
import type { MethodId } from '../domain/run';
import { METHODS } from '../train/methods';
import type { FinalRun, HyperGrid, SearchRun } from '../train/paper';
import type { WhyAnalysis } from '../train/paperSession';

/** One task × size × method of a paper-protocol study: what `npm run study -- --protocol paper` records. */
export interface PaperRow {
  taskId: string;
  method: MethodId;
  /** Search stage: train and validation images; the final runs train on both. */
  trainSize: number;
  valSize: number;
  finalTrainSize: number;
  epochs: number;
  promptLength: number;
  grid: HyperGrid;
  search: SearchRun[];
  chosen: { lr: number; wd: number; valAcc: number };
  final: FinalRun[];
  mean: number;
  std: number;
  chance: number;
  nearChance: boolean;
  numTest: number;
  why: WhyAnalysis | null;
  trainableParams: number;
  seconds: number;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** "31.2 ± 1.4" (or "31.2" for one seed), with † when within noise of chance. */
export function meanStdText(r: Pick<PaperRow, 'mean' | 'std' | 'nearChance'>): string {
  return `${fmt(r.mean)}${Number.isFinite(r.std) ? ` ± ${fmt(r.std)}` : ''}${r.nearChance ? ' †' : ''}`;
}

/**
 * The difference of two methods' means, starred when it exceeds two standard errors of the
 * difference over the seeds (sqrt(s₁²/n₁ + s₂²/n₂)); unstarred differences are within the noise.
 */
export function differenceText(a: Pick<PaperRow, 'mean' | 'std' | 'final'>, b: Pick<PaperRow, 'mean' | 'std' | 'final'>): string {
  const d = a.mean - b.mean;
  if (!Number.isFinite(d)) return '—';
  const se = Math.sqrt((a.std ** 2) / a.final.length + (b.std ** 2) / b.final.length);
  const star = Number.isFinite(se) && Math.abs(d) > 2 * se ? '*' : '';
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)}${star}`;
}

/** The generalisation gap of the chosen search run: train accuracy − val accuracy at its last epoch. */
export function chosenGap(r: PaperRow): number {
  const run = r.search.find((s) => s.lr === r.chosen.lr && s.wd === r.chosen.wd);
  const last = run?.curve.at(-1);
  return last ? last.trainAcc - last.heldOutAcc : NaN;
}

function objectiveOf(taskId: string): string {
  const t = getTask(taskId);
  return t.source === 'procedural' ? t.axes.objectiveShift : t.objective;
}

/** The accuracy table: one line per task × size, one column per method. */
export function paperAccuracyTable(rows: readonly PaperRow[], frechet: Record<string, number>): string {
  const tasks = [...new Set(rows.map((r) => r.taskId))];
  const sizes = [...new Set(rows.map((r) => r.trainSize))].sort((a, b) => a - b);
  const methods = [...new Set(rows.map((r) => r.method))];
  const lines = [
    `| task | objective | Fréchet to pretraining | search → final train | ${methods.map((m) => METHODS[m].label).join(' | ')} | VPT-deep − FT |`,
    `|---|---|---:|---:|${methods.map(() => '---:').join('|')}|---:|`,
  ];
  for (const t of tasks) {
    for (const n of sizes) {
      const at = (m: MethodId) => rows.find((r) => r.taskId === t && r.trainSize === n && r.method === m);
      const some = methods.map(at).find(Boolean);
      if (!some) continue;
      const cells = methods.map((m) => {
        const r = at(m);
        return r ? `${meanStdText(r)} (lr ${r.chosen.lr})` : '—';
      });
      const ft = at('ft'), vpt = at('vpt_deep');
      const fd = frechet[t];
      lines.push(`| ${t} | ${objectiveOf(t)} | ${fd === undefined ? '—' : fd.toFixed(1)} | ${some.trainSize} → ${some.finalTrainSize} | ${cells.join(' | ')} | ${ft && vpt ? differenceText(vpt, ft) : '—'} |`);
    }
  }
  return lines.join('\n');
}

/** The why table: CKA to the pretrained backbone per layer, and the chosen search run's gap. */
export function paperWhyTable(rows: readonly PaperRow[]): string {
  const layers = Math.max(0, ...rows.map((r) => r.why?.cka.length ?? 0));
  const head = ['embedding', ...Array.from({ length: Math.max(0, layers - 1) }, (_, i) => `block ${i + 1}`)];
  const lines = [
    `| task | train | method | ${head.map((h) => `CKA ${h}`).join(' | ')} | prompt attention from CLS (mean over blocks) | train − val gap (chosen search run) |`,
    `|---|---:|---|${head.map(() => '---:').join('|')}|---:|---:|`,
  ];
  for (const r of rows) {
    const cka = head.map((_, l) => fmt(r.why?.cka[l] ?? NaN, 3));
    const pa = r.why?.promptAttention;
    const attn = pa ? `${fmt((100 * pa.fromCls.reduce((a, b) => a + b, 0)) / pa.fromCls.length, 0)} % (uniform ${fmt(100 * pa.uniform, 0)} %)` : '—';
    lines.push(`| ${r.taskId} | ${r.trainSize} | ${METHODS[r.method].label} | ${cka.join(' | ')} | ${attn} | ${fmt(chosenGap(r))} |`);
  }
  return lines.join('\n');
}

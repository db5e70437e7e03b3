/**
 * The miniature study's paper-protocol results as Markdown: the accuracy table (mean ± std over
 * seeds, the chosen learning rate, results within noise of chance marked) and the "why" table
 * (CKA to the pretrained features per layer, and the generalisation gap of the chosen search run).
 */
import { TASKS, getTask, publishedAccuracy } from '../data/catalog';
import type { MethodId } from '../domain/run';
import type { PaperOutcome } from '../domain/paper';
import { METHODS } from '../train/methods';
import { meanStd, type FinalRun, type HyperGrid, type SearchRun } from '../train/paper';
import { chooseOnValidation } from '../analysis/compare';
import type { WhyAnalysis } from '../train/paperSession';
import { beyondNoise, type MiniatureStudy } from '../analysis/miniature';

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

/** A paper-protocol outcome as the study records it, with what the outcome does not hold itself. */
export function paperRowOf(
  p: PaperOutcome,
  o: Pick<PaperRow, 'taskId' | 'method' | 'epochs' | 'promptLength' | 'why' | 'trainableParams' | 'seconds'>,
): PaperRow {
  const { searchTrainSize, valSize, finalTrainSize, grid, search, chosen, final, mean, std, chance, nearChance, numTest } = p;
  return { ...o, trainSize: searchTrainSize, valSize, finalTrainSize, grid, search, chosen, final, mean, std, chance, nearChance, numTest };
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
export function differenceText(
  a: { mean: number; std: number; final: readonly unknown[] },
  b: { mean: number; std: number; final: readonly unknown[] },
): string {
  const d = a.mean - b.mean;
  if (!Number.isFinite(d)) return '—';
  const star = beyondNoise({ mean: a.mean, std: a.std, n: a.final.length }, { mean: b.mean, std: b.std, n: b.final.length }) ? '*' : '';
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
  const { tasks, sizes, methods } = axesOf(rows);
  const lines = [
    `| task | objective | Fréchet to pretraining | search → final train | ${methods.map((m) => METHODS[m].label).join(' | ')} | VPT-deep − FT | best |`,
    `|---|---|---:|---:|${methods.map(() => '---:').join('|')}|---:|---|`,
  ];
  for (const t of tasks) {
    for (const n of sizes) {
      const at = (m: MethodId) => rows.find((r) => r.taskId === t && r.trainSize === n && r.method === m);
      const some = methods.map(at).find(Boolean);
      if (!some) continue;
      const cells = methods.map((m) => {
        const r = at(m);
        return r ? `${meanStdText(r)} (lr ${r.chosen.lr})${publishedText(t, m)}` : '—';
      });
      const ft = at('ft'),
        vpt = at('vpt_deep');
      const fd = frechet[t];
      const best = winnerText(
        methods.flatMap((m) => {
          const r = at(m);
          return r ? [{ method: m, mean: r.mean, std: r.std, n: r.final.length }] : [];
        }),
      );
      lines.push(
        `| ${t} | ${objectiveOf(t)} | ${fd === undefined ? '—' : fd.toFixed(1)} | ${some.trainSize} → ${some.finalTrainSize} | ${cells.join(' | ')} | ${ft && vpt ? differenceText(vpt, ft) : '—'} | ${best} |`,
      );
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
  const { tasks, methods } = axesOf(rows);
  const ordered = [...rows].sort(
    (a, b) => tasks.indexOf(a.taskId) - tasks.indexOf(b.taskId) || a.trainSize - b.trainSize || methods.indexOf(a.method) - methods.indexOf(b.method),
  );
  for (const r of ordered) {
    const cka = head.map((_, l) => fmt(r.why?.cka[l] ?? NaN, 3));
    const pa = r.why?.promptAttention;
    const attn = pa ? `${fmt((100 * pa.fromCls.reduce((a, b) => a + b, 0)) / pa.fromCls.length, 0)} % (uniform ${fmt(100 * pa.uniform, 0)} %)` : '—';
    lines.push(`| ${r.taskId} | ${r.trainSize} | ${METHODS[r.method].label} | ${cka.join(' | ')} | ${attn} | ${fmt(chosenGap(r))} |`);
  }
  return lines.join('\n');
}

/**
 * Methods in the order the tables show them: the paper's comparison first (FT, VPT-deep), then
 * the linear probe and the other prompt variants.
 */
const METHOD_ORDER: readonly MethodId[] = ['ft', 'vpt_deep', 'linear', 'vpt_shallow', 'mixed', 'ft_then_pt'];

/**
 * The tasks (catalog order: VTAB-1k's Natural, Specialized, Structured, then the procedural
 * tasks), sizes and methods of some results, each in a fixed order, so a table does not depend
 * on the order its results were read in (shards, folders, reports).
 */
export function axesOf(rows: readonly { taskId: string; trainSize: number; method: MethodId }[]): { tasks: string[]; sizes: number[]; methods: MethodId[] } {
  const tasks = new Set(rows.map((r) => r.taskId)),
    methods = new Set(rows.map((r) => r.method));
  return {
    tasks: TASKS.map((t) => t.id).filter((id) => tasks.has(id)),
    sizes: [...new Set(rows.map((r) => r.trainSize))].sort((a, b) => a - b),
    methods: METHOD_ORDER.filter((m) => methods.has(m)),
  };
}

/** " [paper 78.8]": the Elephant paper's number for the method on a VTAB-1k task, else the VPT paper's. */
export function publishedText(taskId: string, method: MethodId): string {
  const t = getTask(taskId);
  if (t.source !== 'vtab') return '';
  const p = publishedAccuracy(t, method);
  const v = p.elephantPaper ?? p.vptPaper;
  return v === undefined ? '' : ` [paper ${fmt(v)}]`;
}

/**
 * The method with the best mean test accuracy, starred (*) when its lead over the runner-up
 * exceeds two standard errors of the difference; without a star the lead is within the noise.
 */
export function winnerText(results: readonly { method: MethodId; mean: number; std: number; n: number }[]): string {
  const ranked = results.filter((r) => Number.isFinite(r.mean)).sort((a, b) => b.mean - a.mean);
  const [first, second] = ranked;
  if (!first) return '—';
  if (!second) return METHODS[first.method].label;
  if (first.mean === second.mean) return 'tie';
  const se = Math.sqrt(first.std ** 2 / first.n + second.std ** 2 / second.n);
  const star = Number.isFinite(se) && first.mean - second.mean > 2 * se ? '*' : '';
  return `${METHODS[first.method].label}${star}`;
}

/** One quick-protocol run, as the quick table needs it. */
export interface QuickRow {
  taskId: string;
  method: MethodId;
  trainSize: number;
  seed: number;
  testAcc: number;
  valAcc: number;
  /** Base learning rate (undefined = the method's default). */
  lr?: number;
}

/**
 * The quick protocol's table: one line per task × train size, one column per method with the
 * test accuracy's mean ± std over seeds (and the published number on VTAB-1k tasks), the VPT-deep
 * − FT difference and the best method. Where runs at several learning rates exist, the rate
 * with the best mean validation accuracy is the one shown, as the paper chooses.
 */
export function quickAccuracyTable(rows: readonly QuickRow[], frechet: Record<string, number>): string {
  const { tasks, sizes, methods } = axesOf(rows);
  const lines = [
    `| task | objective | Fréchet to pretraining | train size | ${methods.map((m) => METHODS[m].label).join(' | ')} | VPT-deep − FT | best |`,
    `|---|---|---:|---:|${methods.map(() => '---:').join('|')}|---:|---|`,
  ];
  for (const t of tasks) {
    for (const n of sizes) {
      const at = (m: MethodId) => {
        const runs = rows.filter((r) => r.taskId === t && r.trainSize === n && r.method === m);
        const setting = (r: QuickRow) => (r.lr === undefined ? '' : String(r.lr));
        const chosen = chooseOnValidation(runs.map((r) => ({ setting: setting(r), valAcc: r.valAcc, testAcc: r.testAcc })));
        if (!chosen) return null;
        const seeds = runs.filter((r) => setting(r) === chosen.setting).sort((a, b) => a.seed - b.seed);
        const { mean, std } = meanStd(seeds.map((r) => r.testAcc));
        return { method: m, mean, std, n: seeds.length, final: seeds, lr: chosen.setting };
      };
      const results = methods.map(at);
      if (!results.some(Boolean)) continue;
      const cells = results.map((r, i) =>
        r ? `${meanStdText({ mean: r.mean, std: r.std, nearChance: false })}${r.lr ? ` (lr ${r.lr})` : ''}${publishedText(t, methods[i])}` : '—',
      );
      const ft = at('ft'),
        vpt = at('vpt_deep');
      const fd = frechet[t];
      const gap = ft && vpt ? differenceText(vpt, ft) : '—';
      lines.push(
        `| ${t} | ${objectiveOf(t)} | ${fd === undefined ? '—' : fd.toFixed(1)} | ${n} | ${cells.join(' | ')} | ${gap} | ${winnerText(results.filter((r) => r !== null))} |`,
      );
    }
  }
  return lines.join('\n');
}

/** A paper-protocol study as the page's teaching text reads it (src/data/miniature-studies.json). */
export function miniatureStudyOf(model: string, sources: readonly string[], rows: readonly PaperRow[]): MiniatureStudy {
  const { tasks, sizes, methods } = axesOf(rows);
  const ordered = tasks.flatMap((t) => sizes.flatMap((n) => methods.flatMap((m) => rows.filter((r) => r.taskId === t && r.trainSize === n && r.method === m))));
  return {
    model,
    sources: [...sources],
    rows: ordered.map((r) => ({
      task: r.taskId,
      size: r.trainSize,
      method: r.method,
      // Unrounded: the README's differences must round as the tables' do.
      mean: r.mean,
      std: Number.isFinite(r.std) ? r.std : 0,
      n: r.final.length,
      nearChance: r.nearChance,
    })),
  };
}

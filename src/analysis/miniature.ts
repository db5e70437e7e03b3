/**
 * What the miniature study showed for a bundled model, in sentences generated from its numbers
 * only: VPT-deep against full fine-tuning and the linear probe per training size, and whether
 * FT's lead grows with data as in the paper. The page's teaching text and docs/study.md read the
 * same numbers: `src/data/miniature-studies.json`, written by `npm run study -- --table <files>
 * --findings <model>` from the study's results in docs/ (a test checks the two agree).
 * Browser-safe and pure.
 */
import { getTask } from '../data/catalog';
import type { MethodId } from '../domain/run';

/** One task × size × method of a paper-protocol study, as much as the sentences need. */
export interface MiniatureRow {
  task: string;
  /** Search-stage training images (the final runs add the validation images). */
  size: number;
  method: MethodId;
  /** Test accuracy (%), mean and standard deviation over `n` seeds. */
  mean: number;
  std: number;
  n: number;
  /** Within noise of chance (below chance + 2 binomial standard errors). */
  nearChance: boolean;
}

/** One model's study: where its numbers came from, and the rows. */
export interface MiniatureStudy {
  model: string;
  /** The results files in docs/ the rows were read from. */
  sources: string[];
  rows: MiniatureRow[];
}

/** A comparison of two methods on one task and size: the difference and whether it exceeds 2 SE. */
export interface Duel {
  task: string;
  size: number;
  diff: number;
  beyondNoise: boolean;
}

/** A method's test accuracy over seeds: mean, standard deviation and the number of seeds. */
export type SeedMean = Pick<MiniatureRow, 'mean' | 'std' | 'n'>;

/** `a` − `b`; means over the same test images can be equal but for the float sum's last bit: a tie is a tie. */
function meanDiff(a: SeedMean, b: SeedMean): number {
  return Math.round((a.mean - b.mean) * 1e9) / 1e9 || 0;
}

/** The study's one rule for noise: a difference beyond two standard errors of the two means over seeds. */
export function beyondNoise(a: SeedMean, b: SeedMean): boolean {
  const se = Math.sqrt((a.n > 1 ? a.std ** 2 / a.n : 0) + (b.n > 1 ? b.std ** 2 / b.n : 0));
  // One seed has no spread to judge by: nothing is beyond noise.
  return a.n > 1 && b.n > 1 && Number.isFinite(se) && Math.abs(meanDiff(a, b)) > 2 * se;
}

export function duel(a: MiniatureRow, b: MiniatureRow): Duel {
  return { task: a.task, size: a.size, diff: meanDiff(a, b), beyondNoise: beyondNoise(a, b) };
}

/** Every task of one size where both methods ran: `a` − `b`. */
export function duels(rows: readonly MiniatureRow[], size: number, a: MethodId, b: MethodId): Duel[] {
  const at = (t: string, m: MethodId) => rows.find((r) => r.task === t && r.size === size && r.method === m);
  const tasks = [...new Set(rows.filter((r) => r.size === size).map((r) => r.task))];
  return tasks.flatMap((t) => {
    const x = at(t, a),
      y = at(t, b);
    return x && y ? [duel(x, y)] : [];
  });
}

/** The counts the sentences state (and the targets name), per size. */
export interface MiniatureCounts {
  size: number;
  tasks: number;
  vptAheadOfFt: number;
  vptAheadOfFtBeyondNoise: string[];
  ftAheadOfVptBeyondNoise: string[];
  vptAtLeastLinear: number;
}

export function miniatureCounts(study: MiniatureStudy): MiniatureCounts[] {
  const sizes = [...new Set(study.rows.map((r) => r.size))].sort((a, b) => a - b);
  return sizes.map((size) => {
    const vf = duels(study.rows, size, 'vpt_deep', 'ft');
    const vl = duels(study.rows, size, 'vpt_deep', 'linear');
    return {
      size,
      tasks: vf.length,
      vptAheadOfFt: vf.filter((d) => d.diff > 0).length,
      vptAheadOfFtBeyondNoise: vf.filter((d) => d.diff > 0 && d.beyondNoise).map((d) => d.task),
      ftAheadOfVptBeyondNoise: vf.filter((d) => d.diff < 0 && d.beyondNoise).map((d) => d.task),
      vptAtLeastLinear: vl.filter((d) => d.diff >= 0).length,
    };
  });
}

/** FT − VPT-deep at the largest size against the smallest, per task with both: did FT's lead grow? */
export function leadGrowth(study: MiniatureStudy): { grew: string[]; tasks: number; small: number; large: number } | null {
  const sizes = [...new Set(study.rows.map((r) => r.size))].sort((a, b) => a - b);
  if (sizes.length < 2) return null;
  const small = sizes[0]!,
    large = sizes.at(-1)!;
  const lead = (size: number) => new Map(duels(study.rows, size, 'ft', 'vpt_deep').map((d) => [d.task, d.diff]));
  const s = lead(small),
    l = lead(large);
  const tasks = [...s.keys()].filter((t) => l.has(t));
  return { grew: tasks.filter((t) => l.get(t)! > s.get(t)!), tasks: tasks.length, small, large };
}

const names = (ids: readonly string[]) => ids.map((id) => getTask(id).name).join(', ');
const of = (k: number, n: number) => `${k} of ${n}`;

/** The sentences: one per size, then the data-size one; each number comes from `study`. */
export function miniatureSentences(study: MiniatureStudy): string[] {
  const out: string[] = [];
  for (const c of miniatureCounts(study)) {
    const beyond = c.vptAheadOfFtBeyondNoise.length ? `, beyond noise on ${names(c.vptAheadOfFtBeyondNoise)}` : ', none of them beyond noise';
    const behind = c.ftAheadOfVptBeyondNoise.length ? ` Full fine-tuning is ahead beyond noise on ${of(c.ftAheadOfVptBeyondNoise.length, c.tasks)}.` : '';
    out.push(
      `At ${c.size} training images, VPT-deep is ahead of full fine-tuning on ${of(c.vptAheadOfFt, c.tasks)} tasks${c.vptAheadOfFt ? beyond : ''}.${behind} ` +
        `VPT-deep matches or beats the linear probe on ${of(c.vptAtLeastLinear, c.tasks)}.`,
    );
  }
  const g = leadGrowth(study);
  if (g)
    out.push(
      g.grew.length * 2 > g.tasks
        ? `Full fine-tuning's lead over VPT-deep grows from ${g.small} to ${g.large} images on ${of(g.grew.length, g.tasks)} tasks, as the paper found when data grow.`
        : `Full fine-tuning's lead over VPT-deep grows from ${g.small} to ${g.large} images on only ${of(g.grew.length, g.tasks)} tasks: the paper's data-size trend does not show here.`,
    );
  return out;
}

const signed = (d: Duel | undefined) => (d ? `${d.diff >= 0 ? '+' : ''}${d.diff.toFixed(1)}${d.beyondNoise ? '*' : ''}` : '—');

/**
 * The README's side-by-side table: VPT-deep − FT and VPT-deep − linear probe per task, one column
 * per model and size (a test keeps the README's copy equal to this).
 */
export function sideBySideTable(studies: readonly MiniatureStudy[]): string {
  const columns = studies.flatMap((s) => [...new Set(s.rows.map((r) => r.size))].sort((a, b) => a - b).map((size) => ({ s, size })));
  const tasks = [...new Set(studies.flatMap((s) => s.rows.map((r) => r.task)))];
  const head = (what: string) => columns.map(({ s, size }) => `${what}, ${s.model} ${size}`);
  const lines = [
    `| task | ${[...head('VPT-deep − FT'), ...head('VPT-deep − linear')].join(' | ')} |`,
    `|---|${columns.map(() => '---:|').join('')}${columns.map(() => '---:|').join('')}`,
  ];
  for (const t of tasks) {
    const cell = (s: MiniatureStudy, size: number, other: MethodId) => signed(duels(s.rows, size, 'vpt_deep', other).find((d) => d.task === t));
    lines.push(`| ${t} | ${[...columns.map(({ s, size }) => cell(s, size, 'ft')), ...columns.map(({ s, size }) => cell(s, size, 'linear'))].join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * "What this shows": the takeaway of a finished comparison in plain sentences, generated from the
 * measured values only. Pure: plain numbers in, sentences out, so the page, the presentation view,
 * the exports and the tests all say the same, and a new finding (the miniature model's own, once
 * measured) is one more sentence kind here.
 *
 * The sentences, in the order a student should read them:
 *   winner  which method reached the higher test accuracy, and by how many points;
 *   noise   whether that margin is beyond noise: the seeds' spread when there are several seeds,
 *           else the binomial standard error of the test set (one seed measures no seed noise);
 *   chance  a method within noise of chance level learned nothing measurable;
 *   rise    a method whose loss rose trained at a learning rate too high to speak for the method;
 *   paper   what Han et al. (ICLR 2024) found for the matching VTAB-1k task and its group, and
 *           whether this run agrees, disagrees, or cannot tell;
 *   why     one line from what was measured: the train − validation gap, CKA to the pretrained
 *           features where computed, the CLS token's attention on prompts;
 *   limits  exactly what the run cannot speak to: a model other than the paper's, one seed, a
 *           margin within noise, far fewer epochs.
 */
import { GROUP_DESCRIPTIONS, VTAB_TASKS, getTask, type TaskGroup, type VtabTask } from '../data/catalog';
import type { MethodId } from '../domain/run';

/** One method's measured result, as the takeaway needs it. */
export interface MethodResult {
  method: MethodId;
  label: string;
  /** Its side in the paper's question (train/methods.ts `side`). */
  side: 'ft' | 'vpt' | null;
  /** Test accuracy (%): the mean over seeds, or the one run's. */
  testAcc: number;
  /** Every seed's test accuracy (%); one entry for a quick run. */
  seedAccs: number[];
  /** Test images each accuracy was measured on. */
  numTest: number;
  /** Last epoch's training and validation accuracy (%), when the run has a validation split. */
  trainAcc?: number;
  valAcc?: number;
  /** The run's loss rose (train/divergence.ts). */
  lossRose: boolean;
  /** Linear CKA to the pretrained features per layer (paper protocol's why analysis), last = last block. */
  cka?: number[];
  /** Per block: share (0–1) of the CLS token's attention on prompts, and what uniform attention would give. */
  clsOnPrompts?: { perBlock: number[]; uniform: number };
}

export interface TakeawayInput {
  taskId: string;
  /** The model: the paper's backbone (ViT-B/16 ImageNet-21k), a miniature (the bundled ones), or another. */
  model: { kind: 'paper' | 'miniature' | 'other'; label: string };
  /** Training images of the runs compared (the final runs' for the paper protocol). */
  trainSize: number;
  epochs: number;
  classes: number;
  results: MethodResult[];
}

export type SentenceKind = 'winner' | 'noise' | 'chance' | 'rise' | 'paper' | 'why' | 'limits';

export interface Sentence {
  kind: SentenceKind;
  text: string;
  /** The same in a few words, for a projector (presentation mode). */
  short: string;
  /** The numbers the sentence states, for tests and exports. */
  values?: Record<string, number | string | boolean>;
}

/** A margin counts as beyond noise above this many standard errors of the difference (about 95 %). */
export const NOISE_Z = 2;
/** The paper's training length (epochs) on VTAB-1k. */
const PAPER_EPOCHS = 100;

const pts = (x: number) => `${x.toFixed(1)} points`;
const pct = (x: number) => `${x.toFixed(1)} %`;

/** Binomial standard error (points) of an accuracy `acc` (%) measured on n images. */
export function binomialSe(acc: number, n: number): number {
  const p = Math.min(1, Math.max(0, acc / 100));
  return 100 * Math.sqrt((p * (1 - p)) / Math.max(1, n));
}

/** Sample standard deviation (n − 1); NaN for fewer than two values. */
function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

/**
 * The standard error of the difference between two results' accuracies: from the seeds' spread
 * (standard error of each mean) when both have several seeds, else from the test set's binomial
 * standard error (treating the two accuracies as independent, which overstates it slightly for
 * one shared test set: the safe side).
 */
export function differenceSe(a: MethodResult, b: MethodResult): { se: number; source: 'seeds' | 'test set' } {
  if (a.seedAccs.length >= 2 && b.seedAccs.length >= 2) {
    const va = sampleStd(a.seedAccs) ** 2 / a.seedAccs.length,
      vb = sampleStd(b.seedAccs) ** 2 / b.seedAccs.length;
    return { se: Math.sqrt(va + vb), source: 'seeds' };
  }
  return { se: Math.hypot(binomialSe(a.testAcc, a.numTest), binomialSe(b.testAcc, b.numTest)), source: 'test set' };
}

/** Within noise of chance: below chance + 2 binomial standard errors of a random guesser (train/paper.ts nearChance). */
function nearChance(acc: number, classes: number, n: number): boolean {
  const chance = 100 / classes;
  return acc < chance + NOISE_Z * binomialSe(chance, n);
}

/** The paper's VTAB-1k task a run's task matches: itself, or the one a procedural task mirrors. */
export function matchingVtabTask(taskId: string): VtabTask {
  const task = getTask(taskId);
  return task.source === 'vtab' ? task : VTAB_TASKS.find((t) => t.id === task.vtabCounterpart)!;
}

/** In Han et al.'s table, on how many tasks of a group VPT is ahead, level, behind FT. */
export function groupTally(group: TaskGroup): { vpt: number; ties: number; tasks: number } {
  const tasks = VTAB_TASKS.filter((t) => t.group === group);
  return {
    vpt: tasks.filter((t) => t.elephantPaper.vpt > t.elephantPaper.full_finetune).length,
    ties: tasks.filter((t) => t.elephantPaper.vpt === t.elephantPaper.full_finetune).length,
    tasks: tasks.length,
  };
}

/** The best result of one side (highest test accuracy), or null. */
function bestOf(results: MethodResult[], side: 'ft' | 'vpt'): MethodResult | null {
  return results.filter((r) => r.side === side).sort((a, b) => b.testAcc - a.testAcc)[0] ?? null;
}

/**
 * The sentences, from the measured values only (nothing is said that the input does not hold).
 * Empty when fewer than two methods finished: a takeaway needs a comparison.
 */
export function takeaway(input: TakeawayInput): Sentence[] {
  const results = [...input.results].sort((a, b) => b.testAcc - a.testAcc);
  if (results.length < 2) return [];
  const out: Sentence[] = [];
  const [first, second] = [results[0]!, results[1]!];
  const margin = first.testAcc - second.testAcc;
  const { se, source } = differenceSe(first, second);
  const beyond = margin > NOISE_Z * se;
  const seeds = Math.min(...results.map((r) => r.seedAccs.length));

  // winner
  out.push({
    kind: 'winner',
    text:
      margin === 0
        ? `${first.label} and ${second.label} tied at ${pct(first.testAcc)} test accuracy.`
        : `${first.label} reached ${pct(first.testAcc)} test accuracy, ${pts(margin)} above ${second.label} (${pct(second.testAcc)})${results.length > 2 ? `, the best of ${results.length} methods` : ''}.`,
    short:
      margin === 0
        ? `${first.label} and ${second.label} tied: ${pct(first.testAcc)}`
        : `${first.label} ${pct(first.testAcc)}, ${second.label} ${pct(second.testAcc)}: ${pts(margin)} ahead`,
    values: { winner: first.method, runnerUp: second.method, margin: Number(margin.toFixed(1)), winnerAcc: first.testAcc, runnerUpAcc: second.testAcc },
  });

  // noise
  const noiseWhat =
    source === 'seeds'
      ? `over ${seeds} seeds, the spread of the seeds puts the difference's standard error at ${pts(se)}`
      : `with one seed each, the only noise measured is the test set's: on ${first.numTest} test images the difference has a binomial standard error of ${pts(se)}`;
  out.push({
    kind: 'noise',
    text: beyond
      ? `That is beyond noise: ${noiseWhat}, and the margin is ${(margin / se).toFixed(1)} times that.`
      : `That is within noise: ${noiseWhat}, so a margin below ${pts(NOISE_Z * se)} could be chance.`,
    short: beyond
      ? `Beyond noise: ${(margin / se).toFixed(1)} × the standard error (${source === 'seeds' ? `${seeds} seeds` : 'test set'})`
      : `Within noise: below ${pts(NOISE_Z * se)} could be chance (${source === 'seeds' ? `${seeds} seeds` : 'test set'})`,
    values: { beyond, se: Number(se.toFixed(2)), source, threshold: Number((NOISE_Z * se).toFixed(1)) },
  });

  // chance
  const chance = 100 / input.classes;
  for (const r of results.filter((r) => nearChance(r.testAcc, input.classes, r.numTest)))
    out.push({
      kind: 'chance',
      text: `${r.label}'s ${pct(r.testAcc)} is within noise of chance (${pct(chance)} for ${input.classes} classes): it learned nothing measurable here.`,
      short: `${r.label} is at chance level (${pct(chance)})`,
      values: { method: r.method, acc: r.testAcc, chance },
    });

  // rise
  for (const r of results.filter((r) => r.lossRose))
    out.push({
      kind: 'rise',
      text: `${r.label}'s training loss rose: its learning rate was too high for this setup, so its accuracy does not show what the method can do (rerun it at a tenth of the rate).`,
      short: `${r.label}'s loss rose: learning rate too high`,
      values: { method: r.method },
    });

  // paper
  const ft = bestOf(results, 'ft'),
    vpt = bestOf(results, 'vpt');
  const vtab = matchingVtabTask(input.taskId);
  const task = getTask(input.taskId);
  const e = vtab.elephantPaper;
  const paperWinner = e.vpt > e.full_finetune ? 'vpt' : e.vpt < e.full_finetune ? 'ft' : 'tie';
  const tally = groupTally(vtab.group);
  const where =
    task.source === 'vtab' ? `On ${vtab.name}` : `This task mirrors VTAB-1k's ${vtab.name} (${vtab.group}: ${GROUP_DESCRIPTIONS[vtab.group]}); there`;
  const found =
    paperWinner === 'tie'
      ? `FT and VPT tied (${pct(e.vpt)})`
      : `${paperWinner === 'vpt' ? 'VPT' : 'full fine-tuning'} ahead, ${pct(Math.max(e.vpt, e.full_finetune))} against ${pct(Math.min(e.vpt, e.full_finetune))}`;
  let verdict = '';
  let verdictShort = '';
  let agrees: boolean | 'unknown' = 'unknown';
  if (ft && vpt) {
    const d = vpt.testAcc - ft.testAcc;
    const dse = differenceSe(vpt, ft).se;
    const yours = Math.abs(d) <= NOISE_Z * dse ? 'tie' : d > 0 ? 'vpt' : 'ft';
    const name = yours === 'vpt' ? 'VPT' : 'full fine-tuning';
    if (yours === 'tie') [verdict, verdictShort] = [' This run cannot say which is ahead: its difference is within noise.', 'this run cannot tell'];
    else if (paperWinner === 'tie') [verdict, verdictShort] = [` This run has ${name} ahead, where the paper found a tie.`, `this run has ${name} ahead`];
    else {
      agrees = yours === paperWinner;
      [verdict, verdictShort] = agrees ? [' This run points the same way.', 'this run agrees'] : [' This run points the other way.', 'this run disagrees'];
    }
  }
  out.push({
    kind: 'paper',
    text: `${where} Han et al. (ICLR 2024, ViT-B/16 pretrained on ImageNet-21k, 800 + 200 images, 100 epochs) found ${found}; across the ${vtab.group} group VPT is ahead on ${tally.vpt} of ${tally.tasks} tasks${tally.ties ? ` (${tally.ties} tied)` : ''}.${verdict}`,
    short: `Paper, ${vtab.name}: ${paperWinner === 'tie' ? 'a tie' : `${paperWinner === 'vpt' ? 'VPT' : 'FT'} ahead, ${Math.max(e.vpt, e.full_finetune).toFixed(1)} vs ${Math.min(e.vpt, e.full_finetune).toFixed(1)} %`}${verdictShort ? ` — ${verdictShort}` : ''}`,
    values: { vtabTask: vtab.id, paperFt: e.full_finetune, paperVpt: e.vpt, groupVptAhead: tally.vpt, groupTasks: tally.tasks, agrees },
  });

  // why
  const why = whyLine(results);
  if (why) out.push(why);

  // limits
  const limits: string[] = [];
  if (input.model.kind === 'miniature')
    limits.push(
      `it ran on ${input.model.label}, a miniature ViT, not the paper's ViT-B/16: the paper's accuracies are not expected to match, and its finding need not carry over`,
    );
  else if (input.model.kind === 'other') limits.push(`it ran on ${input.model.label}, not the paper's ViT-B/16 pretrained on ImageNet-21k`);
  if (seeds < 2) limits.push('one seed per method measures no seed-to-seed variation (the paper protocol with 3 seeds does)');
  if (!beyond) limits.push(`the ${pts(margin)} margin is within noise`);
  if (input.epochs < PAPER_EPOCHS / 4) limits.push(`${input.epochs} epochs instead of the paper's ${PAPER_EPOCHS}`);
  if (limits.length)
    out.push({
      kind: 'limits',
      text: `What this run cannot speak to: ${limits.join('; ')}.`,
      short: `Cannot speak to: ${[
        input.model.kind === 'miniature' ? 'the paper’s model (a miniature)' : input.model.kind === 'other' ? 'the paper’s model' : '',
        seeds < 2 ? 'seed noise (one seed)' : '',
        beyond ? '' : 'a winner (within noise)',
        input.epochs < PAPER_EPOCHS / 4 ? `100 epochs (${input.epochs})` : '',
      ]
        .filter(Boolean)
        .join(' · ')}`,
      values: { miniature: input.model.kind === 'miniature', oneSeed: seeds < 2, withinNoise: !beyond },
    });
  return out;
}

/**
 * One "why" line from what was measured: CKA to the pretrained features where the paper
 * protocol computed it, else the train − validation gap; the CLS token's attention on prompts is
 * added where it was measured. The paper's argument: VPT wins where it keeps the pretrained
 * features, and full fine-tuning overfits few images.
 */
function whyLine(results: MethodResult[]): Sentence | null {
  const ft = bestOf(results, 'ft'),
    vpt = bestOf(results, 'vpt');
  const withCka = results.filter((r) => r.cka?.length);
  const parts: string[] = [];
  const shorts: string[] = [];
  const values: Record<string, number> = {};
  if (ft?.cka?.length && vpt?.cka?.length) {
    const a = ft.cka.at(-1)!,
      b = vpt.cka.at(-1)!;
    values.ftCka = a;
    values.vptCka = b;
    parts.push(
      `the last block's features of ${ft.label} kept a CKA of ${a.toFixed(2)} to the pretrained ones, ${vpt.label}'s ${b.toFixed(2)}${b > a ? ': the prompts left the pretrained features more in place' : ''}`,
    );
    shorts.push(`CKA to pretrained: ${ft.label} ${a.toFixed(2)}, ${vpt.label} ${b.toFixed(2)}`);
  } else if (withCka.length === 1) {
    const r = withCka[0]!;
    values.cka = r.cka!.at(-1)!;
    parts.push(`the last block's features of ${r.label} kept a CKA of ${values.cka.toFixed(2)} to the pretrained ones`);
    shorts.push(`CKA to pretrained: ${r.label} ${values.cka.toFixed(2)}`);
  } else {
    const gaps = results.filter((r) => r.trainAcc !== undefined && r.valAcc !== undefined).map((r) => ({ r, gap: r.trainAcc! - r.valAcc! }));
    if (gaps.length >= 2) {
      gaps.sort((x, y) => y.gap - x.gap);
      const [wide, narrow] = [gaps[0]!, gaps.at(-1)!];
      values.widestGap = wide.gap;
      values.narrowestGap = narrow.gap;
      parts.push(
        `${wide.r.label}'s train − validation gap was ${pts(wide.gap)} (train ${pct(wide.r.trainAcc!)}, validation ${pct(wide.r.valAcc!)}), ${narrow.r.label}'s ${pts(narrow.gap)}${wide.gap - narrow.gap > 10 ? ': training more weights on few images overfits more' : ''}`,
      );
      shorts.push(`Train − validation gap: ${wide.r.label} ${wide.gap.toFixed(1)}, ${narrow.r.label} ${narrow.gap.toFixed(1)} points`);
    }
  }
  const att = vpt?.clsOnPrompts;
  if (vpt && att?.perBlock.length) {
    const last = att.perBlock.at(-1)!;
    values.clsOnPrompts = last;
    parts.push(
      `in ${vpt.label}'s last block the CLS token put ${(100 * last).toFixed(0)} % of its attention on the prompts (uniform attention would put ${(100 * att.uniform).toFixed(0)} %)`,
    );
    shorts.push(`CLS attention on prompts ${(100 * last).toFixed(0)} %`);
  }
  if (!parts.length) return null;
  const text = `Why, from what was measured: ${parts.join('; ')}.`;
  return { kind: 'why', text, short: `Why: ${shorts.join('; ')}`, values };
}

/** Derived views of the store, shared by components and tests. */
import type { CurvePoint } from '../domain/paper';
import type { RunSummary } from '../domain/run';
import { getTask } from '../data/catalog';
import { chanceAccuracy, nearChance } from '../train/paper';
import type { LabState, RunRecord } from './state';
import { takeaway, type MethodResult, type Sentence, type TakeawayInput } from '../analysis/takeaway';
import { METHODS } from '../train/methods';
import { MODEL_OPTIONS } from './setup';

/** The group of runs the live results show: the chosen one, else the latest. */
export function viewedGroupId(s: LabState): string | null {
  if (s.viewGroupId && s.order.some((id) => s.runs[id]?.groupId === s.viewGroupId)) return s.viewGroupId;
  const last = s.order.at(-1);
  return last ? (s.runs[last]?.groupId ?? null) : null;
}

export function runsOfGroup(s: LabState, groupId: string | null): RunRecord[] {
  if (!groupId) return [];
  return s.order.map((id) => s.runs[id]).filter((r): r is RunRecord => !!r && r.groupId === groupId);
}

export function groups(s: LabState): { id: string; label: string; count: number }[] {
  const out = new Map<string, { id: string; label: string; count: number }>();
  for (const id of s.order) {
    const r = s.runs[id];
    if (!r) continue;
    const g = out.get(r.groupId) ?? { id: r.groupId, label: r.groupLabel, count: 0 };
    g.count++;
    out.set(r.groupId, g);
  }
  return [...out.values()];
}

/** Runs finished with a test accuracy. */
export function finishedRuns(s: LabState): RunRecord[] {
  return s.order.map((id) => s.runs[id]).filter((r): r is RunRecord => !!r && r.summary.status === 'done' && !!r.summary.test);
}

/**
 * A run's headline test accuracy: the mean over seeds for a paper-protocol run, the one test
 * accuracy otherwise; with the standard deviation (NaN for one seed or a quick run), the chance
 * level (%) and whether the accuracy is within noise of it (train/paper.ts nearChance).
 */
export function headlineAcc(s: RunSummary): { mean: number; std: number; seeds: number; chance: number; nearChance: boolean } | null {
  if (s.paper) return { mean: s.paper.mean, std: s.paper.std, seeds: s.paper.final.length, chance: s.paper.chance, nearChance: s.paper.nearChance };
  if (!s.test) return null;
  const classes = getTask(s.config.taskId).classes;
  return { mean: s.test.testAcc, std: NaN, seeds: 1, chance: chanceAccuracy(classes), nearChance: nearChance(s.test.testAcc, classes, s.test.numTest) };
}

/**
 * The curve of the search run a paper-protocol run chose (train800 vs val200): its only curve with
 * held-out accuracy, since the final runs train on train + val and read test once at the end.
 */
export function chosenSearchCurve(s: RunSummary): CurvePoint[] {
  const p = s.paper;
  if (!p) return [];
  return p.search.find((r) => r.lr === p.chosen.lr && r.wd === p.chosen.wd)?.curve ?? [];
}

/** The paper's backbone (ViT-B/16 pretrained on ImageNet-21k), in either layout the lab downloads. */
const PAPER_BACKBONES = ['hub:google/vit-base-patch16-224-in21k', 'hub:timm/vit_base_patch16_224.augreg_in21k'];

/** What the takeaway needs to know of a run's model: the paper's, a miniature (bundled), or another. */
function modelKind(source: string): TakeawayInput['model'] {
  if (PAPER_BACKBONES.includes(source)) return { kind: 'paper', label: 'ViT-B/16 (ImageNet-21k)' };
  const option = MODEL_OPTIONS.find((o) => o.value === source);
  if (source.startsWith('bundled:')) return { kind: 'miniature', label: `the ${(option?.label ?? source).replace(/ \(.*\)$/, '').toLowerCase()}` };
  return { kind: 'other', label: option?.label ?? source.replace(/^\w+:/, '') };
}

/** A finished run as the takeaway reads it (analysis/takeaway.ts MethodResult). */
function methodResult(r: RunRecord): MethodResult | null {
  const s = r.summary;
  const h = headlineAcc(s);
  if (!h || s.status !== 'done') return null;
  const p = s.paper;
  const last = p ? chosenSearchCurve(s).at(-1) : undefined;
  const epoch = s.epochs.at(-1);
  const why = p?.why;
  return {
    method: s.config.method,
    label: r.methodLabel,
    side: METHODS[s.config.method].side,
    testAcc: h.mean,
    seedAccs: p ? p.final.map((f) => f.testAcc) : [s.test!.testAcc],
    numTest: p ? p.numTest : s.test!.numTest,
    trainAcc: p ? last?.trainAcc : epoch?.trainAcc,
    valAcc: p ? last?.heldOutAcc : s.config.valSize > 0 ? epoch?.valAcc : undefined,
    lossRose: !!s.lossRise,
    cka: why?.cka,
    clsOnPrompts: why?.promptAttention ? { perBlock: why.promptAttention.fromCls, uniform: why.promptAttention.uniform } : undefined,
  };
}

/**
 * The takeaway's input for a group of runs: one result per method (its latest finished run whose
 * loss did not rise, else its latest finished run), when at least two methods finished on one task
 * and one training size; null otherwise (a sweep's sizes are compared in its own chart).
 */
export function takeawayInput(runs: readonly RunRecord[]): TakeawayInput | null {
  const done = runs.filter((r) => r.summary.status === 'done' && headlineAcc(r.summary));
  if (!done.length) return null;
  const c = done[0]!.summary.config;
  if (done.some((r) => r.summary.config.taskId !== c.taskId || r.summary.config.trainSize !== c.trainSize || r.summary.config.modelSource !== c.modelSource))
    return null;
  const byMethod = new Map<string, RunRecord>();
  for (const r of done) {
    const kept = byMethod.get(r.summary.config.method);
    if (!kept || !r.summary.lossRise || kept.summary.lossRise) byMethod.set(r.summary.config.method, r);
  }
  const results = [...byMethod.values()].map(methodResult).filter((m): m is MethodResult => !!m);
  if (results.length < 2) return null;
  const paper = done[0]!.summary.paper;
  return {
    taskId: c.taskId,
    model: modelKind(c.modelSource),
    trainSize: paper ? paper.finalTrainSize : c.trainSize,
    epochs: c.epochs,
    classes: done[0]!.numClasses ?? getTask(c.taskId).classes,
    results,
  };
}

/** "What this shows" for a group of runs: the sentences (empty until two methods finished). */
export function takeawayOf(runs: readonly RunRecord[]): Sentence[] {
  const input = takeawayInput(runs);
  return input ? takeaway(input) : [];
}

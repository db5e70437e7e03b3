/** Derived views of the store, shared by components and tests. */
import type { CurvePoint } from '../domain/paper';
import type { RunSummary } from '../domain/run';
import { getTask } from '../data/catalog';
import { chanceAccuracy, nearChance } from '../train/paper';
import type { LabState, RunRecord } from './state';

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

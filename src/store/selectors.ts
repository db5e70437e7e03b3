/** Derived views of the store, shared by components and tests. */
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

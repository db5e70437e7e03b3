/**
 * The page's one store (zustand): the state of state.ts, changed only by dispatching events
 * through `reduce`. Components read it through selectors (`useLab(selector)`).
 */
import { useRef } from 'react';
import { create } from 'zustand';
import { reduce, type LabEvent } from './reduce';
import { initialState, type LabState, type RunRecord } from './state';

export const useLab = create<LabState>()(() => initialState());

export function dispatch(e: LabEvent): void {
  useLab.setState((s) => reduce(s, e), true);
}

/** What a run's record holds that changes with every training step, not with its record. */
const LIVE_KEYS = new Set(['step', 'stepLoss', 'timing', 'progress']);

/** Two records alike but for their live step fields. */
function sameRecord(a: RunRecord, b: RunRecord): boolean {
  if (a === b) return true;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!LIVE_KEYS.has(k) && a[k as keyof RunRecord] !== b[k as keyof RunRecord]) return false;
  return true;
}

/**
 * Runs as a view that does not draw steps reads them: the same array until a run's record (its
 * summary, Grad-CAM, stored files...) changes, not at every training step. Without it, every step
 * flush drew the results table, the gallery and the saved runs again, and a busy page stalled.
 */
export function useRunRecords(select: (s: LabState) => RunRecord[]): RunRecord[] {
  const last = useRef<RunRecord[]>([]);
  return useLab((s) => {
    const next = select(s);
    const prev = last.current;
    if (prev.length === next.length && prev.every((r, i) => sameRecord(r, next[i]!))) return prev;
    last.current = next;
    return next;
  });
}

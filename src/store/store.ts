/**
 * The page's one store (zustand): the state of state.ts, changed only by dispatching events
 * through `reduce`. Components read it through selectors (`useLab(selector)`).
 */
import { create } from 'zustand';
import { reduce, type LabEvent } from './reduce';
import { initialState, type LabState } from './state';

export const useLab = create<LabState>()(() => initialState());

export function dispatch(e: LabEvent): void {
  useLab.setState((s) => reduce(s, e), true);
}

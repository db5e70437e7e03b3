/**
 * Colours: Okabe & Ito's colour-blind safe palette, one fixed colour (and dash) per method, so
 * a method keeps its colour in every chart and the gallery.
 */
import type { MethodId } from '../domain/run';

export const METHOD_COLOURS: Record<MethodId, string> = {
  ft: '#D55E00', // vermillion
  vpt_deep: '#0072B2', // blue
  vpt_shallow: '#56B4E9', // sky blue
  linear: '#000000',
  mixed: '#009E73', // bluish green
  ft_then_pt: '#CC79A7', // reddish purple
};

/** Dashes tell lines apart without colour too. */
export const METHOD_DASH: Record<MethodId, string | undefined> = {
  ft: undefined,
  vpt_deep: '6 3',
  vpt_shallow: '2 3',
  linear: '10 4',
  mixed: '4 2 1 2',
  ft_then_pt: '1 2',
};

/**
 * Dashes for a method's second, third, … run in one chart (a rerun, or saved runs compared across
 * tasks and sizes): the colour is the method's, so the dash tells its runs apart. None is a
 * method's own dash, the chance line's (6 4) or solid.
 */
const REPEAT_DASHES: readonly string[] = ['2 2', '12 3 3 3', '8 3 2 3 2 3', '3 6'];

/** The dash of a method's nth run (0-based) in one chart. */
export function runDash(method: MethodId, nth: number): string | undefined {
  return nth === 0 ? METHOD_DASH[method] : REPEAT_DASHES[(nth - 1) % REPEAT_DASHES.length];
}

/** Winner colours in the paper view: FT vermillion, VPT blue (same as the methods). */
export const WINNER_COLOURS = { ft: METHOD_COLOURS.ft, vpt: METHOD_COLOURS.vpt_deep, unknown: '#777777' } as const;

import { describe, expect, it } from 'vitest';
import { niceTicks } from './ticks';

/** A tick step is 1, 2 or 5 times a power of ten. */
function roundStep(ticks: number[]): boolean {
  const step = ticks[1]! - ticks[0]!;
  const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  return [1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6);
}

describe('round axis ticks', () => {
  it('a loss between 1.96 and 2.18 gets 1.9, 2.0, 2.1, 2.2 (not 1.955, 2.04, 2.185)', () => {
    expect(niceTicks(1.96, 2.18)).toEqual([1.9, 2, 2.1, 2.2]);
  });
  it('covers the data with evenly spaced round values, at most the count asked for', () => {
    for (const [lo, hi] of [
      [1.96, 2.18],
      [0.03, 0.12],
      [0.5, 6.2],
      [2.0, 2.1],
      [0.0012, 16.4],
      [1.2, 2.0],
      [-0.4, 0.3],
    ] as const) {
      const t = niceTicks(lo, hi);
      expect(t.length, `${lo}..${hi}`).toBeGreaterThanOrEqual(2);
      expect(t.length, `${lo}..${hi}`).toBeLessThanOrEqual(5);
      expect(t[0]!).toBeLessThanOrEqual(lo);
      expect(t.at(-1)!).toBeGreaterThanOrEqual(hi);
      expect(roundStep(t), `${lo}..${hi}: ${t.join(', ')}`).toBe(true);
      for (const v of t) expect(String(v).replace(/^-?\d+\.?/, '').length, `${v} is written short`).toBeLessThanOrEqual(4);
    }
  });
  it('one value sits between two ticks; no finite data gives no ticks', () => {
    const t = niceTicks(2.1, 2.1);
    expect(t[0]!).toBeLessThan(2.1);
    expect(t.at(-1)!).toBeGreaterThan(2.1);
    expect(niceTicks(NaN, 2)).toEqual([]);
  });
});

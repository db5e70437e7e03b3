/**
 * Axis ticks on round values: evenly spaced by 1, 2 or 5 times a power of ten, from a multiple of
 * the step at or below the data to one at or above it. Recharts' own "nice" ticks for a domain
 * such as [1.9, 2.2] are 1.87, 1.955, 2.04…, which a reader cannot read off at a glance.
 */

const MANTISSAS = [1, 2, 5] as const;

/** Round-valued ticks covering [min, max], at most `most` of them (at least two); [] without finite data. */
export function niceTicks(min: number, max: number, most = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  // One value (or all equal): a range around it, so the line sits between two ticks.
  if (max - min < 1e-12) {
    const pad = Math.abs(min) > 1e-12 ? Math.abs(min) * 0.05 : 0.5;
    [min, max] = [min - pad, max + pad];
  }
  const most1 = Math.max(2, most);
  const span = max - min;
  let power = Math.floor(Math.log10(span / (most1 - 1))) - 1;
  for (;;) {
    for (const m of MANTISSAS) {
      const step = m * 10 ** power;
      const lo = Math.floor(min / step + 1e-9);
      const hi = Math.ceil(max / step - 1e-9);
      if (hi - lo + 1 <= most1) return Array.from({ length: hi - lo + 1 }, (_, i) => Number(((lo + i) * step).toPrecision(12)));
    }
    power += 1;
  }
}

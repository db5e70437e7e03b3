/** Point labels placed without overlaps (the "When does VPT win?" chart). */
import { describe, expect, it } from 'vitest';
import { overlaps, placeLabels, type LabelAnchor } from './labelPlacement';

const bounds = { left: 0, top: 0, right: 400, bottom: 300 };
const anchor = (id: string, x: number, y: number, width = 120, height = 14): LabelAnchor => ({ id, x, y, width, height });

describe('label placement', () => {
  it('keeps a label beside its point when nothing is in the way', () => {
    const [a] = placeLabels([anchor('a', 50, 100)], bounds);
    expect(a).toEqual({ id: 'a', x: 58, y: 93, width: 120, height: 14, moved: false });
  });

  it('nudges labels of points at nearly the same place apart, with a leader line, none overlapping', () => {
    const anchors = Array.from({ length: 7 }, (_, i) => anchor(`t${i}`, 100 + i * 3, 150 + (i % 3) * 2));
    const placed = placeLabels(anchors, bounds);
    expect(placed).toHaveLength(7);
    for (let i = 0; i < placed.length; i++) for (let j = i + 1; j < placed.length; j++) expect(overlaps(placed[i]!, placed[j]!)).toBe(false);
    // Nor does a label cover a point.
    for (const p of placed) for (const a of anchors) expect(overlaps(p, { x: a.x - 8, y: a.y - 8, width: 16, height: 16 })).toBe(false);
    expect(placed.filter((p) => p.moved).length).toBeGreaterThan(0);
    // Every label stays inside the plot.
    for (const p of placed) {
      expect(p.y).toBeGreaterThanOrEqual(0);
      expect(p.y + p.height).toBeLessThanOrEqual(300);
    }
  });

  it('puts a label left of its point where the right edge would cut it', () => {
    const [a] = placeLabels([anchor('a', 350, 100)], bounds);
    expect(a!.x + a!.width).toBeLessThanOrEqual(350);
  });
});

/**
 * Point labels that do not overlap: each label goes to the right of its point (or to the left
 * where the right edge would cut it), at the point's height when that place is free, else nudged
 * up or down a line at a time to the nearest free place, with a leader line back to its point.
 * Greedy, top to bottom: enough for the twenty-odd tasks of a chart. Pure (pixel boxes in, boxes out).
 */

export interface LabelAnchor {
  id: string;
  /** The point, in px. */
  x: number;
  y: number;
  /** The label's size in px. */
  width: number;
  height: number;
}

export interface PlacedLabel {
  id: string;
  /** The label's box: left, top (px). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** The box sits away from its point's height: draw a leader line. */
  moved: boolean;
}

export interface Bounds {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Whether two boxes overlap (touching edges do not). */
export function overlaps(a: Pick<PlacedLabel, 'x' | 'y' | 'width' | 'height'>, b: Pick<PlacedLabel, 'x' | 'y' | 'width' | 'height'>): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** How far the nudging looks, in lines, up and down. */
const MAX_LINES = 12;

/**
 * `markerRadius`: the points' markers are in the way too (a label never covers another point).
 */
export function placeLabels(anchors: LabelAnchor[], bounds: Bounds, gap = 8, markerRadius = 8): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  const markers = anchors.map((a) => ({ x: a.x - markerRadius, y: a.y - markerRadius, width: 2 * markerRadius, height: 2 * markerRadius }));
  const free = (box: Omit<PlacedLabel, 'id' | 'moved'>) => !placed.some((p) => overlaps(p, box)) && !markers.some((m) => overlaps(m, box));
  const order = [...anchors].sort((a, b) => a.y - b.y || a.x - b.x);
  for (const a of order) {
    // Right of the point, else left of it; a side that the plot's edges cut is not tried.
    const sides = [a.x + gap, a.x - gap - a.width].filter((x) => x >= bounds.left && x + a.width <= bounds.right);
    if (!sides.length) sides.push(Math.max(bounds.left, Math.min(a.x + gap, bounds.right - a.width)));
    const home = a.y - a.height / 2;
    const clampY = (y: number) => Math.min(Math.max(y, bounds.top), bounds.bottom - a.height);
    let best: PlacedLabel | null = null;
    // The point's own height first (either side), then one line down, one up, two down, ...: the nearest free place.
    for (let i = 0; i <= 2 * MAX_LINES && !best; i++) {
      const step = Math.ceil(i / 2) * (i % 2 ? 1 : -1);
      const y = clampY(home + step * (a.height + 1));
      for (const x of sides) {
        const box = { x, y, width: a.width, height: a.height };
        if (free(box)) {
          best = { id: a.id, ...box, moved: false };
          break;
        }
      }
    }
    // Nowhere free within reach (a crowded chart): the point's height, overlapping.
    const box = best ?? { id: a.id, x: sides[0]!, y: clampY(home), width: a.width, height: a.height, moved: false };
    box.moved = Math.abs(box.y - home) > a.height / 2;
    placed.push(box);
  }
  return placed;
}

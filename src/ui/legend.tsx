/**
 * The charts' legend, drawn by the page instead of recharts: dark text on white (recharts colours
 * a legend entry's text with its series colour, 3.6:1 for the FT orange and 1.1:1 for a hollow
 * marker's white fill), and the same swatch markup on the page and in the exported PNG.
 */
export type Marker = 'line' | 'circle' | 'hollow' | 'diamond' | 'star' | 'band';

export interface LegendItem {
  label: string;
  colour: string;
  marker: Marker;
  /** SVG stroke-dasharray of a line marker. */
  dash?: string;
}

/** Star (5 points) of outer radius r around (cx, cy), as an SVG path. */
export function starPath(cx: number, cy: number, r: number): string {
  const pts: string[] = [];
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const rr = i % 2 ? r * 0.45 : r;
    pts.push(`${(cx + rr * Math.cos(a)).toFixed(2)},${(cy + rr * Math.sin(a)).toFixed(2)}`);
  }
  return `M${pts.join('L')}Z`;
}

/** A 24 × 14 swatch as SVG markup (the page and the PNG share it). */
export function legendSwatchSvg(item: LegendItem): string {
  const c = item.colour;
  switch (item.marker) {
    case 'line':
      return `<line x1="1" y1="7" x2="23" y2="7" stroke="${c}" stroke-width="3"${item.dash ? ` stroke-dasharray="${item.dash}"` : ''}/><circle cx="12" cy="7" r="3" fill="${c}"/>`;
    case 'circle':
      return `<circle cx="12" cy="7" r="5.5" fill="${c}"/>`;
    case 'hollow':
      return `<circle cx="12" cy="7" r="5" fill="#fff" stroke="${c}" stroke-width="2"/>`;
    case 'diamond':
      return `<path d="M12 1 L18 7 L12 13 L6 7 Z" fill="#fff" stroke="${c}" stroke-width="2"/>`;
    case 'star':
      return `<path d="${starPath(12, 7.5, 7)}" fill="${c}" stroke="#111" stroke-width="0.8"/>`;
    case 'band':
      return `<rect x="1" y="3" width="22" height="8" fill="${c}" fill-opacity="0.35" stroke="${c}"/>`;
  }
}

export function Swatch({ item }: { item: LegendItem }) {
  return (
    <svg className="legend-swatch" width="24" height="14" viewBox="0 0 24 14" aria-hidden="true" dangerouslySetInnerHTML={{ __html: legendSwatchSvg(item) }} />
  );
}

export function Legend({ items, testId }: { items: LegendItem[]; testId?: string }) {
  if (!items.length) return null;
  return (
    <ul className="chart-legend" data-testid={testId}>
      {items.map((item) => (
        <li key={item.label}>
          <Swatch item={item} />
          <span className="legend-text">{item.label}</span>
        </li>
      ))}
    </ul>
  );
}

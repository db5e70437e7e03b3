/**
 * A chart card: its title, the page's own legend, a PNG button that exports the chart itself
 * (title, axes, legend, at 2x) and the plot. Without data the card says so and the button is
 * disabled, saying why. Charts pass extra series or reference lines as children of their plot.
 */
import { useRef, useState, type ReactNode } from 'react';
import { exportChartPng } from './chartExport';
import { Legend, type LegendItem } from './legend';

/** Axis text: dark grey on white (12.6:1), also in the exported PNG. */
export const AXIS_TEXT = '#333333';
export const AXIS_TICK = { fill: AXIS_TEXT, fontSize: 13 } as const;
export const axisLabel = (value: string, position: 'insideBottom' | 'insideLeft', extra: Record<string, unknown> = {}) => ({
  value,
  position,
  fill: AXIS_TEXT,
  fontSize: 13,
  ...extra,
});

export function ChartFrame(props: {
  title: string;
  testId: string;
  legend: LegendItem[];
  /** File name of the PNG. */
  fileName: string;
  /** What to say instead of a plot when there is no data yet (the PNG button is then disabled). */
  empty?: ReactNode;
  /** Attributes tests read (data-points, ...). */
  data?: Record<string, string>;
  className?: string;
  /**
   * The chart in words (its text alternative): what it plots and its values, read out where the
   * plot cannot be seen. The plot itself is an image named by the title and this summary.
   */
  summary?: string;
  children: ReactNode;
}) {
  const body = useRef<HTMLDivElement>(null);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const exportPng = () => {
    setBusy(true);
    exportChartPng({ body: body.current, title: props.title, legend: props.legend, filename: props.fileName })
      .then(
        () => setErr(''),
        (e: Error) => setErr(e.message),
      )
      .finally(() => setBusy(false));
  };
  const dataAttrs = Object.fromEntries(Object.entries(props.data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  return (
    <figure className={`chart ${props.className ?? ''}`} data-testid={props.testId} {...dataAttrs}>
      <figcaption>
        <span className="chart-title">{props.title}</span>
        <button
          type="button"
          className="small"
          data-testid={`${props.testId}.png`}
          onClick={exportPng}
          disabled={!!props.empty || busy}
          title={props.empty ? 'Nothing to export yet: the chart has no data' : 'Download this chart as a PNG figure (2x, with title, axes and legend)'}
        >
          PNG
        </button>
      </figcaption>
      {err && (
        <p className="note" role="alert">
          {err}
        </p>
      )}
      {props.empty ? (
        <div className="empty chart-empty">{props.empty}</div>
      ) : (
        <>
          <Legend items={props.legend} testId={`${props.testId}.legend`} />
          <div className="chart-body" ref={body} role="img" aria-label={props.summary ? `${props.title}. ${props.summary}` : props.title}>
            {props.children}
          </div>
        </>
      )}
    </figure>
  );
}

/**
 * The paper's "why" beside the results: the test accuracy of each method with its spread over
 * seeds and the chance level; how far each method moved the pretrained features (linear CKA per
 * layer, computed by the engine after a paper-protocol run); and the train − held-out accuracy gap
 * over epochs (overfitting). The numbers come from the run records; nothing is computed here but
 * differences for display.
 */
import { Bar, BarChart, CartesianGrid, Cell, ErrorBar, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { chanceAccuracy } from '../train/paper';
import { chosenSearchCurve, headlineAcc } from '../store/selectors';
import type { RunRecord } from '../store/state';
import { useLab } from '../store/store';
import { METHOD_COLOURS, METHOD_DASH } from './palette';

/** Bars of the headline test accuracy, ± one standard deviation over seeds, and the chance line. */
export function AccuracyChart({ runs, names, numClasses }: { runs: RunRecord[]; names: Map<string, string>; numClasses: number }) {
  const presentation = useLab((s) => s.presentation);
  const rows = runs.flatMap((r) => {
    const h = headlineAcc(r.summary);
    return h
      ? [
          {
            name: names.get(r.summary.config.runId) ?? r.methodLabel,
            method: r.summary.config.method,
            mean: h.mean,
            std: Number.isFinite(h.std) ? h.std : 0,
            seeds: h.seeds,
          },
        ]
      : [];
  });
  const chance = chanceAccuracy(numClasses);
  return (
    <figure
      className="chart"
      data-testid="chart.test"
      data-points={JSON.stringify(rows.map((r) => ({ name: r.name, mean: r.mean, std: r.std })))}
      data-chance={chance}
    >
      <figcaption>
        {rows.some((r) => r.seeds > 1)
          ? `Test accuracy (%): mean ± one standard deviation over seeds; dashed line = chance (${chance.toFixed(1)} %)`
          : `Test accuracy (%), one run each (no spread over seeds measured); dashed line = chance (${chance.toFixed(1)} %)`}
      </figcaption>
      {rows.length === 0 ? (
        <p className="empty">No finished runs yet.</p>
      ) : (
        <div
          role="img"
          aria-label={`Test accuracy: ${rows.map((r) => `${r.name} ${r.mean.toFixed(1)} %${r.seeds > 1 ? ` ± ${r.std.toFixed(1)} over ${r.seeds} seeds` : ''}`).join(', ')}; chance ${chance.toFixed(1)} %`}
        >
          <ResponsiveContainer width="100%" height={presentation ? 400 : 240}>
            <BarChart accessibilityLayer={false} data={rows} margin={{ top: 16, right: 24, bottom: 8, left: 8 }}>
              <CartesianGrid stroke="#ccc" strokeDasharray="3 3" />
              <XAxis dataKey="name" />
              <YAxis domain={[0, 100]} label={{ value: '%', angle: -90, position: 'insideLeft' }} />
              <Tooltip
                formatter={(v, _n, item) => {
                  if (typeof v !== 'number') return String(v);
                  const { std, seeds } = item.payload as { std: number; seeds: number };
                  // One seed has no spread: no "±" written over it.
                  return seeds > 1 ? `${v.toFixed(1)} ± ${std.toFixed(1)} (${seeds} seeds)` : `${v.toFixed(1)} (one run)`;
                }}
              />
              {/* Inside the plot: to the right of it, the margin cut the word to "cha". */}
              <ReferenceLine
                y={chance}
                stroke="#555"
                strokeDasharray="6 4"
                label={{ value: 'chance', position: 'insideBottomRight', fill: '#333333', fontSize: 13 }}
              />
              <Bar dataKey="mean" name="test accuracy" isAnimationActive={false}>
                {rows.map((r) => (
                  <Cell key={r.name} fill={METHOD_COLOURS[r.method]} />
                ))}
                {rows.some((r) => r.seeds > 1) && <ErrorBar dataKey="std" width={8} strokeWidth={2} stroke="#222" direction="y" />}
              </Bar>
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

/** Linear CKA to the pretrained features per layer, one line per paper-protocol run. */
/**
 * One run's line, in its method's colour and dash. Called as a function, not rendered as a
 * component: Recharts finds its lines among the chart's direct children by element type.
 */
function runLine(r: RunRecord, names: Map<string, string>, connectNulls: boolean) {
  const { runId, method } = r.summary.config;
  return (
    <Line
      key={runId}
      dataKey={runId}
      name={names.get(runId)}
      stroke={METHOD_COLOURS[method]}
      strokeDasharray={METHOD_DASH[method]}
      strokeWidth={2.5}
      isAnimationActive={false}
      connectNulls={connectNulls}
    />
  );
}

function CkaChart({ runs, names }: { runs: RunRecord[]; names: Map<string, string> }) {
  const withCka = runs.filter((r) => r.summary.paper?.why?.cka.length);
  const layers = Math.max(0, ...withCka.map((r) => r.summary.paper!.why!.cka.length));
  const rows = Array.from({ length: layers }, (_, l) => {
    const row: Record<string, number | string> = { layer: l === 0 ? 'embedding' : `block ${l}` };
    for (const r of withCka) row[r.summary.config.runId] = r.summary.paper!.why!.cka[l]!;
    return row;
  });
  return (
    <figure
      className="chart"
      data-testid="chart.cka"
      data-points={JSON.stringify(Object.fromEntries(withCka.map((r) => [names.get(r.summary.config.runId), r.summary.paper!.why!.cka])))}
    >
      <figcaption>
        How far tuning moved the pretrained features: linear CKA to the pretrained model’s token features per layer, on the same test images (1 = unchanged)
      </figcaption>
      {withCka.length === 0 ? (
        <p className="empty">Measured after a paper-protocol run (choose the paper protocol in the setup).</p>
      ) : (
        <div
          role="img"
          aria-label={`Linear CKA to the pretrained features per layer: ${withCka.map((r) => `${names.get(r.summary.config.runId) ?? r.methodLabel} ${r.summary.paper!.why!.cka.map((v) => v.toFixed(2)).join(', ')}`).join('; ')}`}
        >
          <ResponsiveContainer width="100%" height={240}>
            <LineChart accessibilityLayer={false} data={rows} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
              <CartesianGrid stroke="#ccc" strokeDasharray="3 3" />
              <XAxis dataKey="layer" />
              <YAxis domain={[0, 1]} allowDataOverflow tickFormatter={(v: number) => v.toFixed(2)} />
              <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} />
              <Legend verticalAlign="top" />
              {withCka.map((r) => runLine(r, names, false))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

/**
 * Train − held-out accuracy per epoch: a quick run's train vs validation accuracy; a paper run's
 * chosen search run (train800 vs val200: the test images stay unseen until the final evaluation).
 */
export function gapCurve(r: RunRecord): number[] {
  if (r.summary.paper) return chosenSearchCurve(r.summary).map((c) => c.trainAcc - c.heldOutAcc);
  return r.summary.epochs.map((e) => e.trainAcc - e.valAcc);
}

function GapChart({ runs, names }: { runs: RunRecord[]; names: Map<string, string> }) {
  const curves = runs.map((r) => ({ r, gap: gapCurve(r).filter(Number.isFinite) })).filter((c) => c.gap.length > 0);
  const epochs = Math.max(0, ...curves.map((c) => c.gap.length));
  const rows = Array.from({ length: epochs }, (_, i) => {
    const row: Record<string, number> = { epoch: i + 1 };
    for (const c of curves) if (i < c.gap.length) row[c.r.summary.config.runId] = c.gap[i]!;
    return row;
  });
  return (
    <figure
      className="chart"
      data-testid="chart.gap"
      data-points={JSON.stringify(Object.fromEntries(curves.map((c) => [names.get(c.r.summary.config.runId), c.gap])))}
    >
      <figcaption>Overfitting: train − held-out accuracy per epoch (points; paper runs: the chosen search run, train vs val)</figcaption>
      {curves.length === 0 ? (
        <p className="empty">No epochs yet.</p>
      ) : (
        <div
          role="img"
          aria-label={`Train − held-out accuracy per epoch (points): ${curves.map((c) => `${names.get(c.r.summary.config.runId) ?? c.r.methodLabel} ${c.gap.map((g) => g.toFixed(1)).join(', ')}`).join('; ')}`}
        >
          <ResponsiveContainer width="100%" height={240}>
            <LineChart accessibilityLayer={false} data={rows} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
              <CartesianGrid stroke="#ccc" strokeDasharray="3 3" />
              <XAxis dataKey="epoch" allowDecimals={false} />
              <YAxis />
              <ReferenceLine y={0} stroke="#555" />
              <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(1) : String(v))} />
              <Legend verticalAlign="top" />
              {curves.map(({ r }) => runLine(r, names, true))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

/** The paper's two explanations side by side: features preserved (CKA) and overfitting (gap). */
export function WhyViews({ runs, names }: { runs: RunRecord[]; names: Map<string, string> }) {
  return (
    <section className="why" aria-label="Why: preserved features and overfitting" data-testid="results.why">
      <h3>Why? Preserved features, or less overfitting</h3>
      <p className="note">
        The Elephant paper argues that VPT wins because it keeps the pretrained features, not only because it overfits less. Left: how much of the pretrained
        representation each method kept; right: how far training accuracy ran ahead of held-out accuracy.
      </p>
      <div className="charts">
        <CkaChart runs={runs} names={names} />
        <GapChart runs={runs} names={names} />
      </div>
    </section>
  );
}

/**
 * Live results: loss and validation-accuracy curves per method (updating as epochs land), the
 * final table beside the published numbers, and per-class details on demand. Lazy-loaded:
 * recharts is the heaviest thing on the page.
 */
import { memo, useDeferredValue, type ReactNode } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { CartesianGrid, Line, LineChart, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { getTask, publishedAccuracy, type TaskInfo } from '../data/catalog';
import type { MethodId } from '../domain/run';
import { chosenSearchCurve, groups, headlineAcc, runsOfGroup, takeawayOf, viewedGroupId } from '../store/selectors';
import { AccuracyChart, WhyViews } from './WhyViews';
import { toggleCompare, viewGroup } from './actions';
import { useLab, useRunRecords } from '../store/store';
import type { RunRecord, StepPoint } from '../store/state';
import { AXIS_TEXT, AXIS_TICK, ChartFrame, axisLabel } from './ChartFrame';
import type { LegendItem } from './legend';
import { METHODS } from '../train/methods';
import { METHOD_COLOURS, runDash } from './palette';
import { ExportParamsButton } from './ExportParamsButton';
import { MiniatureNote } from './TeachingPanel';
import { formatDuration } from '../store/estimate';
import { niceTicks } from './ticks';

/** Series name: the method, numbered when a group has the same method twice. */
function seriesNames(runs: RunRecord[]): Map<string, string> {
  const seen = new Map<string, number>();
  const out = new Map<string, string>();
  for (const r of runs) {
    const n = (seen.get(r.summary.config.method) ?? 0) + 1;
    seen.set(r.summary.config.method, n);
    out.set(r.summary.config.runId, n > 1 ? `${r.methodLabel} #${n}` : r.methodLabel);
  }
  return out;
}

/** Each run's series: its name, colour and dash. */
interface Series {
  run: RunRecord;
  name: string;
  colour: string;
  dash?: string;
  /** Not the first run of its method in this chart: its per-step line is dashed too. */
  repeat: boolean;
}

/**
 * A run's colour is its method's; a method's later runs in the same chart (a rerun, compared
 * runs of other tasks or sizes) get dashes of their own, or their lines would look the same.
 */
function seriesOf(runs: RunRecord[], nameOf?: (r: RunRecord) => string): Series[] {
  const names = nameOf ? new Map(runs.map((r) => [r.summary.config.runId, nameOf(r)])) : seriesNames(runs);
  const seen = new Map<string, number>();
  return runs.map((run) => {
    const method = run.summary.config.method;
    const nth = seen.get(method) ?? 0;
    seen.set(method, nth + 1);
    return { run, name: names.get(run.summary.config.runId)!, colour: METHOD_COLOURS[method], dash: runDash(method, nth), repeat: nth > 0 };
  });
}

/** A run's per-epoch series (a recharts Line, so a direct child of the chart): its colour and dash, a dot per epoch. */
function epochLine(s: Series, key: string, name: string, data: { x: number; y: number }[]) {
  return (
    <Line
      key={key}
      data={data}
      dataKey="y"
      name={name}
      stroke={s.colour}
      strokeDasharray={s.dash}
      strokeWidth={2.5}
      dot={{ r: 4, fill: s.colour }}
      isAnimationActive={false}
    />
  );
}

/** The epoch axis ends at the longest run's planned epochs (both phases of FT-then-PT). */
function plannedEpochs(runs: RunRecord[]): number {
  return Math.max(1, ...runs.map((r) => r.summary.config.epochs * METHODS[r.summary.config.method].phases.length));
}

/** The loss axis's ticks: round values (ticks.ts) over every step and epoch loss drawn. */
function lossTicks(series: Series[]): number[] {
  let lo = Infinity,
    hi = -Infinity;
  for (const s of series) {
    for (const v of [...stepsOf(s.run).map((p) => p.loss), ...s.run.summary.epochs.map((e) => e.trainLoss)]) {
      if (!Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return niceTicks(lo, hi);
}

/** A run's per-step loss: what this page saw, else what the record kept (after a reload). */
function stepsOf(r: RunRecord): StepPoint[] {
  return r.stepLoss?.length ? r.stepLoss : (r.stepCurve ?? []);
}

/** The accuracy chart's chance line. */
const CHANCE_LEGEND: LegendItem = { label: 'chance', colour: '#555555', marker: 'line', dash: '6 4' };

/** Neutral legend entries that say how the loss chart draws steps and epochs. */
const STEP_LEGEND: LegendItem[] = [
  { label: 'each step', colour: '#555555', marker: 'line', dash: '1 0' },
  { label: 'epoch mean', colour: '#555555', marker: 'circle' },
];

/**
 * Training loss: every step's loss as a thin line (something moves in the first minute) and each
 * epoch's mean as dots, on one epoch axis (a step of epoch k sits between k - 1 and k).
 */
function LossChart({
  runs,
  title,
  children,
  testId = 'chart.loss',
  nameOf,
}: {
  runs: RunRecord[];
  title: string;
  children?: ReactNode;
  testId?: string;
  nameOf?: (r: RunRecord) => string;
}) {
  const series = seriesOf(runs, nameOf);
  const epochPoints = Object.fromEntries(series.map((s) => [s.name, s.run.summary.epochs.length]));
  const stepPoints = Object.fromEntries(series.map((s) => [s.name, stepsOf(s.run).length]));
  const empty = series.every((s) => !s.run.summary.epochs.length && !stepsOf(s.run).length);
  const legend: LegendItem[] = [...series.map((s) => ({ label: s.name, colour: s.colour, marker: 'line' as const, dash: s.dash })), ...STEP_LEGEND];
  const ticks = lossTicks(series);
  return (
    <ChartFrame
      title={title}
      testId={testId}
      fileName="training-loss.png"
      summary={series
        .map(
          (s) =>
            `${s.name}: mean training loss per epoch ${s.run.summary.epochs.map((e) => e.trainLoss.toFixed(3)).join(', ') || 'not yet measured'}${s.run.summary.lossRise ? ' (its loss rose)' : ''}`,
        )
        .join('; ')}
      legend={legend}
      empty={empty ? 'No steps yet: the loss appears with the first training step.' : undefined}
      data={{
        points: JSON.stringify(epochPoints),
        'step-points': JSON.stringify(stepPoints),
        rise: JSON.stringify(series.filter((s) => s.run.summary.lossRise).map((s) => s.name)),
        'y-ticks': JSON.stringify(ticks),
      }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <LineChart accessibilityLayer={false} margin={{ top: 8, right: 20, bottom: 28, left: 8 }}>
          <CartesianGrid stroke="#d0d0d0" strokeDasharray="3 3" />
          <XAxis {...epochAxis(runs)} />
          <YAxis
            type="number"
            // Ticks of our own on round values: recharts' "nice" ticks, even with round domain
            // ends, drew values such as 1.955 and 2.185.
            {...(ticks.length ? { ticks, domain: [ticks[0]!, ticks.at(-1)!], interval: 0 as const } : {})}
            tick={AXIS_TICK}
            stroke={AXIS_TEXT}
            tickFormatter={(v: number) => String(Number(v.toPrecision(4)))}
            label={axisLabel('loss', 'insideLeft', { angle: -90 })}
          />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : String(v))} labelFormatter={(x) => `epoch ${Number(x).toFixed(2)}`} />
          {series.map((s) => (
            <Line
              key={`${s.run.summary.config.runId}-steps`}
              data={stepsOf(s.run).map((p) => ({ x: p.x, y: p.loss }))}
              dataKey="y"
              name={`${s.name} (step)`}
              stroke={s.colour}
              strokeOpacity={0.55}
              strokeWidth={1.25}
              strokeDasharray={s.repeat ? s.dash : undefined}
              dot={false}
              isAnimationActive={false}
            />
          ))}
          {series.map((s) =>
            epochLine(
              s,
              `${s.run.summary.config.runId}-epochs`,
              `${s.name} (epoch)`,
              s.run.summary.epochs.map((e) => ({ x: e.epoch, y: e.trainLoss })),
            ),
          )}
          {series.map((s) => riseMark(s, plannedEpochs(runs)))}
          {children}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

/**
 * Where a run's loss first rose (train/divergence.ts), ringed in its colour and labelled, so the
 * rise is seen on the curve and not only read in the status line. The label runs from the ring
 * toward the plot's middle: an epoch rise is often at the last epoch, the axis's end, where a
 * label centred on the ring would be cut by the chart's edge.
 */
function riseMark(s: Series, axisEnd: number) {
  const r = s.run.summary.lossRise;
  if (!r) return null;
  const spe = s.run.stepsPerEpoch ?? 1;
  const x = r.kind === 'epoch' ? r.epoch : r.epoch - 1 + (r.step ?? spe) / spe;
  return (
    <ReferenceDot
      key={`${s.run.summary.config.runId}-rise`}
      className="loss-rise-mark"
      x={x}
      y={r.loss}
      r={9}
      fill="none"
      stroke={s.colour}
      strokeWidth={3}
      ifOverflow="extendDomain"
      label={{ value: `${s.name}: loss rising`, content: <RiseLabel towardLeft={x > axisEnd / 2} /> }}
    />
  );
}

/** Room (px) above the ring for one line of label text, presentation mode's 18 px included. */
const RISE_LABEL_ROOM = 26;

/**
 * A rise mark's label (recharts passes the ring's box as viewBox): above the ring where there is
 * room, else below it, and starting or ending at the ring so it extends toward the plot's middle.
 */
function RiseLabel({
  viewBox,
  value,
  towardLeft,
}: {
  viewBox?: { x?: number; y?: number; width?: number; height?: number };
  value?: ReactNode;
  towardLeft: boolean;
}) {
  const { x = 0, y = 0, width = 0, height = 0 } = viewBox ?? {};
  const above = y >= RISE_LABEL_ROOM;
  return (
    <text
      className="recharts-label"
      x={towardLeft ? x + width : x}
      y={above ? y - 6 : y + height + 6}
      textAnchor={towardLeft ? 'end' : 'start'}
      dominantBaseline={above ? 'auto' : 'hanging'}
      fill={AXIS_TEXT}
      fontSize={13}
    >
      {value}
    </text>
  );
}

/** The loss chart reads the runs with their live steps: the one view drawn at each step flush. */
function LiveLossChart({ groupId, title }: { groupId: string | null; title: string }) {
  const runs = useDeferredValue(useLab(useShallow((s) => runsOfGroup(s, groupId))));
  return <MemoLossChart runs={runs} title={title} />;
}

/**
 * Memoised, so the urgent render that a store change starts (with the deferred runs still the
 * old ones) skips the charts, and only the deferred, time-sliced pass draws them.
 */
const MemoLossChart = memo(LossChart);
const MemoValAccuracyChart = memo(ValAccuracyChart);

/**
 * Validation accuracy after each epoch. A finished paper-protocol run's curve is its chosen search
 * run's (train800 vs val200): its final runs train on train + val and have no held-out images
 * until test. Extra series or reference lines (chance level) come as children.
 */
function valCurve(r: RunRecord): { x: number; y: number }[] {
  return r.summary.paper
    ? chosenSearchCurve(r.summary).map((c, i) => ({ x: i + 1, y: c.heldOutAcc }))
    : r.summary.epochs.map((e) => ({ x: e.epoch, y: e.valAcc }));
}

function ValAccuracyChart({
  runs,
  title,
  children,
  extraLegend = [],
  testId = 'chart.accuracy',
  nameOf,
}: {
  runs: RunRecord[];
  title: string;
  children?: ReactNode;
  extraLegend?: LegendItem[];
  testId?: string;
  nameOf?: (r: RunRecord) => string;
}) {
  const series = seriesOf(runs, nameOf);
  const curves = new Map(series.map((s) => [s.run.summary.config.runId, valCurve(s.run).filter((p) => Number.isFinite(p.y))]));
  const points = Object.fromEntries(series.map((s) => [s.name, curves.get(s.run.summary.config.runId)!.length]));
  const empty = series.every((s) => !curves.get(s.run.summary.config.runId)!.length);
  // The chance level of the runs' task, when they share one (a comparison may mix tasks).
  const tasks = new Set(runs.map((r) => r.summary.config.taskId));
  const chance = tasks.size === 1 ? 100 / getTask(runs[0]!.summary.config.taskId).classes : undefined;
  return (
    <ChartFrame
      title={title}
      testId={testId}
      fileName="validation-accuracy.png"
      summary={`${series
        .map(
          (s) =>
            `${s.name}: ${
              curves
                .get(s.run.summary.config.runId)!
                .map((p) => `${p.y.toFixed(1)} %`)
                .join(', ') || 'no epoch yet'
            }`,
        )
        .join('; ')}${chance !== undefined ? `; chance ${chance.toFixed(1)} %` : ''}`}
      legend={[
        ...series.map((s) => ({ label: s.name, colour: s.colour, marker: 'line' as const, dash: s.dash })),
        ...(chance !== undefined ? [CHANCE_LEGEND] : []),
        ...extraLegend,
      ]}
      empty={empty ? 'No epochs yet: a point appears as each epoch ends.' : undefined}
      data={{ points: JSON.stringify(points), ...(chance !== undefined ? { chance: String(chance) } : {}) }}
    >
      <ResponsiveContainer width="100%" height="100%">
        <LineChart accessibilityLayer={false} margin={{ top: 8, right: 20, bottom: 28, left: 8 }}>
          <CartesianGrid stroke="#d0d0d0" strokeDasharray="3 3" />
          <XAxis {...epochAxis(runs)} />
          <YAxis type="number" domain={[0, 100]} tick={AXIS_TICK} stroke={AXIS_TEXT} label={axisLabel('%', 'insideLeft', { angle: -90 })} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(1) : String(v))} labelFormatter={(x) => `epoch ${x}`} />
          {series.map((s) => epochLine(s, s.run.summary.config.runId, s.name, curves.get(s.run.summary.config.runId)!))}
          {chance !== undefined && (
            <ReferenceLine
              y={chance}
              stroke="#555555"
              strokeDasharray="6 4"
              label={{ value: 'chance', position: 'insideBottomLeft', fill: AXIS_TEXT, fontSize: 13 }}
            />
          )}
          {children}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1);
}

function formatCount(n: number): string {
  if (!n) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

function Published({ task, method }: { task: TaskInfo; method: MethodId }) {
  if (task.source !== 'vtab') return null;
  const p = publishedAccuracy(task, method);
  return (
    <>
      <td>{pct(p.vptPaper)}</td>
      <td>{pct(p.elephantPaper)}</td>
    </>
  );
}

function PerClass({ run }: { run: RunRecord }) {
  const test = run.summary.test;
  if (!test) return null;
  const names = run.classNames;
  const max = Math.max(1, ...test.confusion.flat());
  return (
    <details className="per-class" data-testid={`results.details.${run.summary.config.method}`}>
      <summary>
        Per-class accuracy and confusion matrix — {run.methodLabel} ({test.numTest} test images)
      </summary>
      <table className="compact">
        <caption>Per-class accuracy (%)</caption>
        <thead>
          <tr>
            <th scope="col">class</th>
            <th scope="col">accuracy</th>
          </tr>
        </thead>
        <tbody>
          {test.perClassAcc.map((a, c) => (
            <tr key={c}>
              <th scope="row">{names?.[c] ?? c}</th>
              <td>{pct(a)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="confusion">
        <caption>Confusion matrix: rows are true classes, columns predicted (counts)</caption>
        <thead>
          <tr>
            <th scope="col">true \ pred</th>
            {test.confusion.map((_, c) => (
              <th key={c} scope="col">
                {names?.[c] ?? c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {test.confusion.map((row, t) => (
            <tr key={t}>
              <th scope="row">{names?.[t] ?? t}</th>
              {row.map((n, p) => (
                <td key={p} style={{ background: n ? `rgba(0, 114, 178, ${0.1 + (0.8 * n) / max})` : undefined, color: n / max > 0.55 ? '#fff' : undefined }}>
                  {n}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/**
 * The runs of the group the results show (the latest queue unless another is chosen), deferred:
 * React draws the views that read them in a time-sliced pass after the urgent update, so the end
 * of a run (table, bars, why charts, takeaway, gallery at once) does not freeze the page.
 */
function useViewedRuns(): RunRecord[] {
  const groupId = useLab(viewedGroupId);
  return useDeferredValue(useRunRecords((s) => runsOfGroup(s, groupId)));
}

/** Live curves of the viewed group: per-step and per-epoch loss, validation accuracy. */
export function LiveCharts() {
  const groupId = useLab(viewedGroupId);
  const runs = useViewedRuns();
  const allGroups = useLab(useShallow((s) => groups(s).map((g) => `${g.id}\t${g.label}\t${g.count}`))).map((line) => {
    const [id, label, count] = line.split('\t');
    return { id: id!, label: label!, count: Number(count) };
  });
  // The protocol of the group (every run of one Start shares it).
  const paper = runs.find((r) => r.summary.paper)?.summary.paper;
  return (
    <section className="panel results live" aria-labelledby="results-title">
      <div className="section-head">
        <h2 id="results-title">Curves</h2>
        {runs.length === 0 ? (
          <p className="empty">Press Start: the loss moves with every step, and accuracy, the results table and Grad-CAM maps follow each epoch.</p>
        ) : (
          <div className="field inline">
            <label htmlFor="group">Showing</label>
            <select id="group" data-testid="results.group" value={groupId ?? ''} onChange={(e) => viewGroup(e.target.value || null)}>
              {allGroups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.label} ({g.count} run{g.count === 1 ? '' : 's'})
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <div className="charts">
        <LiveLossChart groupId={groupId} title={paper ? "Training loss: the first seed's final run" : 'Training loss'} />
        <MemoValAccuracyChart runs={runs} title={paper ? 'Validation accuracy (%): the chosen search run' : 'Validation accuracy (%)'} />
      </div>
    </section>
  );
}

/**
 * The result charts change when a run's record does, not with every training step (a step
 * renews the run's progress only): without this, each step drew them again and a busy page
 * answered clicks late.
 */
const sameSummaries = (a: { runs: RunRecord[] }, b: { runs: RunRecord[] }) =>
  a.runs.length === b.runs.length && a.runs.every((r, i) => r.summary === b.runs[i]!.summary);
/**
 * The test-accuracy bars and the "why" charts sit below the fold and change when a run ends (its
 * test, its paper outcome): drawing them again at every epoch made the page stall at each one.
 */
const sameEnds = (a: { runs: RunRecord[] }, b: { runs: RunRecord[] }) =>
  a.runs.length === b.runs.length &&
  a.runs.every((r, i) => {
    const o = b.runs[i]!.summary;
    return r.summary.status === o.status && r.summary.test === o.test && r.summary.paper === o.paper;
  });
const TestAccuracyBars = memo(AccuracyChart, (a, b) => sameEnds(a, b) && a.numClasses === b.numClasses);
const WhyCharts = memo(WhyViews, sameEnds);

/** Test accuracy of the viewed group beside the published numbers, with per-class details. */
export function ResultsTable() {
  return <MemoResultsBody runs={useViewedRuns()} />;
}

/** Memoised: the urgent render of a store change (with the deferred runs still the old ones) skips it. */
const MemoResultsBody = memo(ResultsBody);

function ResultsBody({ runs }: { runs: RunRecord[] }) {
  if (runs.length === 0) return null;
  const task = getTask(runs[0]!.summary.config.taskId);
  const names = seriesNames(runs);
  // The protocol of the group (every run of one Start shares it); its sizes for the caption.
  const paper = runs.find((r) => r.summary.paper)?.summary.paper;
  return (
    <section className="panel results table-panel" aria-labelledby="table-title">
      <h2 id="table-title">Results</h2>
      <TestAccuracyBars runs={runs} names={names} numClasses={task.classes} />
      <table className="results-table" data-testid="results.table">
        <caption>
          Test accuracy on {task.name} (%)
          {paper
            ? `${paper.final.length > 1 ? `, mean ± standard deviation over ${paper.final.length} seeds` : ', one seed (no spread over seeds measured)'} — paper protocol: ${paper.search.length} search run(s) on ${paper.searchTrainSize} train / ${paper.valSize} val images, final training on all ${paper.finalTrainSize}`
            : ' — quick protocol: one run each, at the hyperparameters above'}
          {task.source === 'procedural' && ' — a procedural task: the papers have no numbers for it'}
        </caption>
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">Status</th>
            <th scope="col">Test acc. (yours)</th>
            {paper && (
              <th scope="col" title="Chosen on validation accuracy, as the reference tune_vtab.py does">
                Chosen lr / wd
              </th>
            )}
            <th scope="col" title="The estimate shown when the run was queued, and what the run took">
              Time: estimated / took
            </th>
            <th scope="col">Trainable params</th>
            <th scope="col">Trained parameters</th>
            {task.source === 'vtab' && (
              <>
                <th scope="col" title="Jia et al., Visual Prompt Tuning, ECCV 2022, Table 1 (ViT-B/16 IN-21k)">
                  VPT paper (Jia et al. 2022, Tab. 1)
                </th>
                <th scope="col" title="Han et al., Facing the Elephant in the Room, ICLR 2024, Tables 1-2 (800/200 split)">
                  Elephant paper (Han et al. 2024, Tab. 1–2)
                </th>
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const s = r.summary;
            const h = headlineAcc(s);
            const acc = h?.mean;
            const p = s.paper;
            return (
              <tr
                key={s.config.runId}
                data-testid={`results.row.${s.config.method}`}
                data-run-id={s.config.runId}
                data-acc={acc ?? ''}
                data-std={h && Number.isFinite(h.std) ? h.std : ''}
              >
                <th scope="row">
                  <span className="swatch" style={{ background: METHOD_COLOURS[s.config.method] }} aria-hidden="true" /> {names.get(s.config.runId)}
                </th>
                <td>
                  {s.stage
                    ? `${s.status} · ${s.stage.stage === 'search' ? `search ${s.stage.index + 1}/${s.stage.of} (lr ${s.stage.lr}, wd ${s.stage.wd})` : `final run ${s.stage.index + 1}/${s.stage.of} (seed ${s.stage.seed})`}`
                    : s.status}
                </td>
                <td
                  className="num"
                  data-testid={`results.acc.${s.config.method}`}
                  title={p ? `seeds: ${p.final.map((f) => `${f.seed}: ${f.testAcc.toFixed(1)} %`).join(', ')}` : undefined}
                >
                  {pct(acc)}
                  {h && Number.isFinite(h.std) ? ` ± ${h.std.toFixed(1)}` : ''}
                  {h?.nearChance && <abbr title={`within noise of chance (${h.chance.toFixed(1)} %)`}> †</abbr>}
                </td>
                {paper && <td data-testid={`results.chosen.${s.config.method}`}>{p ? `lr ${p.chosen.lr} · wd ${p.chosen.wd}` : '–'}</td>}
                <td
                  className="num"
                  data-testid={`results.time.${s.config.method}`}
                  data-predicted={s.config.predictedSeconds ?? ''}
                  data-seconds={s.seconds ?? ''}
                >
                  {s.config.predictedSeconds !== undefined ? formatDuration(s.config.predictedSeconds) : '–'} /{' '}
                  {s.seconds !== undefined ? formatDuration(s.seconds) : '–'}
                </td>
                <td className="num" title={s.totalParams ? `${s.trainableParams} of ${s.totalParams}` : undefined}>
                  {formatCount(s.trainableParams)}
                  {s.totalParams ? ` (${((100 * s.trainableParams) / s.totalParams).toFixed(2)}%)` : ''}
                </td>
                <td>{r.trained ? <ExportParamsButton run={r} /> : '–'}</td>
                <Published task={task} method={s.config.method} />
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="note" data-testid="results.chance">
        Chance level: {(100 / task.classes).toFixed(1)} % ({task.classes} classes). † = within noise of chance (below chance + 2 binomial standard errors on the
        test images).
      </p>
      {[...new Set(runs.map((r) => r.summary.config.modelSource).filter((m) => m.startsWith('bundled:')))].map((m) => (
        <MiniatureNote key={m} model={m.slice('bundled:'.length)} />
      ))}
      {task.source === 'vtab' && (
        <p className="note">Published numbers: ViT-B/16 ImageNet-21k, full VTAB-1k protocol; yours depend on the model, epochs and data size chosen above.</p>
      )}
      <WhyCharts runs={runs} names={names} />
      {runs.map((r) => (
        <PerClass key={r.summary.config.runId} run={r} />
      ))}
    </section>
  );
}

/** The epoch axis both curves share (recharts reads an axis' props from its direct child, hence props, not a component). */
function epochAxis(runs: Parameters<typeof plannedEpochs>[0]) {
  return {
    type: 'number' as const,
    dataKey: 'x',
    domain: [0, plannedEpochs(runs)],
    allowDecimals: false,
    tick: AXIS_TICK,
    stroke: AXIS_TEXT,
    label: axisLabel('epoch', 'insideBottom', { offset: -14 }),
  };
}

/**
 * "What this shows": the viewed group's takeaway in plain sentences (analysis/takeaway.ts), from
 * its measured numbers only; shown once two methods have finished, in presentation mode too.
 */
export function WhatThisShows() {
  return <TakeawayOfRuns runs={useViewedRuns()} presentation={useLab((s) => s.presentation)} />;
}

/** The sentences in full, or on a projector in their few-word form (the same numbers). */
function TakeawayView({ runs, presentation }: { runs: RunRecord[]; presentation: boolean }) {
  const sentences = takeawayOf(runs);
  if (!sentences.length) return null;
  return (
    <section className="panel takeaway" aria-labelledby="takeaway-title" data-testid="takeaway.panel">
      <h2 id="takeaway-title">What this shows</h2>
      <ul>
        {sentences.map((s) => (
          <li key={s.kind + s.text} data-testid={`takeaway.${s.kind}`} data-values={JSON.stringify(s.values ?? {})}>
            {presentation ? s.short : s.text}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Recomputed when a run's record changes, not with every training step. */
const TakeawayOfRuns = memo(TakeawayView, (a, b) => sameSummaries(a, b) && a.presentation === b.presentation);

/** A compared run's name: method, task, training images, seed (the group is not shared). */
function comparedName(r: RunRecord): string {
  const c = r.summary.config;
  return `${r.methodLabel} · ${c.taskId} · ${c.trainSize} · seed ${c.seed}`;
}

/**
 * Saved runs picked in the list, whatever their task, size or method: their curves overlaid and
 * their test accuracies side by side, each series named by what differs.
 */
export function CompareRuns() {
  const ids = useLab((s) => s.compare);
  const runs = useDeferredValue(useRunRecords((s) => s.compare.map((id) => s.runs[id]).filter((r): r is RunRecord => !!r)));
  if (!ids.length) return null;
  return (
    <section className="panel results compare" aria-labelledby="compare-title" data-testid="compare.panel" data-runs={ids.length}>
      <div className="section-head">
        <h2 id="compare-title">Compare saved runs</h2>
        <button type="button" className="small" data-testid="compare.clear" onClick={() => ids.forEach((id) => toggleCompare(id, false))}>
          Clear the comparison
        </button>
      </div>
      <div className="charts">
        <MemoLossChart runs={runs} title="Training loss" testId="compare.loss" nameOf={comparedName} />
        <MemoValAccuracyChart runs={runs} title="Validation accuracy (%)" testId="compare.accuracy" nameOf={comparedName} />
      </div>
      <table className="results-table" data-testid="compare.table">
        <caption>Test accuracy of the compared runs (%)</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Test acc.</th>
            <th scope="col">Chance</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const h = headlineAcc(r.summary);
            return (
              <tr key={r.runId} data-run-id={r.runId} data-acc={h?.mean ?? ''}>
                <th scope="row">
                  <span className="swatch" style={{ background: METHOD_COLOURS[r.summary.config.method] }} aria-hidden="true" /> {comparedName(r)}
                </th>
                <td>{r.summary.status}</td>
                <td className="num">
                  {pct(h?.mean)}
                  {h && Number.isFinite(h.std) ? ` ± ${h.std.toFixed(1)}` : ''}
                </td>
                <td className="num">{h ? pct(h.chance) : '–'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

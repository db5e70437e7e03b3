/**
 * The paper's views. "When does VPT win?": tasks placed by objective disparity (their group)
 * and data-distribution distance (Fréchet distance, measured in the worker for tasks with data),
 * coloured by the published winner, with the user's own finished runs overlaid. And the
 * data-size sweep: test accuracy against train size for FT and VPT-deep on one task.
 */
import { useDeferredValue, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  usePlotArea,
  useXAxisScale,
  useYAxisScale,
} from 'recharts';
import { placeLabels } from './labelPlacement';
import { TASKS, getTask, type TaskGroup } from '../data/catalog';
import type { MethodId } from '../domain/run';
import { vptVersusFt, type RunResult } from '../analysis/compare';
import { METHODS } from '../train/methods';
import { pickReferenceZip, requestFrechet, setReference, startSweep } from './actions';
import { finishedRuns, headlineAcc } from '../store/selectors';
import { SWEEP_SIZES, modelLabel } from '../store/setup';
import { formatDuration, runWork, secondsOf, setupRun, speedBefore } from '../store/estimate';
import { useLab } from '../store/store';
import type { ReferenceChoice, RunRecord } from '../store/state';
import { AXIS_TEXT, AXIS_TICK, ChartFrame, axisLabel } from './ChartFrame';
import { Swatch, starPath, type LegendItem } from './legend';
import { METHOD_COLOURS, WINNER_COLOURS } from './palette';

const GROUP_Y: Record<TaskGroup, number> = { natural: 0, specialized: 1, structured: 2 };
const GROUP_NAMES: TaskGroup[] = ['natural', 'specialized', 'structured'];

interface Point {
  x: number;
  y: number;
  taskId: string;
  group: TaskGroup;
  task: string;
  measured: boolean;
  winner: 'ft' | 'vpt' | 'unknown';
  detail: string;
}

/**
 * The user's own winner per task: FT against VPT, each side's setting (method, learning rate,
 * train size) chosen on its final validation accuracy, then compared on test accuracy.
 */
function ownWinners(runs: RunRecord[]): Map<string, { winner: 'ft' | 'vpt'; ft: number; vpt: number }> {
  const byTask = new Map<string, { ft: RunResult[]; vpt: RunResult[] }>();
  for (const r of runs) {
    const c = r.summary.config;
    const side = METHODS[c.method].side;
    if (!side) continue;
    const t = byTask.get(c.taskId) ?? { ft: [], vpt: [] };
    t[side].push({
      setting: `${c.method} lr ${c.lr ?? 'default'} n ${c.trainSize}`,
      valAcc: r.summary.paper?.chosen.valAcc ?? r.summary.epochs.at(-1)?.valAcc ?? NaN,
      testAcc: headlineAcc(r.summary)!.mean,
    });
    byTask.set(c.taskId, t);
  }
  const out = new Map<string, { winner: 'ft' | 'vpt'; ft: number; vpt: number }>();
  for (const [task, sides] of byTask) {
    const v = vptVersusFt(sides.ft, sides.vpt);
    if (v) out.set(task, { winner: v.winner, ft: v.ft.testAcc, vpt: v.vpt.testAcc });
  }
  return out;
}

/** A point's marker: the legend's swatch shapes, with the task id for tests and tooltips. */
function PointShape(props: { cx?: number; cy?: number; payload?: Point; kind: 'published' | 'procedural' | 'own'; colour: string; size: number }) {
  const { cx = 0, cy = 0, payload, kind, colour, size } = props;
  const r = size / 2;
  const shape =
    kind === 'own' ? (
      <path d={starPath(cx, cy, r * 1.25)} fill={colour} stroke="#111" strokeWidth={0.8} />
    ) : kind === 'procedural' ? (
      <path d={`M${cx} ${cy - r} L${cx + r} ${cy} L${cx} ${cy + r} L${cx - r} ${cy} Z`} fill="#fff" stroke={colour} strokeWidth={2} />
    ) : (
      <circle cx={cx} cy={cy} r={r} fill={colour} />
    );
  return (
    <g className="vpt-point" data-task={payload?.taskId} data-kind={kind}>
      {shape}
    </g>
  );
}

const LEGEND_VPT_WINS: LegendItem[] = [
  { label: 'FT wins (published)', colour: WINNER_COLOURS.ft, marker: 'circle' },
  { label: 'VPT wins (published)', colour: WINNER_COLOURS.vpt, marker: 'circle' },
  { label: 'procedural task (no published winner)', colour: WINNER_COLOURS.unknown, marker: 'diamond' },
  { label: 'your runs: FT won', colour: WINNER_COLOURS.ft, marker: 'star' },
  { label: 'your runs: VPT won', colour: WINNER_COLOURS.vpt, marker: 'star' },
];

/** Chip of a task without a measured distance: its marker and name, never a position on the axis. */
function UnmeasuredChip({ p, own }: { p: Point; own?: 'ft' | 'vpt' }) {
  const item: LegendItem =
    p.winner === 'unknown'
      ? { label: p.task, colour: WINNER_COLOURS.unknown, marker: 'diamond' }
      : { label: p.task, colour: WINNER_COLOURS[p.winner], marker: 'circle' };
  return (
    <li className="task-chip" data-task={p.taskId} title={p.detail}>
      <Swatch item={item} />
      {p.task}
      {own && (
        <>
          {' '}
          <Swatch item={{ label: '', colour: WINNER_COLOURS[own], marker: 'star' }} />
          <span className="visually-hidden">your runs: {own === 'ft' ? 'FT' : 'VPT'} won</span>
        </>
      )}
    </li>
  );
}

/** Text width in px at a font size (the browser's canvas measures the font the SVG draws with). */
function textWidth(text: string, px: number): number {
  const ctx = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
  if (!ctx) return text.length * px * 0.6;
  ctx.font = `${px}px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif`;
  return ctx.measureText(text).width;
}

/** A task's name on the chart: without its parenthesis (the tooltip and the strip give the whole name). */
const shortName = (name: string) => name.replace(/ \(.*\)$/, '');

/**
 * The measured tasks' names beside their points, never on top of each other (labelPlacement.ts:
 * nudged a line at a time, a leader line back to the point), drawn in the chart's SVG so the PNG
 * export has them. Each label's box is `data-label-box` for the tests.
 */
function PointLabels({ points, fontSize }: { points: Point[]; fontSize: number }) {
  const xs = useXAxisScale();
  const ys = useYAxisScale();
  const area = usePlotArea();
  if (!xs || !ys || !area) return null;
  const height = Math.round(fontSize * 1.25);
  const anchors = points.flatMap((p) => {
    const x = xs(p.x),
      y = ys(p.y);
    return x === undefined || y === undefined
      ? []
      : [{ id: p.taskId, x, y, width: Math.ceil(textWidth(shortName(p.task), fontSize)), height, text: shortName(p.task) }];
  });
  // Labels may use the chart's right margin (where long names end), not beyond it.
  const placed = placeLabels(anchors, { left: area.x, top: area.y, right: area.x + area.width + 104, bottom: area.y + area.height });
  return (
    <g className="point-labels">
      {placed.map((l) => {
        const a = anchors.find((x) => x.id === l.id)!;
        const left = l.x >= a.x;
        return (
          <g key={l.id} className="point-label" data-label={l.id} data-label-box={[l.x, l.y, l.width, l.height].map((v) => v.toFixed(1)).join(',')}>
            {l.moved && <line x1={a.x} y1={a.y} x2={left ? l.x - 2 : l.x + l.width + 2} y2={l.y + l.height / 2} stroke="#555" strokeWidth={1} />}
            <text className="point-label-text" x={l.x} y={l.y + l.height / 2} dominantBaseline="central" fontSize={fontSize} fill="#111">
              {a.text}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function WhenVptWins() {
  const frechet = useLab((s) => s.paper.frechet);
  const pending = useLab((s) => s.paper.frechetPending.length);
  const reference = useLab((s) => s.paper.reference);
  const referenceUrl = useLab((s) => s.paper.referenceUrl);
  const refZip = useLab((s) => s.picked.reference);
  const model = useLab((s) => s.setup.model);
  const finished = useDeferredValue(useLab(useShallow(finishedRuns)));
  const presentation = useLab((s) => s.presentation);
  const own = ownWinners(finished);

  const seenInGroup: Record<string, number> = {};
  const points: Point[] = TASKS.map((t) => {
    const measured = frechet[t.id];
    // Measured tasks of a group are spread a little up and down so their labels do not collide.
    const k = measured ? (seenInGroup[t.group] = (seenInGroup[t.group] ?? 0) + 1) : 0;
    const winner = t.source === 'vtab' ? (t.elephantPaper.vpt > t.elephantPaper.full_finetune ? 'vpt' : 'ft') : 'unknown';
    const detail = t.source === 'vtab' ? `published FT ${t.elephantPaper.full_finetune} vs VPT ${t.elephantPaper.vpt}` : 'procedural: no published numbers';
    return {
      x: measured?.distance ?? NaN,
      y: GROUP_Y[t.group] + ((k % 3) - 1) * 0.22,
      taskId: t.id,
      task: t.name,
      group: t.group,
      measured: !!measured,
      winner,
      detail,
    };
  });
  const measured = points.filter((p) => p.measured);
  const unmeasured = points.filter((p) => !p.measured);
  const ownPoints: Point[] = measured
    .filter((p) => own.has(p.taskId))
    .map((p) => {
      const o = own.get(p.taskId)!;
      return { ...p, y: p.y + 0.12, winner: o.winner, detail: `your runs: FT ${o.ft.toFixed(1)} vs VPT ${o.vpt.toFixed(1)}` };
    });
  const size = presentation ? 14 : 11;

  return (
    <section className="panel paper" aria-labelledby="vptwins-title">
      <h2 id="vptwins-title">When does VPT win?</h2>
      <p className="note">
        The Elephant paper explains the winner by two things: how far the task’s objective is from classification (its group, bottom to top) and how far its
        images are from the pretraining data (the Fréchet distance between the frozen backbone’s features of the two image sets, left to right). A task is
        placed on that axis only once its distance is measured here.
      </p>
      <div className="row">
        <label>
          Reference set{' '}
          <select data-testid="paper.reference" value={reference} onChange={(e) => setReference(e.target.value as ReferenceChoice)}>
            <option value="pretraining" disabled={!model.startsWith('bundled:')}>
              the bundled model’s own pretraining data{model.startsWith('bundled:') ? '' : ' (bundled model only)'}
            </option>
            <option value="url">images at a URL</option>
            <option value="zip">a zip of images</option>
          </select>
        </label>
        {reference === 'url' && (
          <input
            type="url"
            aria-label="Reference URL"
            placeholder="https://…/imagenet-sample/"
            defaultValue={referenceUrl}
            onBlur={(e) => setReference('url', e.target.value)}
          />
        )}
        {reference === 'zip' && (
          <label>
            Zip {refZip ? `(${refZip.name})` : ''}
            <input type="file" accept=".zip" onChange={(e) => pickReferenceZip(e.target.files?.[0] ?? null)} />
          </label>
        )}
        <button type="button" data-testid="paper.computeFrechet" onClick={() => requestFrechet()} disabled={pending > 0}>
          {pending > 0 ? 'Computing…' : 'Compute distances'}
        </button>
      </div>
      <ChartFrame
        title="When does VPT win? Objective vs measured feature distance"
        testId="chart.vptWins"
        fileName="when-vpt-wins.png"
        legend={LEGEND_VPT_WINS}
        data={{ measured: JSON.stringify(Object.fromEntries(measured.map((p) => [p.taskId, p.x]))) }}
        summary={`Each measured task at its feature distance from the pretraining images: ${measured
          .map(
            (p) =>
              `${p.taskId} ${p.x.toFixed(1)} (${p.winner === 'unknown' ? 'no published winner' : `the paper's winner ${p.winner === 'vpt' ? 'VPT' : 'FT'}`})`,
          )
          .join('; ')}`}
        empty={
          measured.length === 0
            ? 'No distance measured yet. Press “Compute distances”: the procedural tasks are measured against the bundled model’s pretraining images; pick a VTAB task’s data to measure it too.'
            : undefined
        }
      >
        <ResponsiveContainer width="100%" height="100%">
          <ScatterChart accessibilityLayer={false} margin={{ top: 16, right: 110, bottom: 32, left: 16 }}>
            <CartesianGrid stroke="#d0d0d0" />
            <XAxis
              type="number"
              dataKey="x"
              name="distance"
              domain={[0, 'auto']}
              tick={AXIS_TICK}
              stroke={AXIS_TEXT}
              label={axisLabel('Fréchet distance of features to the reference set', 'insideBottom', { offset: -18 })}
            />
            <YAxis
              type="number"
              dataKey="y"
              name="objective"
              domain={[-0.5, 2.5]}
              ticks={[0, 1, 2]}
              tickFormatter={(v: number) => GROUP_NAMES[Math.round(v)] ?? ''}
              width={96}
              tick={AXIS_TICK}
              stroke={AXIS_TEXT}
            />
            <Tooltip
              content={({ payload }) => {
                const p = payload?.[0]?.payload as Point | undefined;
                return p ? (
                  <div className="tooltip">
                    <strong>{p.task}</strong>
                    <br />
                    {p.detail}
                    <br />
                    distance {p.x.toFixed(1)}
                  </div>
                ) : null;
              }}
            />
            <Scatter
              name="FT wins (published)"
              data={measured.filter((p) => p.winner === 'ft')}
              shape={(q: object) => <PointShape {...q} kind="published" colour={WINNER_COLOURS.ft} size={size} />}
              isAnimationActive={false}
            />
            <Scatter
              name="VPT wins (published)"
              data={measured.filter((p) => p.winner === 'vpt')}
              shape={(q: object) => <PointShape {...q} kind="published" colour={WINNER_COLOURS.vpt} size={size} />}
              isAnimationActive={false}
            />
            <Scatter
              name="procedural"
              data={measured.filter((p) => p.winner === 'unknown')}
              shape={(q: object) => <PointShape {...q} kind="procedural" colour={WINNER_COLOURS.unknown} size={size} />}
              isAnimationActive={false}
            />
            <Scatter
              name="your runs"
              data={ownPoints}
              shape={(q: object) => (
                <PointShape {...q} kind="own" colour={WINNER_COLOURS[(q as { payload: Point }).payload.winner as 'ft' | 'vpt']} size={size} />
              )}
              isAnimationActive={false}
            />
            <PointLabels points={measured} fontSize={presentation ? 14 : 12} />
          </ScatterChart>
        </ResponsiveContainer>
      </ChartFrame>
      <div className="unmeasured" data-testid="paper.unmeasured" data-tasks={JSON.stringify(unmeasured.map((p) => p.taskId))}>
        <p data-testid="paper.placeholderNote">
          <strong>Not measured yet ({unmeasured.length} tasks)</strong> — no distance, so no place on the axis above; listed by objective group with the
          published winner’s marker. Pick a VTAB task’s data and press “Compute distances” to place it.
        </p>
        {unmeasured.length > 0 && (
          <dl className="strip">
            {GROUP_NAMES.map((g) => {
              const inGroup = unmeasured.filter((p) => p.group === g);
              return inGroup.length ? (
                <div key={g} className="strip-row">
                  <dt>{g}</dt>
                  <dd>
                    <ul>
                      {inGroup.map((p) => (
                        <UnmeasuredChip key={p.taskId} p={p} own={own.get(p.taskId)?.winner} />
                      ))}
                    </ul>
                  </dd>
                </div>
              ) : null;
            })}
          </dl>
        )}
      </div>
    </section>
  );
}

function SweepView() {
  const setup = useLab((s) => s.setup);
  const finished = useDeferredValue(useLab(useShallow(finishedRuns)));
  const [confirming, setConfirming] = useState(false);
  const task = getTask(setup.taskId);
  const label = modelLabel(setup);
  const methods: MethodId[] = ['ft', 'vpt_deep'];
  // The sweep's time at the speeds known on this device (NaN until one is).
  const sweepSeconds = useLab((s) =>
    SWEEP_SIZES.flatMap((n) => methods.map((m) => setupRun({ ...s.setup, trainSize: n }, m))).reduce((sum, run) => {
      const speed = speedBefore(s, run);
      return sum + (speed ? secondsOf(runWork(run), speed.rates) : NaN);
    }, 0),
  );
  const relevant = finished.filter(
    (r) => r.summary.config.taskId === setup.taskId && r.summary.config.modelLabel === label && methods.includes(r.summary.config.method),
  );
  const rows = [...new Set([...SWEEP_SIZES, ...relevant.map((r) => r.summary.config.trainSize)])]
    .sort((a, b) => a - b)
    .map((n) => {
      const row: Record<string, number> = { trainSize: n };
      for (const m of methods) {
        const accs = relevant.filter((r) => r.summary.config.trainSize === n && r.summary.config.method === m).map((r) => headlineAcc(r.summary)!.mean);
        if (accs.length) row[m] = accs.reduce((a, b) => a + b, 0) / accs.length;
      }
      return row;
    })
    .filter((row) => methods.some((m) => m in row));
  const legend: LegendItem[] = [
    { label: 'Full fine-tuning', colour: METHOD_COLOURS.ft, marker: 'line' },
    { label: 'VPT-deep', colour: METHOD_COLOURS.vpt_deep, marker: 'line', dash: '6 3' },
  ];
  return (
    <section className="panel paper" aria-labelledby="sweep-title">
      <h2 id="sweep-title">Data-size sweep</h2>
      <p className="note">
        FT vs VPT-deep on <strong>{task.name}</strong> with {label}, at train sizes {SWEEP_SIZES.join(', ')} (validation a quarter of each).
        {task.source === 'vtab' && ' VTAB-1k folders hold 1,000 labelled training images: larger sizes need the full dataset, or a procedural task.'}
      </p>
      <div className="row">
        {confirming ? (
          <>
            <span data-testid="sweep.question">
              Queue {SWEEP_SIZES.length * methods.length} runs
              {Number.isFinite(sweepSeconds)
                ? `, about ${formatDuration(sweepSeconds)} on this device`
                : ' (their time is known once a run of this model has been measured here)'}
              ?
            </span>
            <button
              type="button"
              className="primary"
              data-testid="sweep.confirm"
              onClick={() => {
                setConfirming(false);
                startSweep();
              }}
            >
              Yes, queue them
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              No
            </button>
          </>
        ) : (
          <button type="button" data-testid="sweep.start" onClick={() => setConfirming(true)}>
            Queue the sweep…
          </button>
        )}
      </div>
      <ChartFrame
        title={`Test accuracy against train size — ${task.name}`}
        testId="chart.sweep"
        fileName="data-size-sweep.png"
        summary={rows
          .filter((r) => methods.some((m) => r[m] !== undefined))
          .map(
            (r) =>
              `${r.trainSize} images: ${methods
                .map((m) => (r[m] !== undefined ? `${METHODS[m].label} ${r[m]!.toFixed(1)} %` : ''))
                .filter(Boolean)
                .join(', ')}`,
          )
          .join('; ')}
        legend={legend}
        empty={
          rows.length === 0 ? 'No finished FT or VPT-deep runs on this task and model yet: queue the sweep, or finish runs at several train sizes.' : undefined
        }
      >
        <ResponsiveContainer width="100%" height="100%">
          <LineChart accessibilityLayer={false} data={rows} margin={{ top: 8, right: 24, bottom: 28, left: 8 }}>
            <CartesianGrid stroke="#d0d0d0" strokeDasharray="3 3" />
            <XAxis
              dataKey="trainSize"
              type="number"
              scale="log"
              domain={['dataMin', 'dataMax']}
              ticks={rows.map((r) => r.trainSize!)}
              tick={AXIS_TICK}
              stroke={AXIS_TEXT}
              label={axisLabel('train size (log scale)', 'insideBottom', { offset: -14 })}
            />
            <YAxis domain={[0, 100]} tick={AXIS_TICK} stroke={AXIS_TEXT} label={axisLabel('test acc. %', 'insideLeft', { angle: -90 })} />
            <Tooltip />
            <Line dataKey="ft" name="Full fine-tuning" stroke={METHOD_COLOURS.ft} strokeWidth={3} dot={{ r: 4 }} connectNulls isAnimationActive={false} />
            <Line
              dataKey="vpt_deep"
              name="VPT-deep"
              stroke={METHOD_COLOURS.vpt_deep}
              strokeDasharray="6 3"
              strokeWidth={3}
              dot={{ r: 4 }}
              connectNulls
              isAnimationActive={false}
            />
          </LineChart>
        </ResponsiveContainer>
      </ChartFrame>
    </section>
  );
}

export default function PaperViews() {
  return (
    <>
      <WhenVptWins />
      <SweepView />
    </>
  );
}

/**
 * The paper's views. "When does VPT win?": tasks placed by objective disparity (their group)
 * and data-distribution distance (Fréchet distance, measured in the worker for tasks with data),
 * coloured by the published winner, with the user's own finished runs overlaid. And the
 * data-size sweep: test accuracy against train size for FT and VPT-deep on one task.
 */
import { useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import { TASKS, getTask, type TaskGroup } from '../data/catalog';
import type { MethodId } from '../domain/run';
import { vptVersusFt, type RunResult } from '../analysis/compare';
import { METHODS } from '../train/methods';
import { pickReferenceZip, requestFrechet, setReference, startSweep } from './actions';
import { finishedRuns, headlineAcc } from '../store/selectors';
import { SWEEP_SIZES, modelLabel } from '../store/setup';
import { useLab } from '../store/store';
import type { ReferenceChoice, RunRecord } from '../store/state';
import { exportSvgAsPng } from './chartExport';
import { METHOD_COLOURS, WINNER_COLOURS } from './palette';

const GROUP_Y: Record<TaskGroup, number> = { natural: 0, specialized: 1, structured: 2 };
const GROUP_NAMES = ['natural', 'specialized', 'structured'];

interface Point {
  x: number;
  y: number;
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
    t[side].push({ setting: `${c.method} lr ${c.lr ?? 'default'} n ${c.trainSize}`, valAcc: r.summary.paper?.chosen.valAcc ?? r.summary.epochs.at(-1)?.valAcc ?? NaN, testAcc: headlineAcc(r.summary)!.mean });
    byTask.set(c.taskId, t);
  }
  const out = new Map<string, { winner: 'ft' | 'vpt'; ft: number; vpt: number }>();
  for (const [task, sides] of byTask) {
    const v = vptVersusFt(sides.ft, sides.vpt);
    if (v) out.set(task, { winner: v.winner, ft: v.ft.testAcc, vpt: v.vpt.testAcc });
  }
  return out;
}

function WhenVptWins() {
  const frechet = useLab((s) => s.paper.frechet);
  const pending = useLab((s) => s.paper.frechetPending.length);
  const reference = useLab((s) => s.paper.reference);
  const referenceUrl = useLab((s) => s.paper.referenceUrl);
  const refZip = useLab((s) => s.picked.reference);
  const model = useLab((s) => s.setup.model);
  const finished = useLab(useShallow(finishedRuns));
  const presentation = useLab((s) => s.presentation);
  const ref = useRef<HTMLDivElement>(null);
  const own = ownWinners(finished);

  // Placeholder x for unmeasured tasks: their order inside the group (catalog order), 1, 2, 3...
  const seenInGroup: Record<string, number> = {};
  const points: Point[] = TASKS.map((t) => {
    const k = (seenInGroup[t.group] = (seenInGroup[t.group] ?? 0) + 1);
    const measured = frechet[t.id];
    const winner = t.source === 'vtab' ? (t.elephantPaper.vpt > t.elephantPaper.full_finetune ? 'vpt' : 'ft') : 'unknown';
    const detail = t.source === 'vtab' ? `published FT ${t.elephantPaper.full_finetune} vs VPT ${t.elephantPaper.vpt}` : 'procedural: no published numbers';
    return { x: measured ? measured.distance : k, y: GROUP_Y[t.group] + ((k % 5) - 2) * 0.06, task: t.name, measured: !!measured, winner, detail };
  });
  const ownPoints: Point[] = [...own].map(([taskId, o]) => {
    const p = points.find((q) => q.task === getTask(taskId).name)!;
    return { ...p, y: p.y + 0.18, winner: o.winner, detail: `your runs: FT ${o.ft.toFixed(1)} vs VPT ${o.vpt.toFixed(1)}` };
  });
  const series = (w: Point['winner'], measured: boolean) => points.filter((p) => p.winner === w && p.measured === measured);
  const anyMeasured = points.some((p) => p.measured);
  const unmeasured = points.filter((p) => !p.measured).length;

  return (
    <section className="panel paper" aria-labelledby="vptwins-title">
      <h2 id="vptwins-title">When does VPT win?</h2>
      <p className="note">
        The Elephant paper explains the winner by two things: how far the task’s objective is from classification (its group, bottom to top) and how far its
        images are from the pretraining data (Fréchet distance of features, left to right). Colours: published winner (Han et al. 2024, 800/200); stars: your
        own finished FT vs VPT runs.
      </p>
      <p className="warning" role="note" data-testid="paper.placeholderNote">
        {unmeasured} task{unmeasured === 1 ? '' : 's'} drawn as hollow circles have <strong>no measured distance</strong>: their x is a placeholder order inside their
        group, not a measurement. Pick a task’s data (or use a procedural task) and press “Compute distances”.
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
        {reference === 'url' && <input type="url" aria-label="Reference URL" placeholder="https://…/imagenet-sample/" defaultValue={referenceUrl} onBlur={(e) => setReference('url', e.target.value)} />}
        {reference === 'zip' && (
          <label>
            Zip {refZip ? `(${refZip.name})` : ''}
            <input type="file" accept=".zip" onChange={(e) => pickReferenceZip(e.target.files?.[0] ?? null)} />
          </label>
        )}
        <button type="button" data-testid="paper.computeFrechet" onClick={() => requestFrechet()} disabled={pending > 0}>
          {pending > 0 ? 'Computing…' : 'Compute distances'}
        </button>
        <button type="button" className="small" onClick={() => exportSvgAsPng(ref.current, 'when-vpt-wins.png').catch(() => undefined)}>
          PNG
        </button>
      </div>
      <div ref={ref} data-testid="chart.vptWins" data-measured={JSON.stringify(Object.fromEntries(TASKS.filter((t) => frechet[t.id]).map((t) => [t.id, frechet[t.id]!.distance])))}>
        <ResponsiveContainer width="100%" height={presentation ? 520 : 360}>
          <ScatterChart margin={{ top: 16, right: 24, bottom: 32, left: 24 }}>
            <CartesianGrid stroke="#ddd" />
            <XAxis type="number" dataKey="x" name="distance" label={{ value: anyMeasured ? 'Fréchet distance to the reference (filled) · placeholder order (hollow)' : 'placeholder order — not measured yet', position: 'insideBottom', offset: -16 }} />
            <YAxis type="number" dataKey="y" name="objective" domain={[-0.5, 2.6]} ticks={[0, 1, 2]} tickFormatter={(v: number) => GROUP_NAMES[Math.round(v)] ?? ''} width={90} />
            <ZAxis range={[presentation ? 160 : 90, presentation ? 160 : 90]} />
            <Tooltip
              content={({ payload }) => {
                const p = payload?.[0]?.payload as Point | undefined;
                return p ? (
                  <div className="tooltip">
                    <strong>{p.task}</strong>
                    <br />
                    {p.detail}
                    <br />
                    {p.measured ? `distance ${p.x.toFixed(1)}` : 'distance not measured'}
                  </div>
                ) : null;
              }}
            />
            <Legend verticalAlign="top" />
            <Scatter name="FT wins (published)" data={series('ft', true)} fill={WINNER_COLOURS.ft} />
            <Scatter name="VPT wins (published)" data={series('vpt', true)} fill={WINNER_COLOURS.vpt} />
            <Scatter name="FT wins (published, x placeholder)" data={series('ft', false)} fill="#fff" stroke={WINNER_COLOURS.ft} strokeWidth={2} />
            <Scatter name="VPT wins (published, x placeholder)" data={series('vpt', false)} fill="#fff" stroke={WINNER_COLOURS.vpt} strokeWidth={2} />
            <Scatter name="procedural (no published winner)" data={[...series('unknown', true), ...series('unknown', false)]} fill="#fff" stroke={WINNER_COLOURS.unknown} strokeWidth={2} shape="diamond" />
            <Scatter name="your runs: FT won" data={ownPoints.filter((p) => p.winner === 'ft')} fill={WINNER_COLOURS.ft} shape="star" />
            <Scatter name="your runs: VPT won" data={ownPoints.filter((p) => p.winner === 'vpt')} fill={WINNER_COLOURS.vpt} shape="star" />
          </ScatterChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}

function SweepView() {
  const setup = useLab((s) => s.setup);
  const finished = useLab(useShallow(finishedRuns));
  const presentation = useLab((s) => s.presentation);
  const ref = useRef<HTMLDivElement>(null);
  const [confirming, setConfirming] = useState(false);
  const task = getTask(setup.taskId);
  const label = modelLabel(setup);
  const methods: MethodId[] = ['ft', 'vpt_deep'];
  const relevant = finished.filter((r) => r.summary.config.taskId === setup.taskId && r.summary.config.modelLabel === label && methods.includes(r.summary.config.method));
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
            <span>Queue {SWEEP_SIZES.length * methods.length} runs?</span>
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
        <button type="button" className="small" onClick={() => exportSvgAsPng(ref.current, 'data-size-sweep.png').catch(() => undefined)}>
          PNG
        </button>
      </div>
      <div ref={ref} data-testid="chart.sweep">
        {rows.length === 0 ? (
          <p className="empty">No finished FT or VPT-deep runs on this task and model yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height={presentation ? 460 : 300}>
            <LineChart data={rows} margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
              <CartesianGrid stroke="#ddd" strokeDasharray="3 3" />
              <XAxis dataKey="trainSize" type="number" scale="log" domain={['dataMin', 'dataMax']} ticks={rows.map((r) => r.trainSize!)} label={{ value: 'train size (log)', position: 'insideBottom', offset: -12 }} />
              <YAxis domain={[0, 100]} label={{ value: 'test acc. %', angle: -90, position: 'insideLeft' }} />
              <Tooltip />
              <Legend verticalAlign="top" />
              <Line dataKey="ft" name="Full fine-tuning" stroke={METHOD_COLOURS.ft} strokeWidth={3} connectNulls isAnimationActive={false} />
              <Line dataKey="vpt_deep" name="VPT-deep" stroke={METHOD_COLOURS.vpt_deep} strokeDasharray="6 3" strokeWidth={3} connectNulls isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
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

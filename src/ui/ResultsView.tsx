/**
 * Live results: loss and validation-accuracy curves per method (updating as epochs land), the
 * final table beside the published numbers, and per-class details on demand. Lazy-loaded:
 * recharts is the heaviest thing on the page.
 */
import { useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { getTask, publishedAccuracy, type TaskInfo } from '../data/catalog';
import type { MethodId } from '../domain/run';
import { chosenSearchCurve, groups, headlineAcc, runsOfGroup, viewedGroupId } from '../store/selectors';
import { AccuracyChart, WhyViews } from './WhyViews';
import { viewGroup } from './actions';
import { useLab } from '../store/store';
import type { RunRecord } from '../store/state';
import { exportSvgAsPng } from './chartExport';
import { METHOD_COLOURS, METHOD_DASH } from './palette';
import { ExportParamsButton } from './ExportParamsButton';

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

function Curves({ runs, metric, title, testId, unit }: { runs: RunRecord[]; metric: 'trainLoss' | 'valAcc'; title: string; testId: string; unit: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [err, setErr] = useState('');
  const names = seriesNames(runs);
  // The accuracy chart's chance level (the group's task; every run of a group shares it).
  const chance = metric === 'valAcc' && runs.length ? 100 / getTask(runs[0]!.summary.config.taskId).classes : undefined;
  // A finished paper-protocol run's validation curve is its chosen search run's (train800 vs
  // val200): its final runs train on train + val and have no held-out images until test.
  const series = (r: RunRecord): number[] =>
    metric === 'valAcc' && r.summary.paper ? chosenSearchCurve(r.summary).map((c) => c.heldOutAcc) : r.summary.epochs.map((e) => e[metric]);
  const values = new Map(runs.map((r) => [r.summary.config.runId, series(r)]));
  const maxEpochs = Math.max(0, ...[...values.values()].map((v) => v.length));
  const rows = Array.from({ length: maxEpochs }, (_, i) => {
    const row: Record<string, number> = { epoch: i + 1 };
    for (const [runId, v] of values) if (i < v.length && Number.isFinite(v[i])) row[runId] = v[i]!;
    return row;
  });
  const points = Object.fromEntries(runs.map((r) => [names.get(r.summary.config.runId)!, values.get(r.summary.config.runId)!.length]));
  const presentation = useLab((s) => s.presentation);
  return (
    <figure className="chart" data-testid={testId} data-points={JSON.stringify(points)} data-chance={chance} ref={ref}>
      <figcaption>
        {title}
        <button
          type="button"
          className="small"
          data-testid={`${testId}.png`}
          onClick={() => exportSvgAsPng(ref.current, `${testId.replace('.', '-')}.png`).then(() => setErr(''), (e: Error) => setErr(e.message))}
        >
          PNG
        </button>
      </figcaption>
      {err && <p className="note">{err}</p>}
      {maxEpochs === 0 ? (
        <p className="empty">No epochs yet: curves appear as epochs finish.</p>
      ) : (
        <ResponsiveContainer width="100%" height={presentation ? 460 : 280}>
          <LineChart data={rows} margin={{ top: 8, right: 24, bottom: 24, left: 8 }}>
            <CartesianGrid stroke="#ccc" strokeDasharray="3 3" />
            <XAxis dataKey="epoch" allowDecimals={false} label={{ value: 'epoch', position: 'insideBottom', offset: -12 }} />
            <YAxis domain={metric === 'valAcc' ? [0, 100] : ['auto', 'auto']} label={{ value: unit, angle: -90, position: 'insideLeft' }} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(metric === 'valAcc' ? 1 : 3) : String(v))} />
            <Legend verticalAlign="top" />
            {chance !== undefined && <ReferenceLine y={chance} stroke="#555" strokeDasharray="6 4" label={{ value: 'chance', position: 'right', fontSize: 12 }} />}
            {runs.map((r) => (
              <Line
                key={r.summary.config.runId}
                type="monotone"
                dataKey={r.summary.config.runId}
                name={names.get(r.summary.config.runId)}
                stroke={METHOD_COLOURS[r.summary.config.method]}
                strokeDasharray={METHOD_DASH[r.summary.config.method]}
                strokeWidth={presentation ? 4 : 2.5}
                dot={{ r: presentation ? 5 : 3 }}
                isAnimationActive={false}
                connectNulls
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
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

export default function ResultsView() {
  const groupId = useLab(viewedGroupId);
  const runs = useLab(useShallow((s) => runsOfGroup(s, groupId)));
  const allGroups = useLab(useShallow((s) => groups(s).map((g) => `${g.id}\t${g.label}\t${g.count}`))).map((line) => {
    const [id, label, count] = line.split('\t');
    return { id: id!, label: label!, count: Number(count) };
  });
  if (runs.length === 0) {
    return (
      <section className="panel results" aria-labelledby="results-title">
        <h2 id="results-title">Results</h2>
        <p className="empty">Press Start: curves, the results table and Grad-CAM maps appear here as runs train.</p>
        <div data-testid="chart.loss" data-points="{}" />
        <div data-testid="chart.accuracy" data-points="{}" />
      </section>
    );
  }
  const task = getTask(runs[0]!.summary.config.taskId);
  const names = seriesNames(runs);
  // The protocol of the group (every run of one Start shares it); its sizes for the caption.
  const paper = runs.find((r) => r.summary.paper)?.summary.paper;
  return (
    <section className="panel results" aria-labelledby="results-title">
      <h2 id="results-title">Results</h2>
      <div className="field inline">
        <label htmlFor="group">Showing</label>
        <select id="group" data-testid="results.group" value={groupId ?? ''} onChange={(e) => viewGroup(e.target.value || null)}>
          {allGroups.map((g) => (
            <option key={g.id} value={g.id}>
              {g.label} ({g.count} runs)
            </option>
          ))}
        </select>
      </div>
      <div className="charts">
        <Curves runs={runs} metric="trainLoss" title={paper ? "Training loss per epoch: the first seed's final run" : 'Training loss per epoch'} testId="chart.loss" unit="loss" />
        <Curves runs={runs} metric="valAcc" title={paper ? 'Validation accuracy per epoch (%): the chosen search run' : 'Validation accuracy per epoch (%)'} testId="chart.accuracy" unit="%" />
      </div>
      <AccuracyChart runs={runs} names={names} numClasses={task.classes} />
      <table className="results-table" data-testid="results.table">
        <caption>
          Test accuracy on {task.name} (%)
          {paper ? `, mean ± standard deviation over ${paper.final.length} seed(s) — paper protocol: ${paper.search.length} search run(s) on ${paper.searchTrainSize} train / ${paper.valSize} val images, final training on all ${paper.finalTrainSize}` : ' — quick protocol: one run each, at the hyperparameters above'}
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
              <tr key={s.config.runId} data-testid={`results.row.${s.config.method}`} data-run-id={s.config.runId} data-acc={acc ?? ''} data-std={h && Number.isFinite(h.std) ? h.std : ''}>
                <th scope="row">
                  <span className="swatch" style={{ background: METHOD_COLOURS[s.config.method] }} aria-hidden="true" /> {names.get(s.config.runId)}
                </th>
                <td>{s.stage ? `${s.status} · ${s.stage.stage === 'search' ? `search ${s.stage.index + 1}/${s.stage.of} (lr ${s.stage.lr}, wd ${s.stage.wd})` : `final run ${s.stage.index + 1}/${s.stage.of} (seed ${s.stage.seed})`}` : s.status}</td>
                <td className="num" data-testid={`results.acc.${s.config.method}`} title={p ? `seeds: ${p.final.map((f) => `${f.seed}: ${f.testAcc.toFixed(1)} %`).join(', ')}` : undefined}>
                  {pct(acc)}
                  {h && Number.isFinite(h.std) ? ` ± ${h.std.toFixed(1)}` : ''}
                  {h?.nearChance && <abbr title={`within noise of chance (${h.chance.toFixed(1)} %)`}> †</abbr>}
                </td>
                {paper && <td data-testid={`results.chosen.${s.config.method}`}>{p ? `lr ${p.chosen.lr} · wd ${p.chosen.wd}` : '–'}</td>}
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
        Chance level: {(100 / task.classes).toFixed(1)} % ({task.classes} classes). † = within noise of chance (below chance + 2 binomial standard errors on the test images).
      </p>
      {task.source === 'vtab' && <p className="note">Published numbers: ViT-B/16 ImageNet-21k, full VTAB-1k protocol; yours depend on the model, epochs and data size chosen above.</p>}
      <WhyViews runs={runs} names={names} />
      {runs.map((r) => (
        <PerClass key={r.summary.config.runId} run={r} />
      ))}
    </section>
  );
}

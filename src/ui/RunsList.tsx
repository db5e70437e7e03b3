/**
 * Every stored run with its setup: finished, failed, cancelled and interrupted ones (a run that
 * was training when the page closed comes back 'interrupted', with Resume). Export as JSON or
 * CSV; delete only after a confirmation.
 */
import { memo, useDeferredValue, useEffect, useRef, useState } from 'react';
import { deleteRun, resumeRun, scrollToSection, toggleCompare, viewGroup } from './actions';
import { resolutionText } from '../store/setup';
import { exportRuns, runsToCsv } from '../store/export';
import { downloadBlob } from './download';
import { useLab, useRunRecords } from '../store/store';
import type { RunRecord } from '../store/state';
import { METHOD_COLOURS } from './palette';
import { ExportParamsButton } from './ExportParamsButton';

const RESUMABLE = ['interrupted', 'failed', 'cancelled'];

function setupText(r: RunRecord): string {
  const c = r.summary.config;
  return `${c.taskId} · ${c.modelSource} · data ${c.dataSource} · train ${c.trainSize}/val ${c.valSize} · ${c.epochs} ep · batch ${c.batchSize} · ${c.protocol ? `paper protocol (${c.protocol.seeds.length} seeds) · chosen ` : ''}lr ${c.lr ?? 'default'} · prompt ${c.promptLength ?? 'rule'} · seed ${c.seed} · ${resolutionText(c.imageSize)}${r.importedFrom ? ` · from ${r.importedFrom}` : ''}`;
}

/**
 * The rows of the list, newest first: a failed run stands for every failed attempt of the same
 * setup and method (repeated failures are one row with a count, the latest attempt's error shown).
 */
function listRows(runs: RunRecord[]): { run: RunRecord; attempts: RunRecord[] }[] {
  const failed = new Map<string, RunRecord[]>();
  const rows: { run: RunRecord; attempts: RunRecord[] }[] = [];
  for (const r of [...runs].reverse()) {
    if (r.summary.status !== 'failed') {
      rows.push({ run: r, attempts: [r] });
      continue;
    }
    const key = `${r.summary.config.method}|${setupText(r)}`;
    const same = failed.get(key);
    if (same) same.push(r);
    else {
      const attempts = [r];
      failed.set(key, attempts);
      rows.push({ run: r, attempts });
    }
  }
  return rows;
}

export function RunsList() {
  const runs = useDeferredValue(useRunRecords((s) => s.order.map((id) => s.runs[id]).filter((r): r is RunRecord => !!r)));
  const activeRunId = useLab((s) => s.activeRunId);
  const waiting = useLab((s) => s.queue);
  const restored = useLab((s) => s.restored);
  const compare = useLab((s) => s.compare);
  return <MemoRunsTable runs={runs} activeRunId={activeRunId} waiting={waiting} restored={restored} compare={compare} />;
}

/** Memoised: the urgent render of a store change (with the deferred runs still the old ones) skips it. */
const MemoRunsTable = memo(RunsTable);

function RunsTable({
  runs,
  activeRunId,
  waiting,
  restored,
  compare,
}: {
  runs: RunRecord[];
  activeRunId: string | null;
  waiting: string[];
  restored: boolean;
  compare: string[];
}) {
  /** Runs to delete once confirmed: one run, a row of failed attempts, or every failed run ("Clear failed"). */
  const [toDelete, setToDelete] = useState<{ runs: RunRecord[]; what: string } | null>(null);
  const failedRuns = runs.filter((r) => r.summary.status === 'failed');
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (toDelete && !d.open) d.showModal();
    if (!toDelete && d.open) d.close();
  }, [toDelete]);

  const exportJson = () => {
    const file = exportRuns(useLab.getState());
    downloadBlob(
      new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' }),
      `vpt-lab-runs-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`,
    );
  };
  const exportCsv = () => downloadBlob(new Blob([runsToCsv(useLab.getState())], { type: 'text/csv' }), 'vpt-lab-runs.csv');

  return (
    <section className="panel runs" aria-labelledby="runs-title">
      <h2 id="runs-title">Saved runs</h2>
      <div className="buttons">
        <button type="button" data-testid="export.json" onClick={exportJson} disabled={runs.length === 0}>
          Export JSON
        </button>
        <button type="button" data-testid="export.csv" onClick={exportCsv} disabled={runs.length === 0}>
          Export CSV
        </button>
        <button
          type="button"
          className="danger"
          data-testid="runs.clearFailed"
          disabled={failedRuns.length === 0}
          onClick={() => setToDelete({ runs: failedRuns, what: `all ${failedRuns.length} failed run${failedRuns.length === 1 ? '' : 's'}` })}
        >
          Clear failed{failedRuns.length ? ` (${failedRuns.length})` : ''}…
        </button>
      </div>
      {!restored ? (
        <p className="note">Reading stored runs…</p>
      ) : runs.length === 0 ? (
        <p className="empty">No runs yet. Finished and interrupted runs are kept in this browser.</p>
      ) : (
        <table className="runs-table" data-testid="runs.list">
          <thead>
            <tr>
              <th scope="col">Method</th>
              <th scope="col">Status</th>
              <th scope="col">Test acc.</th>
              <th scope="col">Setup</th>
              <th scope="col">Started</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {listRows(runs).map(({ run: r, attempts }) => {
              const s = r.summary;
              const id = s.config.runId;
              return (
                <tr key={id} data-testid="runs.row" data-run-id={id} data-status={s.status} data-method={s.config.method} data-count={attempts.length}>
                  <th scope="row">
                    <span className="swatch" style={{ background: METHOD_COLOURS[s.config.method] }} aria-hidden="true" /> {r.methodLabel}
                  </th>
                  <td>
                    {s.status}
                    {attempts.length > 1 && (
                      <span className="attempts" data-testid="runs.attempts" title="Failed attempts of this setup; the latest one's error is shown">
                        {' '}
                        × {attempts.length}
                      </span>
                    )}
                    {s.error ? <div className="error-text">{s.error.message}</div> : null}
                  </td>
                  <td className="num">
                    {s.paper
                      ? `${s.paper.mean.toFixed(1)}${Number.isFinite(s.paper.std) ? ` ± ${s.paper.std.toFixed(1)}` : ''}`
                      : s.test
                        ? s.test.testAcc.toFixed(1)
                        : '–'}
                  </td>
                  <td className="setup-text">{setupText(r)}</td>
                  <td>{new Date(s.startedAt).toLocaleString()}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="small"
                      data-testid="runs.show"
                      onClick={() => {
                        viewGroup(r.groupId);
                        scrollToSection('results-title');
                      }}
                    >
                      Show
                    </button>
                    <label className="compare-pick">
                      <input
                        type="checkbox"
                        data-testid="runs.compare"
                        checked={compare.includes(id)}
                        onChange={(e) => {
                          toggleCompare(id, e.target.checked);
                          if (e.target.checked) scrollToSection('compare-title');
                        }}
                        aria-label={`Compare ${r.methodLabel}, ${setupText(r)}`}
                      />{' '}
                      Compare
                    </label>
                    <ExportParamsButton run={r} />
                    {/* A queued run the engine is not holding (the reload stopped it before it began) starts from here too. */}
                    {(RESUMABLE.includes(s.status) || (s.status === 'queued' && id !== activeRunId && !waiting.includes(id))) && (
                      <button type="button" className="small" data-testid="runs.resume" onClick={() => resumeRun(id)}>
                        {r.hasCheckpoint ? `Resume (from epoch ${s.epochs.length})` : s.status === 'queued' ? 'Start' : 'Restart'}
                      </button>
                    )}
                    <button
                      type="button"
                      className="small danger"
                      data-testid="runs.delete"
                      disabled={id === activeRunId}
                      onClick={() =>
                        setToDelete({
                          runs: attempts,
                          what: attempts.length > 1 ? `these ${attempts.length} failed attempts` : 'this run',
                        })
                      }
                    >
                      Delete…
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <dialog ref={dialog} className="modal confirm" onClose={() => setToDelete(null)} aria-labelledby="confirm-title">
        {toDelete && (
          <form
            method="dialog"
            onSubmit={(e) => {
              e.preventDefault();
              const ids = toDelete.runs.map((r) => r.summary.config.runId);
              setToDelete(null);
              for (const id of ids) deleteRun(id);
            }}
          >
            <h3 id="confirm-title">Delete {toDelete.what}?</h3>
            <p>
              {toDelete.runs.length === 1
                ? `${toDelete.runs[0]!.methodLabel}, ${toDelete.runs[0]!.summary.status}, started ${new Date(toDelete.runs[0]!.summary.startedAt).toLocaleString()}. `
                : `${toDelete.runs.length} runs (${[...new Set(toDelete.runs.map((r) => r.methodLabel))].join(', ')}). `}
              {toDelete.runs.length === 1
                ? 'Its metrics, checkpoint and trained parameters are removed from this browser for good (export it first to keep a copy).'
                : 'Their metrics, checkpoints and trained parameters are removed from this browser for good (export them first to keep a copy).'}
            </p>
            <div className="buttons">
              <button type="button" autoFocus onClick={() => setToDelete(null)}>
                Keep it
              </button>
              <button type="submit" className="danger" data-testid="runs.confirmDelete">
                Delete
              </button>
            </div>
          </form>
        )}
      </dialog>
    </section>
  );
}

/** The run panel: start / pause / cancel the queue, progress bars with numbers, backend badge. */
import { BackendSelect } from './BackendSelect';
import { METHODS } from '../train/methods';
import { wasmThreading, type WasmThreading } from '../backend/threads';
import type { Progress } from '../domain/progress';
import { isTerminal } from '../domain/run';
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { cancelMeasure, cancelQueue, measureSpeed, pauseActive, rerunAtLowerLr, resumeActive, setBackendOverride, startQueue } from './actions';
import { estimateStart, formatDuration, queueEta, setupWork, type SpeedBasis } from '../store/estimate';
import { formatBytes } from '../domain/progress';
import { useLab } from '../store/store';
import type { LabState, RunRecord } from '../store/state';
import { runsOfGroup, viewedGroupId } from '../store/selectors';
import { startBlocker } from '../store/requests';
import { lossRiseText, rerunLr } from '../train/divergence';

/**
 * A bar with no known total animates (indeterminate) only while its work is going: a paused run,
 * or a stage with nothing to do (generated images have nothing to decode), shows a still, empty bar.
 */
function ProgressBar(props: { label: string; value: number; max: number | undefined; text: string; testId: string; going: boolean }) {
  const known = props.max !== undefined && props.max > 0;
  const still = !known && !props.going;
  return (
    <div className="progress-row" data-testid={props.testId} data-state={known ? 'measured' : still ? 'idle' : 'going'}>
      <span className="progress-label">{props.label}</span>
      <progress value={known ? Math.min(props.value, props.max!) : still ? 0 : undefined} max={known ? props.max : 1} aria-label={props.label} />
      <span className="progress-text">{props.text}</span>
    </div>
  );
}

function progressNumbers(p: Progress | undefined): { done: number; total?: number } {
  if (!p) return { done: 0 };
  if (p.kind === 'progress') return { done: p.done, total: p.total };
  if (p.kind === 'done') return { done: p.total ?? 1, total: p.total ?? 1 };
  return { done: 0, total: p.total };
}

function ActiveRunProgress({ run }: { run: RunRecord }) {
  const { summary } = run;
  const dl = run.progress.bytes;
  const dec = run.progress.items;
  const dln = progressNumbers(dl);
  const decn = progressNumbers(dec);
  const running = summary.status === 'running';
  const phases = METHODS[summary.config.method].phases.length;
  const totalEpochs = summary.config.epochs * phases;
  const epochsDone = summary.epochs.length;
  const step = run.step;
  const spe = step?.stepsPerEpoch ?? run.stepsPerEpoch ?? 0;
  const stepsDone = epochsDone * spe + (step && epochsDone < step.epoch ? step.step : 0);
  const totalSteps = totalEpochs * spe;
  return (
    <div className="active-run" aria-live="polite">
      <p>
        <strong>{run.methodLabel}</strong> on {summary.config.taskId} · {summary.config.modelSource}
      </p>
      <ProgressBar
        testId="run.progress.download"
        label={dl?.fromCache ? 'Weights (cache)' : 'Download'}
        going={running && !!dl && dl.kind !== 'done'}
        value={dln.done}
        max={dln.total}
        text={
          dl
            ? `${formatBytes(dln.done)}${dln.total ? ` / ${formatBytes(dln.total)}` : ''}${dl.fromCache ? ' from cache' : dl.kind === 'done' ? '' : ' from network'}`
            : '–'
        }
      />
      <ProgressBar
        testId="run.progress.decode"
        label="Decoding"
        going={running && !!dec && dec.kind !== 'done'}
        value={decn.done}
        max={decn.total}
        text={dec ? `${decn.done}${decn.total ? ` / ${decn.total}` : ''} images` : '–'}
      />
      <ProgressBar
        testId="run.progress.train"
        label="Training"
        going={running}
        value={stepsDone}
        max={totalSteps || undefined}
        text={
          step
            ? `epoch ${step.epoch}/${totalEpochs} · step ${step.step}/${step.stepsPerEpoch} · ${step.imagesPerSec.toFixed(1)} img/s · loss ${step.loss.toFixed(3)}`
            : `${epochsDone}/${totalEpochs} epochs`
        }
      />
    </div>
  );
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Training runs a queued run makes: one, or the paper protocol's search points and final seeds. */
function trainingRuns(r: RunRecord): number {
  const p = r.summary.config.protocol;
  return p ? p.grid.lrs.length * p.grid.wds.length + p.seeds.length : 1;
}

/**
 * The status line: what the queue now going (or last gone) did, counted over its own runs (a
 * resumed run alone is "1 run"), with the rest of its group when the group holds more runs.
 */
function queueText(s: LabState): string {
  const runs = s.queueRuns.map((id) => s.runs[id]).filter((r): r is RunRecord => !!r);
  const active = s.activeRunId ? s.runs[s.activeRunId] : undefined;
  const groupId = runs[0]?.groupId ?? active?.groupId ?? null;
  const group = runsOfGroup(s, groupId);
  // Where the queue covers only part of its group (a resumed run): how the whole group stands.
  const groupNote = group.length > runs.length ? ` (this group: ${group.filter((r) => r.summary.status === 'done').length} of ${group.length} done)` : '';
  switch (s.queueState) {
    case 'idle':
      return s.stopped.length ? `Stopped by a reload: ${plural(s.stopped.length, 'run')} to resume` : 'Ready — nothing queued';
    case 'running':
    case 'paused': {
      const pending = s.pending === 'pause' ? ' — pausing after this step…' : s.pending === 'resume' ? ' — resuming…' : '';
      // The paper protocol: count training runs, as the setup and the button do, and name the candidate.
      if (runs.some((r) => r.summary.config.protocol)) {
        const total = runs.reduce((n, r) => n + trainingRuns(r), 0);
        let done = 0;
        for (const r of runs) {
          if (r === active) break;
          done += isTerminal(r.summary.status) ? trainingRuns(r) : 0;
        }
        const st = active?.summary.stage;
        const p = active?.summary.config.protocol;
        const here = st && p ? (st.stage === 'search' ? st.index : p.grid.lrs.length * p.grid.wds.length + st.index) : 0;
        const what = active
          ? `${active.methodLabel}: ${st ? `${st.stage === 'search' ? `search ${st.index + 1}/${st.of}` : `final run ${st.index + 1}/${st.of}`} (lr ${st.lr}, wd ${st.wd}, seed ${st.seed})` : active.summary.status}`
          : 'starting';
        return `Training run ${Math.min(total, done + here + 1)} of ${total} — ${what}${s.queueState === 'paused' ? ' (paused)' : ''}${pending}`;
      }
      const finished = runs.filter((r) => isTerminal(r.summary.status)).length;
      const idx = active && runs.includes(active) ? runs.indexOf(active) + 1 : finished + 1;
      const what = active ? `${active.methodLabel}: ${active.summary.status}` : 'starting';
      return `Run ${idx} of ${Math.max(runs.length, idx)} — ${what}${s.queueState === 'paused' && active?.summary.status !== 'paused' ? ' (paused)' : ''}${pending}`;
    }
    case 'cancelled': {
      // Only the runs that ran to their end count as finished; the cancelled ones did not.
      const done = runs.filter((r) => r.summary.status === 'done').length;
      return `Queue cancelled: ${done} of ${plural(runs.length, 'run')} finished${groupNote} — cancelled`;
    }
    case 'done': {
      const failed = runs.filter((r) => r.summary.status === 'failed').length;
      return `${plural(runs.length, 'run')} finished${failed ? ` (${failed} failed)` : ''}${groupNote} — done`;
    }
  }
}

/**
 * Runs of the viewed group whose loss rose (train/divergence.ts) and that no later run of the same
 * method at a lower learning rate has answered yet.
 */
function risenRuns(s: LabState): RunRecord[] {
  const runs = runsOfGroup(s, viewedGroupId(s));
  return runs.filter((r, i) => {
    const rise = r.summary.lossRise;
    if (!rise) return false;
    const lr = rise.lr ?? r.summary.config.lr ?? Infinity;
    return !runs.slice(i + 1).some((o) => o.summary.config.method === r.summary.config.method && (o.summary.config.lr ?? Infinity) < lr);
  });
}

/**
 * The loss-rise guard in the status: what rose, where, and the one thing to do about it. A run
 * that trains on with a rising loss is not an error (it may still recover), but a student must not
 * read its accuracy as what the method can do.
 */
function LossRiseStatus() {
  const risen = useLab(useShallow(risenRuns));
  if (!risen.length) return null;
  return (
    <div className="loss-rise" role="status" data-testid="run.lossRise">
      {risen.map((r) => {
        const rise = r.summary.lossRise!;
        const lr = rise.lr ?? r.summary.config.lr;
        return (
          <p key={r.runId} data-run-id={r.runId}>
            <strong>{r.methodLabel}: loss rising.</strong> {capitalised(lossRiseText(rise).replace(/^The loss is rising, not falling: /, ''))} Its accuracy does
            not show what the method can do.{' '}
            {lr !== undefined && (
              <button type="button" className="small" data-testid="run.rerunLower" onClick={() => rerunAtLowerLr(r.runId)}>
                Rerun at lr ÷ 10 ({rerunLr(lr)})
              </button>
            )}
          </p>
        );
      })}
    </div>
  );
}

const capitalised = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/** Where a time comes from, in words a student can weigh. */
function basisText(basis: SpeedBasis | 'none', device: string): string {
  switch (basis) {
    case 'run':
      return 'at the speed this run shows';
    case 'probe':
      return `on this device (${device}), measured`;
    case 'runs':
      return `on this device (${device}), from this model's earlier runs here`;
    case 'guess':
      return 'a guess, not a measurement: no step of this setup has run on this device yet';
    case 'none':
      return 'unknown until one step of this checkpoint is measured here';
  }
}

/** The device in a few words: the backend, and WASM's threads. */
function deviceText(s: LabState): string {
  const c = s.engine.choice;
  if (!c) return 'this browser';
  const threads = c.threads?.threads;
  return c.backend === 'wasm' && threads ? `WASM, ${threads} thread${threads === 1 ? '' : 's'}` : c.backend.toUpperCase();
}

/** Models small enough to be measured without asking (a step takes well under a second): the bundled model, the tiny test preset, small files. */
function cheapToProbe(s: LabState): boolean {
  const m = s.setup.model;
  if (m.startsWith('bundled:')) return true;
  if (m === 'random:fixture_tiny') return true;
  return m === 'file' && !!s.picked.model && s.picked.model.size <= 16 * 2 ** 20;
}

/**
 * How long Start will take, beside it: each run's steps × epochs, validation passes, test and
 * Grad-CAM (paper protocol: every search run and every final run) at a speed measured by one real
 * step of the configuration on this device; a guess until then, said as such. A small model is
 * measured as soon as the setup settles; a large one when asked ("Measure on this device").
 */
function StartEstimate() {
  const e = useLab(
    useShallow((s) => {
      const est = estimateStart(s);
      const key = est.keys.join(';');
      const failed = est.keys.map((k) => s.probe.failed[k]).find(Boolean);
      return {
        seconds: est.seconds,
        basis: est.basis,
        unprobed: est.unprobed.length,
        runs: est.work.runs,
        trainImages: est.work.trainImages,
        evalImages: est.work.evalImages,
        device: deviceText(s),
        pending: !!s.probe.pending,
        ready: s.engine.state === 'ready',
        busy: s.queueState === 'running' || s.queueState === 'paused',
        cheap: cheapToProbe(s),
        failed,
        key,
      };
    }),
  );
  // A small model is measured once the setup has settled (and again for each new configuration).
  useEffect(() => {
    if (!e.cheap || !e.ready || e.busy || e.pending || e.unprobed === 0 || e.failed) return;
    const t = setTimeout(() => void measureSpeed(), 600);
    return () => clearTimeout(t);
  }, [e.key, e.cheap, e.ready, e.busy, e.pending, e.unprobed, e.failed]);
  const known = Number.isFinite(e.seconds);
  return (
    <div className="estimate" data-testid="run.estimate" data-seconds={known ? e.seconds.toFixed(2) : ''} data-basis={e.basis} data-runs={e.runs}>
      <span
        title={`${e.runs} training run(s): ${Math.round(e.trainImages)} images trained (steps and Grad-CAM), ${Math.round(e.evalImages)} evaluated (validation and test)`}
      >
        {known ? (
          <>
            About <strong>{formatDuration(e.seconds)}</strong> {basisText(e.basis, e.device)}
          </>
        ) : (
          <>Time {basisText('none', e.device)}</>
        )}
        {known && (e.runs > 1 ? ` · ${e.runs} training runs, validation, test and Grad-CAM included` : ' · validation, test and Grad-CAM included')}
      </span>
      {e.pending ? (
        <>
          <small className="reason"> Measuring one step on this device…</small>
          <button type="button" className="small" data-testid="run.measureCancel" onClick={cancelMeasure}>
            Stop measuring
          </button>
        </>
      ) : (
        e.unprobed > 0 && (
          <button
            type="button"
            className="small"
            data-testid="run.measure"
            onClick={() => void measureSpeed()}
            disabled={e.busy}
            title={e.busy ? 'Runs are going: they measure themselves' : 'Runs one real training step of this setup here (a large model takes a while)'}
          >
            Measure on this device
          </button>
        )
      )}
      {e.failed && (
        <small className="reason" data-testid="run.measureError">
          {' '}
          Could not measure: {e.failed}
        </small>
      )}
    </div>
  );
}

/**
 * The time left of the whole queue (the active run's steps, validation, Grad-CAM and test, then
 * every queued run), at the speed the run shows; the estimator is store/estimate.ts queueEta.
 */
function QueueEta() {
  const eta = useLab(useShallow((s) => ({ ...queueEta(s), device: deviceText(s) })));
  const known = Number.isFinite(eta.seconds);
  return (
    <p
      className="note eta"
      data-testid="run.eta"
      data-seconds={known ? eta.seconds.toFixed(2) : ''}
      data-active-train-seconds={Number.isFinite(eta.activeTrainSeconds) ? eta.activeTrainSeconds.toFixed(2) : ''}
      data-runs={eta.runs}
      data-basis={eta.basis}
    >
      {known ? (
        <>
          About <strong>{formatDuration(eta.seconds)}</strong> left for {eta.runs === 1 ? 'this run' : `${eta.runs} runs`} (validation, test and Grad-CAM
          included; {basisText(eta.basis, eta.device)})
        </>
      ) : (
        <>Time left: {basisText('none', eta.device)}</>
      )}
    </p>
  );
}

/**
 * How many threads WASM runs, and why not more: the engine's report (src/backend/threads.ts
 * decides, the worker starts what it decided). Where the page is not isolated, the page words the
 * fix itself, as only it knows whether its service worker will isolate the next load.
 */
function WasmThreads({ threads }: { threads?: WasmThreading }) {
  const shown =
    threads && threads.cause !== 'not-isolated'
      ? threads
      : wasmThreading({
          isolated: globalThis.crossOriginIsolated === true,
          serviceWorker: !!globalThis.navigator?.serviceWorker?.controller,
          cores: globalThis.navigator?.hardwareConcurrency,
        });
  return (
    <small className="reason" data-testid="run.threads" data-threads={shown.threads} data-threaded={shown.threaded} data-cause={shown.cause ?? ''}>
      {shown.reason}
    </small>
  );
}

export function BackendBadge() {
  const engine = useLab((s) => s.engine);
  const override = useLab((s) => s.setup.backend);
  return (
    <div className="backend" data-testid="run.backend">
      <span className="badge" title={engine.choice?.reason}>
        {engine.state === 'off'
          ? 'Engine not started'
          : engine.state === 'starting'
            ? 'Engine starting…'
            : `${engine.choice?.backend.toUpperCase()} · ${engine.choice?.adapter}`}
      </span>
      {engine.choice && engine.state === 'ready' && <small className="reason">Why: {engine.choice.reason}</small>}
      {engine.choice?.backend === 'wasm' && engine.state === 'ready' && <WasmThreads threads={engine.choice.threads} />}
      <BackendSelect testId="run.backendOverride" value={override ?? null} defaultLabel="automatic" onChange={setBackendOverride} />
    </div>
  );
}

export function RunPanel() {
  const queueState = useLab((s) => s.queueState);
  const status = useLab(queueText);
  const active = useLab((s) => (s.activeRunId ? s.runs[s.activeRunId] : undefined));
  const methods = useLab((s) => s.setup.methods);
  const paper = useLab((s) => s.setup.protocol === 'paper');
  const trainingRunCount = useLab((s) => setupWork(s.setup).runs);
  const waiting = useLab((s) => s.queue.length);
  const pending = useLab((s) => s.pending);
  // Cancel ends runs that may have taken long: it asks first.
  const [confirmCancel, setConfirmCancel] = useState(false);
  const running = useLab((s) => s.queue.length + (s.activeRunId ? 1 : 0));
  // One string, so the panel renders again only when the reason changes.
  const blocked = useLab((s) => {
    const b = startBlocker(s);
    return b ? `${b.input}: ${b.reason}` : '';
  });
  const busy = queueState === 'running' || queueState === 'paused';
  const start = () => {
    // Started: the page shows the run view from its top (status, progress, curves).
    if (startQueue().length) window.scrollTo({ top: 0 });
  };
  return (
    <section className="panel run" aria-labelledby="run-title">
      <div className="run-head">
        <h2 id="run-title">Run</h2>
        <div className="buttons">
          <button
            type="button"
            className="primary"
            data-testid="run.start"
            onClick={start}
            disabled={!!blocked}
            aria-describedby={blocked ? 'start-blocked' : undefined}
          >
            {paper
              ? `${busy ? 'Queue' : 'Start'} ${plural(trainingRunCount, 'training run')} (${plural(methods.length, 'method')})`
              : busy
                ? `Queue ${methods.length} more`
                : `Start ${plural(methods.length, 'run')}`}
          </button>
          {queueState === 'paused' ? (
            <button type="button" data-testid="run.resume" onClick={resumeActive} disabled={pending === 'resume'} data-pending={pending === 'resume'}>
              {pending === 'resume' ? 'Resuming…' : 'Resume'}
            </button>
          ) : (
            <button type="button" data-testid="run.pause" onClick={pauseActive} disabled={!active || pending === 'pause'} data-pending={pending === 'pause'}>
              {pending === 'pause' ? 'Pausing…' : 'Pause'}
            </button>
          )}
          {confirmCancel && busy ? (
            <span className="confirm-inline" role="group" aria-label="Cancel the queue?">
              Stop {plural(running, 'run')}?{' '}
              <button
                type="button"
                className="danger"
                data-testid="run.cancelConfirm"
                onClick={() => {
                  setConfirmCancel(false);
                  cancelQueue();
                }}
              >
                Yes, cancel
              </button>
              <button type="button" data-testid="run.cancelKeep" onClick={() => setConfirmCancel(false)} autoFocus>
                Keep running
              </button>
            </span>
          ) : (
            <button type="button" data-testid="run.cancel" onClick={() => setConfirmCancel(true)} disabled={!busy}>
              Cancel
            </button>
          )}
        </div>
        {blocked && (
          <p className="start-blocked" id="start-blocked" role="alert" data-testid="run.startBlocked">
            <strong>Start is off.</strong> {blocked}
          </p>
        )}
        <p className="status" role="status" data-testid="run.status" data-state={queueState}>
          {status}
        </p>
        <LossRiseStatus />
        {busy ? <QueueEta /> : <StartEstimate />}
        {waiting > 0 && <p className="note">{waiting} queued after this one.</p>}
        <BackendBadge />
      </div>
      <div className="run-body">{active && <ActiveRunProgress run={active} />}</div>
    </section>
  );
}

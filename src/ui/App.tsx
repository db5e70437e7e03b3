/**
 * The lab page. Before a run: the setup beside the run panel. Start folds the setup into one line
 * (the run view), so the status, progress and both curves are in view without scrolling; then
 * the Grad-CAM gallery, the results table, what each method does, the paper's views and the
 * stored runs. Presentation mode fits status, curves and gallery on one 1280 × 720 screen.
 */
import { Suspense, lazy, useDeferredValue } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { dismissAlert, dismissResumeOffer, resumeStopped, togglePresentation } from './actions';
import { METHODS } from '../train/methods';
import type { RunRecord } from '../store/state';
import { useLab } from '../store/store';
import { CopyLink } from './CopyLink';
import { RunPanel } from './RunPanel';
import { RunsList } from './RunsList';
import { SetupPanel } from './SetupPanel';
import { SetupSummary } from './setup/SetupSummary';
import { OfflineReady, UpdateBanner } from './UpdateBanner';
import { Intro } from './FirstScreen';

// Heavy views (recharts, canvases) load after the first paint.
const LiveCharts = lazy(() => import('./ResultsView').then((m) => ({ default: m.LiveCharts })));
const ResultsTable = lazy(() => import('./ResultsView').then((m) => ({ default: m.ResultsTable })));
const GradCamGallery = lazy(() => import('./GradCamGallery'));
const PaperViews = lazy(() => import('./PaperViews'));
const CompareRuns = lazy(() => import('./ResultsView').then((m) => ({ default: m.CompareRuns })));
const WhatThisShows = lazy(() => import('./ResultsView').then((m) => ({ default: m.WhatThisShows })));
const TeachingPanel = lazy(() => import('./TeachingPanel').then((m) => ({ default: m.TeachingPanel })));
const EngineCheck = lazy(() => import('./EngineCheck'));

/**
 * Which engine the lab runs on, in one line, in a slot whose height is reserved from the first
 * paint: the engine answers seconds after load, and its notice must not push the page down.
 */
function EngineLine() {
  const engine = useLab((s) => s.engine);
  const choice = engine.choice;
  if (choice?.noWebGPU)
    return (
      <div className="engine-line warning" role="status" title={`${choice.adapter}: ${choice.reason}`}>
        <span data-testid="banner.noWebGPU">
          <strong>No WebGPU in this browser:</strong> the lab runs on {choice.backend.toUpperCase()}
          {choice.threads?.threads ? ` (${choice.threads.threads} thread${choice.threads.threads === 1 ? '' : 's'})` : ''}, slower; the small model and offline
          tasks work.
        </span>
        <OfflineReady />
      </div>
    );
  return (
    <div className="engine-line" role="status" data-testid="engine.line">
      {engine.state === 'ready' && choice
        ? `Runs on ${choice.backend.toUpperCase()} (${choice.adapter})`
        : engine.state === 'starting'
          ? 'Starting the engine…'
          : 'The engine starts with the first run or measurement.'}
      <OfflineReady />
    </div>
  );
}

function Alerts() {
  const errors = useLab((s) => s.errors);
  const notices = useLab((s) => s.notices);
  return (
    <>
      <div className="alerts" role="alert" aria-live="assertive" data-testid="run.error">
        {errors.map((e) => (
          <div key={e.id} className="banner error" data-code={e.code}>
            <span>
              <strong>Error</strong> <code>{e.code}</code>: {e.message}
            </span>
            <button type="button" className="small" onClick={() => dismissAlert(e.id)} aria-label="Dismiss this error">
              ×
            </button>
          </div>
        ))}
      </div>
      {notices.length > 0 && (
        <div className="notices" role="status" aria-live="polite" data-testid="run.notices">
          {notices.map((n) => (
            <div key={n.id} className="banner notice">
              <span>{n.message}</span>
              <button type="button" className="small" onClick={() => dismissAlert(n.id)} aria-label="Dismiss this notice">
                ×
              </button>
            </div>
          ))}
        </div>
      )}
    </>
  );
}

/**
 * After a reload that stopped a queue: what stopped (the run that was training, at which epoch;
 * the runs that never started, still queued) and one button that resumes them all, in order.
 */
function ResumeBanner() {
  const stopped = useLab(useShallow((s) => s.stopped.map((id) => s.runs[id]).filter((r): r is RunRecord => !!r)));
  if (!stopped.length) return null;
  const describe = (r: RunRecord) => {
    const { summary } = r;
    const planned = summary.config.epochs * METHODS[summary.config.method].phases.length;
    if (summary.status === 'queued') return 'not started yet: still queued';
    return r.hasCheckpoint
      ? `stopped in epoch ${summary.epochs.length + 1} of ${planned}: continues from the checkpoint of epoch ${summary.epochs.length}`
      : `stopped before its first epoch ended: starts again`;
  };
  const files = [
    ...new Set(stopped.flatMap((r) => [r.summary.config.modelSource, r.summary.config.dataSource]).filter((src) => /^(file|zip|folder):/.test(src))),
  ];
  return (
    <div className="banner resume" role="region" aria-label="Resume the queue" data-testid="resume.banner">
      <div>
        <strong>The page was reloaded during a queue.</strong> Nothing was lost:
        <ul>
          {stopped.map((r) => (
            <li key={r.runId} data-testid="resume.run" data-run-id={r.runId} data-status={r.summary.status}>
              {r.methodLabel} — {describe(r)}
            </li>
          ))}
        </ul>
        {files.length > 0 && (
          <p className="note">
            Local files cannot be kept across a reload: pick {files.map((f) => f.replace(/^\w+:/, '')).join(' and ')} again in the setup first.
          </p>
        )}
      </div>
      <div className="buttons">
        <button type="button" className="primary" data-testid="resume.all" onClick={resumeStopped}>
          Resume the queue ({stopped.length} run{stopped.length === 1 ? '' : 's'})
        </button>
        <button
          type="button"
          className="small"
          data-testid="resume.dismiss"
          onClick={dismissResumeOffer}
          title="The runs stay in Saved runs, where each can be resumed later"
        >
          Not now
        </button>
      </div>
    </div>
  );
}

export function App() {
  const presentation = useLab((s) => s.presentation);
  const setupOpen = useLab((s) => s.setupOpen);
  // The first screen: until this visit's first Start, with the setup folded, the lab explains itself.
  // Deferred: Start's switch from the first screen to the run view is drawn in a time-sliced pass,
  // not in the click's own task.
  const intro = useDeferredValue(useLab((s) => !s.presentation && !s.setupOpen && s.queueRuns.length === 0 && s.stopped.length === 0));
  const classes = ['app', presentation ? 'presentation' : '', intro ? 'first-screen' : setupOpen && !presentation ? '' : 'run-view'].filter(Boolean).join(' ');
  return (
    <div className={classes}>
      {/* Not a plain anchor: the URL hash holds the setup, and a jump would overwrite it. */}
      <a
        className="skip-link"
        href="#run-title"
        onClick={(e) => {
          e.preventDefault();
          document.querySelector<HTMLElement>('[data-testid="run.start"]')?.focus();
        }}
      >
        Skip to Start
      </a>
      <header className="top">
        <h1>VPT vs full fine-tuning — ViT lab</h1>
        <p className="subtitle">Han et al., “Facing the Elephant in the Room: Visual Prompt Tuning or Full Finetuning?” (ICLR 2024), in your browser.</p>
        <div className="toolbar">
          <CopyLink />
          <label className="toggle">
            <input type="checkbox" data-testid="ui.presentation" checked={presentation} onChange={(e) => togglePresentation(e.target.checked)} /> Presentation
            mode
          </label>
        </div>
      </header>
      <EngineLine />
      <div className="toasts">
        <UpdateBanner />
      </div>
      <ResumeBanner />
      <Alerts />
      <main>
        <div className="workbench">
          <SetupSummary />
          {intro && <Intro />}
          <SetupPanel />
          <RunPanel />
        </div>
        <Suspense fallback={<p className="note">Loading charts…</p>}>
          <LiveCharts />
        </Suspense>
        <Suspense fallback={null}>
          <WhatThisShows />
        </Suspense>
        <Suspense fallback={null}>
          <ResultsTable />
        </Suspense>
        <Suspense fallback={<p className="note">Loading gallery…</p>}>
          <GradCamGallery />
        </Suspense>
        <Suspense fallback={null}>
          <TeachingPanel />
        </Suspense>
        <Suspense fallback={<p className="note">Loading paper views…</p>}>
          <PaperViews />
        </Suspense>
        <RunsList />
        <Suspense fallback={null}>
          <CompareRuns />
        </Suspense>
        <Suspense fallback={null}>
          <EngineCheck />
        </Suspense>
      </main>
      <footer className="note app-footer">
        ViT lab <span data-testid="app.build">{__APP_BUILD__}</span>
      </footer>
    </div>
  );
}

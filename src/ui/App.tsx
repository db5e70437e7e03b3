/**
 * The lab page. Before a run: the setup beside the run panel. Start folds the setup into one line
 * (the run view), so the status, progress and both curves are in view without scrolling; then
 * the Grad-CAM gallery, the results table, what each method does, the paper's views and the
 * stored runs. Presentation mode fits status, curves and gallery on one 1280 × 720 screen.
 */
import { Suspense, lazy } from 'react';
import { dismissAlert, togglePresentation } from './actions';
import { useLab } from '../store/store';
import { CopyLink } from './CopyLink';
import { RunPanel } from './RunPanel';
import { RunsList } from './RunsList';
import { SetupPanel, SetupSummary } from './SetupPanel';
import { UpdateBanner } from './UpdateBanner';

// Heavy views (recharts, canvases) load after the first paint.
const LiveCharts = lazy(() => import('./ResultsView').then((m) => ({ default: m.LiveCharts })));
const ResultsTable = lazy(() => import('./ResultsView').then((m) => ({ default: m.ResultsTable })));
const GradCamGallery = lazy(() => import('./GradCamGallery'));
const PaperViews = lazy(() => import('./PaperViews'));
const EngineCheck = lazy(() => import('./EngineCheck'));

function Alerts() {
  const errors = useLab((s) => s.errors);
  const notices = useLab((s) => s.notices);
  const choice = useLab((s) => s.engine.choice);
  return (
    <>
      {choice?.noWebGPU && (
        <div className="banner warning" role="status" data-testid="banner.noWebGPU">
          <span>
            <strong>No WebGPU in this browser.</strong> The lab runs on <strong>{choice.backend.toUpperCase()}</strong> ({choice.adapter}) instead: {choice.reason}. Training
            is slower; the small bundled model and procedural tasks still work.
          </span>
        </div>
      )}
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

export function App() {
  const presentation = useLab((s) => s.presentation);
  const setupOpen = useLab((s) => s.setupOpen);
  const classes = ['app', presentation ? 'presentation' : '', setupOpen && !presentation ? '' : 'run-view'].filter(Boolean).join(' ');
  return (
    <div className={classes}>
      <header className="top">
        <h1>VPT vs full fine-tuning — ViT lab</h1>
        <p className="subtitle">
          Reproducing Han et al., “Facing the Elephant in the Room: Visual Prompt Tuning or Full Finetuning?” (ICLR 2024) on VTAB-1k, in your browser.
        </p>
        <div className="toolbar">
          <CopyLink />
          <label className="toggle">
            <input type="checkbox" data-testid="ui.presentation" checked={presentation} onChange={(e) => togglePresentation(e.target.checked)} /> Presentation mode
          </label>
        </div>
      </header>
      <UpdateBanner />
      <Alerts />
      <main>
        <div className="workbench">
          <SetupSummary />
          <SetupPanel />
          <RunPanel />
        </div>
        <Suspense fallback={<p className="note">Loading charts…</p>}>
          <LiveCharts />
        </Suspense>
        <Suspense fallback={null}>
          <ResultsTable />
        </Suspense>
        <Suspense fallback={<p className="note">Loading gallery…</p>}>
          <GradCamGallery />
        </Suspense>
        <Suspense fallback={<p className="note">Loading paper views…</p>}>
          <PaperViews />
        </Suspense>
        <RunsList />
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

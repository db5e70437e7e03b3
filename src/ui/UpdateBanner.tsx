/**
 * The offline copy's messages: "saved for offline use" once after the first install, "a new
 * version is available" when a release is waiting, and a warning when no copy could be kept
 * (private browsing, storage refused). Reloading is offered only while no run
 * is in progress, because a reload ends the run (it would come back "interrupted").
 */
import { applyUpdate, dismissOfflineReady, usePwa } from '../pwa/register';
import { useLab } from '../store/store';

export function UpdateBanner() {
  const { offlineReady, updateReady, error } = usePwa();
  const queueState = useLab((s) => s.queueState);
  const busy = queueState === 'running' || queueState === 'paused';
  return (
    <>
      {updateReady && (
        <div className="banner notice" role="status" data-testid="banner.update">
          <span>
            <strong>A new version of the lab is available.</strong>{' '}
            {busy ? 'Reload when the current runs have finished (reloading now would stop them).' : 'Reload to use it; your runs are kept.'}
          </span>
          <button type="button" className="small" data-testid="banner.updateReload" disabled={busy} onClick={() => void applyUpdate()}>
            Reload
          </button>
        </div>
      )}
      {offlineReady && !updateReady && (
        <div className="banner notice" role="status" data-testid="banner.offlineReady">
          <span>The lab is saved in this browser: it now starts without a network, too.</span>
          <button type="button" className="small" onClick={dismissOfflineReady} aria-label="Dismiss this notice">
            ×
          </button>
        </div>
      )}
      {error && (
        <div className="banner warning" role="status" data-testid="banner.offlineUnavailable">
          <span>This browser did not keep an offline copy of the lab ({error}); it works while online.</span>
        </div>
      )}
    </>
  );
}

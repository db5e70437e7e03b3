/**
 * The offline copy's messages: "saved for offline use" once after the first install, "a new
 * version is available" when a release is waiting, and a warning when no copy could be kept
 * (private browsing, storage refused). Reloading is offered only while no run
 * is in progress, because a reload ends the run (it would come back "interrupted").
 */
import { useEffect } from 'react';
import { applyUpdate, dismissOfflineReady, usePwa } from '../pwa/register';
import { useLab } from '../store/store';

const OFFLINE_READY_MS = 15_000;

/**
 * "Saved for offline use", said in the engine's reserved line (it arrives seconds after load and
 * must not move the page), and gone by itself after a while: it is news once.
 */
export function OfflineReady() {
  const { offlineReady, updateReady } = usePwa();
  useEffect(() => {
    if (!offlineReady) return;
    const t = setTimeout(dismissOfflineReady, OFFLINE_READY_MS);
    return () => clearTimeout(t);
  }, [offlineReady]);
  if (!offlineReady || updateReady) return null;
  return (
    <span className="offline-ready" data-testid="banner.offlineReady">
      {' '}
      · Saved in this browser: the lab now starts without a network, too.
    </span>
  );
}

export function UpdateBanner() {
  const { updateReady, error } = usePwa();
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
      {error && (
        <div className="banner warning" role="status" data-testid="banner.offlineUnavailable">
          <span>This browser did not keep an offline copy of the lab ({error}); it works while online.</span>
        </div>
      )}
    </>
  );
}

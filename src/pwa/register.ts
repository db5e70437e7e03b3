/**
 * The page's side of the service worker (src/pwa/sw.ts): registers it through vite-plugin-pwa's
 * Workbox-based helper and keeps what the banner needs in a small store of its own.
 *
 * - `offlineReady`: the first install finished; the lab now starts with the network off.
 * - `updateReady`: a new release is installed and waiting, or another tab has already switched to
 *   it. `applyUpdate()` activates it and reloads this tab; the banner only offers that while no
 *   run is in progress, so a reload never cuts a run. Nothing here reloads a tab by itself: the
 *   plugin's own reload-on-activation is replaced (`onNeedReload`), because a tab mid-run must not
 *   reload when another tab takes the update.
 *
 * In the dev server the helper is a no-op (the plugin's dev mode is off), so `npm start` works as
 * before and is never served stale files.
 */
import { create } from 'zustand';
import { registerSW } from 'virtual:pwa-register';

export interface PwaState {
  offlineReady: boolean;
  updateReady: boolean;
  /** The offline copy failed to install (private mode, storage full): the lab still runs online. */
  error: string | null;
}

export const usePwa = create<PwaState>()(() => ({ offlineReady: false, updateReady: false, error: null }));

/** Releases are looked for on load and then hourly, so a page left open in class learns of one. */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

let registered = false;

export function registerServiceWorker(): void {
  if (registered || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  registered = true;
  registerSW({
    onOfflineReady: () => usePwa.setState({ offlineReady: true }),
    onNeedRefresh: () => usePwa.setState({ updateReady: true }),
    onNeedReload: () => usePwa.setState({ updateReady: true }),
    onRegisteredSW: (_url, registration) => {
      if (registration) setInterval(() => void registration.update().catch(() => undefined), UPDATE_CHECK_MS);
    },
    onRegisterError: (e: unknown) => usePwa.setState({ error: e instanceof Error ? e.message : String(e) }),
  });
}

/**
 * Activates the waiting release and reloads once it controls this tab (the caller checks that no
 * run is going). When another tab has activated it already, just reloads.
 */
export async function applyUpdate(): Promise<void> {
  const waiting = (await navigator.serviceWorker.getRegistration())?.waiting;
  if (!waiting) {
    window.location.reload();
    return;
  }
  navigator.serviceWorker.addEventListener('controllerchange', () => window.location.reload(), { once: true });
  waiting.postMessage({ type: 'SKIP_WAITING' });
}

export function dismissOfflineReady(): void {
  usePwa.setState({ offlineReady: false });
}

/**
 * The page's side of the service worker (src/pwa/sw.ts): registers it through vite-plugin-pwa's
 * Workbox-based helper and keeps what the banner needs in a small store of its own.
 *
 * - `offlineReady`: the first install finished; the lab now starts with the network off.
 * - `updateReady`: a new release is installed and waiting. `applyUpdate()` activates it and
 *   reloads; the banner only offers that while no run is in progress, so a reload never cuts a run.
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

let update: ((reload?: boolean) => Promise<void>) | null = null;

export function registerServiceWorker(): void {
  if (update || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  update = registerSW({
    onOfflineReady: () => usePwa.setState({ offlineReady: true }),
    onNeedRefresh: () => usePwa.setState({ updateReady: true }),
    onRegisteredSW: (_url, registration) => {
      if (registration) setInterval(() => void registration.update().catch(() => undefined), UPDATE_CHECK_MS);
    },
    onRegisterError: (e: unknown) => usePwa.setState({ error: e instanceof Error ? e.message : String(e) }),
  });
}

/** Activates the waiting release and reloads the page (the caller checks no run is going). */
export function applyUpdate(): void {
  void update?.(true);
}

export function dismissOfflineReady(): void {
  usePwa.setState({ offlineReady: false });
}

/// <reference lib="webworker" />
/**
 * The lab's service worker (built by vite-plugin-pwa's injectManifest into dist/sw.js).
 *
 * - Workbox precaches the app shell, the engine worker, the WASM binaries and the bundled model
 *   (the manifest is injected at build time; vite.config.ts says which files), so the lab starts
 *   with the network off after one visit. Checkpoints downloaded from the hub are not here: the
 *   engine keeps them in its own versioned Cache API bucket (src/weights/sources.ts), which
 *   Workbox never touches.
 * - A new release installs beside the old one and waits: the page shows "update available" and
 *   sends SKIP_WAITING only when the user reloads, never in the middle of a run. Until then the old
 *   worker keeps serving the old files, so a running page never loses a chunk it has yet to load.
 * - Every same-origin response gets COOP/COEP, so hosts that cannot set headers (GitHub Pages) are
 *   cross-origin isolated from the second load on.
 */
import { clientsClaim } from 'workbox-core';
import type { WorkboxPlugin } from 'workbox-core/types';
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';
import { withIsolationHeaders } from './isolation';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | PrecacheEntry)[] };

const isolate: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => withIsolationHeaders(response),
};

addPlugins([isolate]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Navigations (with any query, e.g. ?dev=1; the setup lives in the hash) get the cached page.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));
// Other same-origin GETs (files outside the precache) go to the network, isolated too.
registerRoute(({ url, request }) => url.origin === self.location.origin && request.method === 'GET', new NetworkOnly({ plugins: [isolate] }));

// The first install takes the open page at once, so it works offline without a reload; updates
// wait for SKIP_WAITING (src/pwa/register.ts), sent when the user chooses to reload.
clientsClaim();
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

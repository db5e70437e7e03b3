/**
 * The two headers that make a page cross-origin isolated (`crossOriginIsolated`, and with it
 * SharedArrayBuffer for WASM threads). One copy for every place that sends them: the dev and
 * preview servers (vite.config.ts), the service worker (sw.ts) for hosts that cannot set headers,
 * and the shipped host configurations (public/_headers, public/.htaccess, the README's nginx
 * snippet), which a unit test holds to these values.
 *
 * COEP `require-corp` (not `credentialless`) because Safari supports only that; the lab's
 * cross-origin requests (checkpoints from the Hugging Face hub, data from a URL) are CORS fetches,
 * which it allows.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/**
 * The same response with the isolation headers set. Opaque and error responses cannot be
 * rebuilt and are returned as they are.
 */
export function withIsolationHeaders(response: Response): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  if (Object.entries(ISOLATION_HEADERS).every(([k, v]) => response.headers.get(k) === v)) return response;
  const headers = new Headers(response.headers);
  for (const [k, v] of Object.entries(ISOLATION_HEADERS)) headers.set(k, v);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

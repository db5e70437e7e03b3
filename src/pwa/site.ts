/**
 * URLs of files at the site's root (Vite's public/ folder: the bundled model, the icons), from the
 * page or from a worker, wherever the site is hosted.
 *
 * The build uses a relative base ('./', vite.config.ts), so one dist/ works at a domain root and
 * under any sub-path (`https://host/course/lab/`) without rebuilding. A relative base cannot be
 * resolved against `location.origin`, and a worker's `location` is its own script, so relative
 * URLs are resolved against this module's URL instead: every built chunk sits in `assets/`, one
 * level below the site root. An absolute base (`vite build --base /lab/`, or the dev server's
 * '/') is used as it is.
 */
export function siteUrl(path: string): string {
  const base = import.meta.env.BASE_URL;
  const rel = path.replace(/^\/+/, '');
  if (base.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(base)) {
    return new URL(rel, new URL(base, globalThis.location.origin)).href;
  }
  // Not `new URL(…, import.meta.url)` literally: Vite would rewrite that pattern into a glob of
  // bundled assets, and public files are not among them.
  const here = import.meta.url;
  return new URL(`../${rel}`, here).href;
}

/** The bundled model's file (public/models/<id>.safetensors). */
export function bundledModelUrl(id: string): string {
  return siteUrl(`models/${id}.safetensors`);
}

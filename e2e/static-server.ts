/**
 * A plain static file server for the hosting specs: serves dist/ under a path prefix (a course
 * page's sub-path), with no headers beyond what any static host sends, or with the headers of a
 * Netlify / Cloudflare Pages `_headers` file, applied as those hosts apply them. It records every
 * path asked for, so a spec can tell what reached the network.
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import sirv from 'sirv';

export interface StaticServer {
  /** The site's URL, ending in the prefix. */
  url: string;
  /** Paths requested so far (prefix included). */
  requests: string[];
  /** Serve another folder from now on (a new release deployed over the old one). */
  setRoot(dir: string): void;
  close(): Promise<void>;
}

/** Rules of a `_headers` file: a path pattern (exact, or ending in `*`) and its headers. */
export function parseHeadersFile(text: string): { pattern: string; headers: Record<string, string> }[] {
  const rules: { pattern: string; headers: Record<string, string> }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      rules.push({ pattern: line.trim(), headers: {} });
      continue;
    }
    const m = /^\s+([^:\s]+):\s*(.*)$/.exec(line);
    const rule = rules[rules.length - 1];
    if (!m || !rule) throw new Error(`_headers: cannot read the line '${line}'`);
    rule.headers[m[1]!] = m[2]!.trim();
  }
  return rules;
}

function matches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

export async function serveStatic(opts: { root: string; port: number; prefix?: string; headersFile?: string }): Promise<StaticServer> {
  const prefix = opts.prefix ?? '/';
  const rules = opts.headersFile ? parseHeadersFile(readFileSync(opts.headersFile, 'utf8')) : [];
  const serve = (dir: string) => sirv(dir, { dev: true, etag: true });
  let files = serve(opts.root);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    if (!url.startsWith(prefix)) {
      res.writeHead(404).end('outside the site');
      return;
    }
    const sitePath = `/${url.slice(prefix.length)}`;
    for (const rule of rules) if (matches(rule.pattern, sitePath.split('?')[0]!)) for (const [k, v] of Object.entries(rule.headers)) res.setHeader(k, v);
    req.url = sitePath;
    files(req, res, () => {
      res.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${opts.port}${prefix}`,
    requests,
    setRoot: (dir) => {
      files = serve(dir);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

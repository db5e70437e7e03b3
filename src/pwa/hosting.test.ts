/**
 * The shipped host configurations send exactly the headers the service worker and the dev server
 * send (src/pwa/isolation.ts), so no copy drifts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ISOLATION_HEADERS, withIsolationHeaders } from './isolation';

const HOST_FILES = ['public/_headers', 'public/.htaccess', 'deploy/nginx.conf'];

describe('host configurations', () => {
  for (const file of HOST_FILES) {
    it(`${file} sets COOP and COEP to the lab's values`, () => {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !l.trim().startsWith('#'));
      for (const [name, value] of Object.entries(ISOLATION_HEADERS)) {
        const line = lines.find((l) => l.includes(name));
        expect(line, `${file} has no ${name}`).toBeDefined();
        expect(line!.replace(/["']/g, '')).toMatch(new RegExp(`${name}:?\\s+${value}\\b`));
      }
    });
  }

  it("the README's nginx snippet is deploy/nginx.conf's block", () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = readFileSync('deploy/nginx.conf', 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('#'))
      .join('\n');
    expect(readme).toContain(block);
  });
});

describe('withIsolationHeaders', () => {
  it('adds both headers and keeps status, body and the other headers', async () => {
    const r = withIsolationHeaders(new Response('body', { status: 203, headers: { 'Content-Type': 'text/plain' } }));
    expect(r.status).toBe(203);
    expect(r.headers.get('content-type')).toBe('text/plain');
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) expect(r.headers.get(k)).toBe(v);
    expect(await r.text()).toBe('body');
  });

  it('leaves a response that already has them untouched', () => {
    const r = new Response('x', { headers: ISOLATION_HEADERS });
    expect(withIsolationHeaders(r)).toBe(r);
  });
});

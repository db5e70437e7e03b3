import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '../domain/progress';
import { loadCheckpointFromPath, readPathSource } from './node';
import { loadCheckpoint } from './load';
import {
  HUB_CHECKPOINTS,
  byteProgress,
  cachedCopy,
  dropOtherCaches,
  fetchAndOpen,
  fetchCheckpoint,
  readFileSource,
  readStream,
  removeCachedCopy,
} from './sources';
import { FIXTURES, catchError, fixture } from './testutil';

const body = fixture('timm_tiny_model.safetensors');
/** Byte equality (vitest's deep equality walks typed arrays slowly). */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
let server: Server;
let base = '';
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/model.safetensors') {
      res.writeHead(200, { 'Content-Length': String(body.length) });
      for (let i = 0; i < body.length; i += 50_000) res.write(body.subarray(i, i + 50_000));
      res.end();
    } else if (req.url === '/chunked.safetensors') {
      res.writeHead(200); // no Content-Length: chunked transfer
      for (let i = 0; i < body.length; i += 70_001) res.write(body.subarray(i, i + 70_001));
      res.end();
    } else if (req.url === '/slow') {
      // Half the body, then nothing: a download the user cancels.
      res.writeHead(200, { 'Content-Length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1));
      const timer = setTimeout(() => res.end(body.subarray(body.length >> 1)), 30_000);
      res.on('close', () => clearTimeout(timer));
    } else if (req.url === '/short') {
      res.writeHead(200, { 'Content-Length': String(body.length) });
      res.end(body.subarray(0, 1000));
      res.socket?.destroy();
    } else {
      res.writeHead(404, 'Not Found');
      res.end('nope');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('fetchCheckpoint (Node: no Cache API)', () => {
  it('streams into one buffer with byte progress', async () => {
    const events: Progress[] = [];
    const bytes = await fetchCheckpoint(`${base}/model.safetensors`, { onProgress: (p) => events.push(p) });
    expect(same(bytes, body)).toBe(true);
    expect(bytes.buffer.byteLength).toBe(body.length); // preallocated exactly, no concat
    expect(events[0]).toMatchObject({ kind: 'initiate', unit: 'bytes', total: body.length, fromCache: false });
    expect(events.at(-1)).toMatchObject({ kind: 'done', total: body.length });
    const last = events.filter((e) => e.kind === 'progress').at(-1);
    expect(last).toMatchObject({ done: body.length, total: body.length });
  });

  it('handles a body without Content-Length', async () => {
    expect(same(await fetchCheckpoint(`${base}/chunked.safetensors`), body)).toBe(true);
  });

  it('has no stored copies to show or remove without a Cache API', async () => {
    expect(await cachedCopy(`${base}/model.safetensors`)).toBeNull();
    expect(await removeCachedCopy(`${base}/model.safetensors`)).toBe(false);
  });

  it('HTTP errors name the URL and status', async () => {
    const e = await rejection(fetchCheckpoint(`${base}/missing.safetensors`));
    expect(e.code).toBe('checkpoint/download-failed');
    expect(e.message).toContain(`${base}/missing.safetensors`);
    expect(e.message).toContain('404');
  });

  it('a body that ends early is checkpoint/download-incomplete, naming the URL and how far it got', async () => {
    const e = await rejection(fetchCheckpoint(`${base}/short`));
    expect(e.code).toBe('checkpoint/download-incomplete');
    expect(e.message).toContain(`${base}/short`);
    expect(e.message).toMatch(/of \d+(\.\d)? kB/);
    expect(e.message).toContain('Nothing was kept in the cache');
  });
});

describe('byteProgress', () => {
  it('reports a 346 MB transfer in at most ~200 rising steps that end at the total', () => {
    const total = 346_000_000;
    const events: Progress[] = [];
    const report = byteProgress((p) => events.push(p), 'u', total, false);
    // Chunks of 64 kB, as a network stream delivers them.
    for (let done = 65_536; done < total; done += 65_536) report(done);
    report(total, true);
    const done = events.map((e) => (e.kind === 'progress' ? e.done : NaN));
    expect(done.every(Number.isFinite)).toBe(true);
    expect(done.length).toBeGreaterThan(150);
    expect(done.length).toBeLessThanOrEqual(202);
    expect(done.every((d, i) => i === 0 || d > done[i - 1]!)).toBe(true);
    expect(done.at(-1)).toBe(total);
    expect(report.done).toBe(total);
    expect(events[0]).toMatchObject({ kind: 'progress', unit: 'bytes', total, fromCache: false });
  });

  it('reports at least every MiB of a small or unsized transfer, and counts without a listener', () => {
    const events: Progress[] = [];
    const report = byteProgress((p) => events.push(p), 'u', undefined, true);
    for (let done = 100_000; done <= 5_000_000; done += 100_000) report(done);
    // The first chunk at once, then one per MiB passed: 0.1, 1.2, 2.3, 3.4, 4.5 MB.
    expect(events.map((e) => (e.kind === 'progress' ? e.done / 1e6 : 0))).toEqual([0.1, 1.2, 2.3, 3.4, 4.5]);
    const silent = byteProgress(undefined, 'u', 10, false);
    silent(7);
    expect(silent.done).toBe(7);
  });
});

describe('fetchCheckpoint with a Cache API', () => {
  const store = new Map<string, Uint8Array>();
  const fakeCaches = {
    open: async () => ({
      match: async (url: string) => {
        const b = store.get(url);
        return b ? new Response(b.slice(), { headers: { 'Content-Length': String(b.length) } }) : undefined;
      },
      put: async (url: string, res: Response) => void store.set(url, new Uint8Array(await res.arrayBuffer())),
      delete: async (url: string) => store.delete(url),
    }),
  };
  beforeAll(() => void ((globalThis as Record<string, unknown>).caches = fakeCaches));
  afterAll(() => void delete (globalThis as Record<string, unknown>).caches);

  it('downloads once, then serves from the cache and says so', async () => {
    const url = `${base}/model.safetensors`;
    expect(await cachedCopy(url)).toBeNull();
    const before = hits;
    const first: Progress[] = [];
    expect(same(await fetchCheckpoint(url, { onProgress: (p) => first.push(p) }), body)).toBe(true);
    expect(first[0].fromCache).toBe(false);
    expect(await cachedCopy(url)).toEqual({ bytes: body.length });
    const second: Progress[] = [];
    expect(same(await fetchCheckpoint(url, { onProgress: (p) => second.push(p) }), body)).toBe(true);
    expect(second[0]).toMatchObject({ kind: 'initiate', fromCache: true, total: body.length });
    expect(hits - before).toBe(1);
  });

  it('a download that breaks off is checkpoint/download-incomplete and is not cached', async () => {
    const url = `${base}/short`;
    const e = await rejection(fetchCheckpoint(url));
    expect(e.code).toBe('checkpoint/download-incomplete');
    expect(store.has(url)).toBe(false);
    expect(await cachedCopy(url)).toBeNull();
  });

  it('a cancel during the download stops it at once as run/cancelled, and nothing is cached', async () => {
    const url = `${base}/slow`;
    const abort = new AbortController();
    const t0 = Date.now();
    const pending = fetchCheckpoint(url, {
      signal: abort.signal,
      onProgress: (p) => p.kind === 'progress' && p.done > 0 && abort.abort(),
    });
    const e = await rejection(pending);
    expect(e.code).toBe('run/cancelled');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(store.has(url)).toBe(false);
  });

  it('bytes the opener rejects are not cached; the opener sees them once', async () => {
    const url = `${base}/chunked.safetensors`;
    store.delete(url);
    let calls = 0;
    const e = await rejection(
      fetchAndOpen(url, () => {
        calls++;
        throw new Error('not this checkpoint');
      }),
    );
    expect(e.message).toBe('not this checkpoint');
    expect(calls).toBe(1);
    expect(store.has(url)).toBe(false);
  });

  it('caches what the opener accepted; a damaged stored copy is dropped and downloaded again', async () => {
    const url = `${base}/model.safetensors`;
    store.delete(url);
    const open = (bytes: Uint8Array) => loadCheckpoint(bytes, { name: url });
    expect((await fetchAndOpen(url, open)).config.numLayers).toBeGreaterThan(0);
    expect(await cachedCopy(url)).toEqual({ bytes: body.length });
    // The same length, but not a checkpoint: read back, rejected by the opener, replaced.
    store.set(url, new Uint8Array(body.length).fill(1));
    const before = hits;
    const events: Progress[] = [];
    expect((await fetchAndOpen(url, open, { onProgress: (p) => events.push(p) })).config.numLayers).toBeGreaterThan(0);
    expect(hits - before).toBe(1);
    expect(events.filter((p) => p.kind === 'initiate').map((p) => p.fromCache)).toEqual([true, false]);
    expect(same(store.get(url)!, body)).toBe(true);
  });

  it('a copy the cache refuses (quota) leaves the load whole and says so', async () => {
    const url = `${base}/model.safetensors`;
    const fake = fakeCaches.open;
    (globalThis as Record<string, unknown>).caches = {
      open: async () => ({
        ...(await fake()),
        match: async () => undefined,
        put: async () => {
          throw new DOMException('Quota exceeded.', 'QuotaExceededError');
        },
      }),
    };
    try {
      const notices: string[] = [];
      expect(same(await fetchCheckpoint(url, { onNotice: (m) => notices.push(m) }), body)).toBe(true);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain(url);
      expect(notices[0]).toContain('Quota exceeded.');
      expect(notices[0]).toContain('the next run downloads it again');
    } finally {
      (globalThis as Record<string, unknown>).caches = fakeCaches;
    }
  });

  it('removeCachedCopy deletes the stored copy', async () => {
    const url = `${base}/model.safetensors`;
    await fetchCheckpoint(url);
    expect(await cachedCopy(url)).toEqual({ bytes: body.length });
    expect(await removeCachedCopy(url)).toBe(true);
    expect(await cachedCopy(url)).toBeNull();
    expect(await removeCachedCopy(url)).toBe(false);
  });

  it('a partial cache entry is dropped and downloaded again', async () => {
    const url = `${base}/chunked.safetensors`;
    store.set(url, body.subarray(0, 10));
    // The fake cache reports Content-Length 10, so make the stored entry lie about its length.
    const fake = fakeCaches.open;
    (globalThis as Record<string, unknown>).caches = {
      open: async () => ({
        ...(await fake()),
        match: async (u: string) => (store.has(u) ? new Response(store.get(u)!.slice(), { headers: { 'Content-Length': '999999' } }) : undefined),
      }),
    };
    expect(same(await fetchCheckpoint(url), body)).toBe(true);
    (globalThis as Record<string, unknown>).caches = fakeCaches;
  });
});

describe('dropOtherCaches', () => {
  it("deletes an earlier bundled model's bucket and nothing else", async () => {
    const names = new Set(['vit-bundled-aaaa', 'vit-bundled-bbbb', 'vit-weights-v1', 'workbox-precache-v2-x']);
    (globalThis as Record<string, unknown>).caches = { keys: async () => [...names], delete: async (n: string) => names.delete(n) };
    try {
      await dropOtherCaches('vit-bundled-', 'vit-bundled-bbbb');
      expect([...names].sort()).toEqual(['vit-bundled-bbbb', 'vit-weights-v1', 'workbox-precache-v2-x']);
    } finally {
      delete (globalThis as Record<string, unknown>).caches;
    }
    await expect(dropOtherCaches('vit-bundled-', 'x')).resolves.toBeUndefined(); // no Cache API (Node)
  });
});

describe('local sources', () => {
  it('readFileSource reads a Blob with progress', async () => {
    const events: Progress[] = [];
    const bytes = await readFileSource(new Blob([body.slice()]), { onProgress: (p) => events.push(p) });
    expect(same(bytes, body)).toBe(true);
    expect(events[0]).toMatchObject({ kind: 'initiate', total: body.length });
    expect(events.at(-1)).toMatchObject({ kind: 'done' });
  });

  it('readPathSource / loadCheckpointFromPath (Node)', async () => {
    const p = path.join(FIXTURES, 'timm_tiny_google.npz');
    expect((await readPathSource(p)).byteLength).toBe(fixture('timm_tiny_google.npz').byteLength);
    const c = await loadCheckpointFromPath(p);
    expect(c.layout).toBe('google');
    const e = await rejection(readPathSource('/nonexistent/x.safetensors'));
    expect(e.code).toBe('checkpoint/unreadable');
    expect(e.message).toContain('/nonexistent/x.safetensors');
  });
});

describe('HUB_CHECKPOINTS', () => {
  it('lists the hub ViT-B and timm B/S/Ti in21k files with sizes', () => {
    expect(HUB_CHECKPOINTS.map((h) => h.url)).toEqual([
      'https://huggingface.co/google/vit-base-patch16-224-in21k/resolve/main/model.safetensors',
      'https://huggingface.co/timm/vit_base_patch16_224.augreg_in21k/resolve/main/model.safetensors',
      'https://huggingface.co/timm/vit_small_patch16_224.augreg_in21k/resolve/main/model.safetensors',
      'https://huggingface.co/timm/vit_tiny_patch16_224.augreg_in21k/resolve/main/model.safetensors',
    ]);
    const mb = HUB_CHECKPOINTS.map((h) => Math.round(h.approxBytes / 1e6));
    expect(mb[0]).toBe(346);
    expect(mb[1]).toBeGreaterThan(mb[2]);
    expect(mb[2]).toBeGreaterThan(mb[3]);
    expect(HUB_CHECKPOINTS.map((h) => h.layout)).toEqual(['hf', 'timm', 'timm', 'timm']);
  });

  it('catchError helper sanity', () => {
    expect(
      catchError(() => {
        throw new Error('x');
      }).message,
    ).toBe('x');
  });
});

describe('a checkpoint too large to read whole', () => {
  it('is refused from its declared size, before any byte is read', async () => {
    const huge = {
      size: 3e9,
      name: 'huge.safetensors',
      stream: () => {
        throw new Error('must not be read');
      },
      arrayBuffer: () => {
        throw new Error('must not be read');
      },
    } as unknown as Blob;
    const e = await rejection(readFileSource(huge));
    expect(e.code).toBe('checkpoint/too-large');
    expect(e.message).toContain('"huge.safetensors" is 3.00 GB');
    const s = await rejection(readStream(new ReadableStream<Uint8Array>(), 3e9, () => {}, '"x"'));
    expect(s.code).toBe('checkpoint/too-large');
  });
});

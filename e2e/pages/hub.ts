/**
 * The hub as the lab meets it, for e2e/hub.spec.ts: a generated ViT-B/16 checkpoint in the exact
 * layout of google/vit-base-patch16-224-in21k's model.safetensors, a local file server that
 * streams it, and the routing that answers the hub URL in the browser.
 *
 * Why a redirect: `route.fulfill` sends its whole body in one DevTools message (base64), and at
 * 346 MB that kills the page (Chromium, Playwright 1.65: "Target page, context or browser has been
 * closed", measured in this session); it also delivers the body as one chunk, so no byte progress
 * could be seen. The real hub answers `resolve/main/model.safetensors` with a 302 to its file CDN,
 * so the route does the same: it answers the hub URL with a 302 to the local server, which
 * streams the file in 1 MiB writes with its Content-Length, as a CDN does.
 */
import { createServer, type Server } from 'node:http';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page, Route } from '@playwright/test';
import { mulberry32 } from '../../src/data/rng';

/** ViT-B/16 (Dosovitskiy et al.): 224 px, patch 16, 12 layers, width 768, MLP 3072, 12 heads. */
const B16 = { image: 224, patch: 16, channels: 3, width: 768, layers: 12, mlp: 3072 };

/**
 * The tensors of transformers' ViTModel (google/vit-base-patch16-224-in21k: no classifier, with
 * the pooler), by name and shape, as that file has them. The lab's 'hf' layout
 * (src/weights/layouts/hf.ts) maps exactly these names; a wrong one fails the load.
 */
export function vitB16HubTensors(): { name: string; shape: number[] }[] {
  const { image, patch, channels, width: D, layers, mlp: M } = B16;
  const tokens = 1 + (image / patch) ** 2; // 197
  const t: { name: string; shape: number[] }[] = [
    { name: 'embeddings.cls_token', shape: [1, 1, D] },
    { name: 'embeddings.position_embeddings', shape: [1, tokens, D] },
    { name: 'embeddings.patch_embeddings.projection.weight', shape: [D, channels, patch, patch] },
    { name: 'embeddings.patch_embeddings.projection.bias', shape: [D] },
    { name: 'layernorm.weight', shape: [D] },
    { name: 'layernorm.bias', shape: [D] },
    { name: 'pooler.dense.weight', shape: [D, D] },
    { name: 'pooler.dense.bias', shape: [D] },
  ];
  for (let i = 0; i < layers; i++) {
    const s = `encoder.layer.${i}`;
    for (const n of ['query', 'key', 'value'])
      t.push({ name: `${s}.attention.attention.${n}.weight`, shape: [D, D] }, { name: `${s}.attention.attention.${n}.bias`, shape: [D] });
    t.push(
      { name: `${s}.attention.output.dense.weight`, shape: [D, D] },
      { name: `${s}.attention.output.dense.bias`, shape: [D] },
      { name: `${s}.intermediate.dense.weight`, shape: [M, D] },
      { name: `${s}.intermediate.dense.bias`, shape: [M] },
      { name: `${s}.output.dense.weight`, shape: [D, M] },
      { name: `${s}.output.dense.bias`, shape: [D] },
      { name: `${s}.layernorm_before.weight`, shape: [D] },
      { name: `${s}.layernorm_before.bias`, shape: [D] },
      { name: `${s}.layernorm_after.weight`, shape: [D] },
      { name: `${s}.layernorm_after.bias`, shape: [D] },
    );
  }
  // safetensors stores its tensors in name order (the Python writer sorts them).
  return t.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** A seeded normal sampler (mulberry32 + Box-Muller): the same file on every machine. */
function normal(seed: number): () => number {
  const uniform = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export interface GeneratedCheckpoint {
  path: string;
  /** The file's size in bytes (header + float32 data). */
  bytes: number;
  parameters: number;
  /** Removes the temporary folder. */
  remove(): Promise<void>;
}

/**
 * Writes the ViT-B/16 hub checkpoint into a new temporary folder, streaming: float32, LayerNorm
 * scales 1, everything else N(0, 0.02) from `seed`. About 3 s and 346 MB of disk; never more
 * than one 4 MiB buffer in memory.
 */
export async function writeVitB16Checkpoint(seed = 12): Promise<GeneratedCheckpoint> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vpt-hub-e2e-'));
  const file = path.join(dir, 'model.safetensors');
  const tensors = vitB16HubTensors();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const { name, shape } of tensors) {
    const n = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  // The header is padded with spaces to a multiple of 8, as the Python writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const fh = await open(file, 'w');
  try {
    await fh.write(Buffer.concat([prefix, Buffer.from(json, 'utf8')]));
    const next = normal(seed);
    const chunk = new Float32Array(1 << 20); // 4 MiB
    for (const { name, shape } of tensors) {
      let left = shape.reduce((a, b) => a * b, 1);
      const ones = /layernorm(_before|_after)?\.weight$/.test(name);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        for (let i = 0; i < n; i++) chunk[i] = ones ? 1 : 0.02 * next();
        await fh.write(new Uint8Array(chunk.buffer, 0, n * 4));
        left -= n;
      }
    }
  } finally {
    await fh.close();
  }
  const bytes = (await stat(file)).size;
  return { path: file, bytes, parameters: offset / 4, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A local "CDN": streams one file with its Content-Length and CORS headers, and counts requests.
 * `/model.safetensors` is the whole file; `/broken.safetensors` states the whole length, sends the
 * first half and drops the connection (a transfer that breaks off).
 */
export class FileHost {
  private constructor(
    private readonly server: Server,
    private readonly base: string,
    private readonly counter: { requests: number },
  ) {}

  /** Requests the host answered (a cached model makes none). */
  get requests(): number {
    return this.counter.requests;
  }

  /** The file's URL, whole or broken off halfway. */
  url(which: 'model' | 'broken' = 'model'): string {
    return `${this.base}/${which}.safetensors`;
  }

  static async serve(file: string, size: number): Promise<FileHost> {
    const counter = { requests: 0 };
    const server = createServer((req, res) => {
      counter.requests++;
      const broken = req.url === '/broken.safetensors';
      if (!broken && req.url !== '/model.safetensors') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'Content-Length': String(size),
        'Content-Type': 'application/octet-stream',
        // A CORS fetch from a cross-origin-isolated worker (COEP require-corp), as from the hub's CDN.
        'Access-Control-Allow-Origin': '*',
        'Cross-Origin-Resource-Policy': 'cross-origin',
      });
      const stream = createReadStream(file, { highWaterMark: 1 << 20, end: broken ? (size >> 1) - 1 : undefined });
      if (broken) {
        stream.on('data', (chunk) => res.write(chunk));
        stream.on('end', () => res.destroy());
      } else stream.pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return new FileHost(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counter);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/**
 * Answers `hubUrl` in this page (and its workers) with a 302 to `target` on the file host, as the
 * hub does; returns the counter of requests the hub URL got.
 */
export async function routeHub(page: Page, hubUrl: string, target: string): Promise<{ hits: number }> {
  const counter = { hits: 0 };
  await page.route(hubUrl, (route: Route) => {
    counter.hits++;
    return route.fulfill({ status: 302, headers: { Location: target, 'Access-Control-Allow-Origin': '*' } });
  });
  return counter;
}

/**
 * Records every value the download bar takes, in the page, from before Start: a poll from the
 * test could miss most of a download that takes a second or two.
 */
export async function recordDownloadBar(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __downloadBar?: { value: number; max: number; label: string; text: string }[] };
    const seen: { value: number; max: number; label: string; text: string }[] = (w.__downloadBar = []);
    const look = () => {
      const row = document.querySelector('[data-testid="run.progress.download"]');
      const bar = row?.querySelector('progress');
      // Absent, or no total yet (animated while the request opens, a still empty bar before it).
      if (!row || !bar || row.getAttribute('data-state') !== 'measured') return;
      const entry = {
        value: bar.value,
        max: bar.max,
        label: row.querySelector('.progress-label')?.textContent ?? '',
        text: row.querySelector('.progress-text')?.textContent ?? '',
      };
      const last = seen.at(-1);
      if (!last || last.value !== entry.value || last.text !== entry.text) seen.push(entry);
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

export async function downloadBarValues(page: Page): Promise<{ value: number; max: number; label: string; text: string }[]> {
  return page.evaluate(() => (window as unknown as { __downloadBar?: { value: number; max: number; label: string; text: string }[] }).__downloadBar ?? []);
}

/** What the page's Cache API holds for a URL: the buckets, and the stored copy's length (null: none). */
export async function cacheEntry(page: Page, url: string, bucket: string): Promise<{ buckets: string[]; bytes: number | null }> {
  return page.evaluate(
    async ([u, b]) => {
      const hit = (await caches.keys()).includes(b) ? await (await caches.open(b)).match(u) : undefined;
      void hit?.body?.cancel();
      return { buckets: await caches.keys(), bytes: hit ? Number(hit.headers.get('content-length')) : null };
    },
    [url, bucket] as const,
  );
}

/**
 * Where checkpoint bytes come from: a URL (Cache API first, streamed download with byte
 * progress), a browser File/Blob. Node paths live in ./node.ts so bundles never see node:fs.
 */
import { LabError, bytesText, clip, quoted } from '../domain/errors';
import { boundedFetch, fetchTimeouts, urlText, withIdleTimeout } from '../data/fetch';

/** A checkpoint is read into one buffer; 2 GiB is the most Node reads at once (ViT-L is 1.2 GB, ViT-B/16 346 MB). */
export const MAX_CHECKPOINT_BYTES = 2 ** 31 - 1;

/** 'checkpoint/too-large' before a byte is read (or as soon as a stream passes the bound). */
export function checkCheckpointSize(bytes: number, what: string): void {
  if (bytes <= MAX_CHECKPOINT_BYTES) return;
  throw new LabError(
    'checkpoint/too-large',
    `${what} is ${bytesText(bytes)}; a checkpoint is read whole and can be at most 2 GiB (ViT-B/16 is 346 MB).`,
    'Check that this is a ViT checkpoint; save larger models in float16.',
  );
}
import { PRESETS, type PresetName, parameterCount } from '../model/config';
import type { ProgressCallback } from '../domain/progress';
import type { CheckpointLayout } from './types';

export interface HubCheckpoint {
  id: string;
  url: string;
  layout: CheckpointLayout;
  preset: PresetName;
  /** Approximate file size (float32 parameters x 4; the header adds a few kB). */
  approxBytes: number;
  description: string;
}

const hubB = PRESETS.vit_b16;
/** ViTModel: no classifier, plus the pooler (dense D x D + bias). */
const hubViTModelParams = parameterCount({ ...hubB, numClasses: 0 }) + hubB.hiddenSize * hubB.hiddenSize + hubB.hiddenSize;

export const HUB_CHECKPOINTS: readonly HubCheckpoint[] = [
  {
    id: 'google/vit-base-patch16-224-in21k',
    url: 'https://huggingface.co/google/vit-base-patch16-224-in21k/resolve/main/model.safetensors',
    layout: 'hf',
    preset: 'vit_b16',
    approxBytes: hubViTModelParams * 4,
    description: 'ViT-B/16 ImageNet-21k (Hugging Face ViTModel, with pooler, no head) — the VPT paper backbone',
  },
  ...(
    [
      ['base', 'vit_b16', 'ViT-B/16'],
      ['small', 'vit_s16', 'ViT-S/16'],
      ['tiny', 'vit_ti16', 'ViT-Ti/16'],
    ] as const
  ).map(([size, preset, title]) => ({
    id: `timm/vit_${size}_patch16_224.augreg_in21k`,
    url: `https://huggingface.co/timm/vit_${size}_patch16_224.augreg_in21k/resolve/main/model.safetensors`,
    layout: 'timm' as const,
    preset,
    approxBytes: parameterCount(PRESETS[preset]) * 4,
    description: `${title} AugReg ImageNet-21k (timm, 21843-class head)`,
  })),
];

/** The Cache API bucket of hub checkpoints; bump the version to invalidate every stored copy. */
export const HUB_CACHE = 'vit-weights-v1';

export interface FetchOptions {
  onProgress?: ProgressCallback;
  /** Cache API bucket (default HUB_CACHE). */
  cacheName?: string;
  signal?: AbortSignal;
  /** Told when the download could not be stored (a private window's small quota, a full disk): the run goes on. */
  onNotice?: (message: string) => void;
}

interface CacheLike {
  match(url: string): Promise<Response | undefined>;
  put(url: string, res: Response): Promise<void>;
  delete(url: string): Promise<boolean>;
}

async function openCache(name: string): Promise<CacheLike | undefined> {
  const storage = (globalThis as { caches?: { open(n: string): Promise<CacheLike> } }).caches;
  if (!storage) return undefined;
  try {
    return await storage.open(name);
  } catch {
    return undefined; // e.g. opaque origins, private modes: just download
  }
}

/**
 * Deletes the Cache API buckets named `<prefix>…` other than `keep`: the copies of an earlier
 * bundled model, which a release with a new one leaves behind (its bucket is named by content hash).
 */
export async function dropOtherCaches(prefix: string, keep: string): Promise<void> {
  const storage = (globalThis as { caches?: { keys(): Promise<string[]>; delete(n: string): Promise<boolean> } }).caches;
  if (!storage) return;
  try {
    for (const name of await storage.keys()) if (name.startsWith(prefix) && name !== keep) await storage.delete(name);
  } catch {
    /* storage refused (private modes): nothing was kept either */
  }
}

/**
 * Byte progress of one transfer, at most ~200 events (one per 1 MiB or 0.5 %, whichever is
 * larger) plus the last. `done` never goes back and the last event is the whole count.
 */
export function byteProgress(onProgress: ProgressCallback | undefined, what: string, total: number | undefined, fromCache: boolean) {
  let last = -Infinity;
  const step = Math.max(1 << 20, (total ?? 0) / 200);
  const report = (done: number, force = false) => {
    report.done = done;
    if (!onProgress || (!force && done - last < step)) return;
    last = done;
    onProgress({ kind: 'progress', what, unit: 'bytes', done, total, fromCache });
  };
  /** The bytes counted so far (for a message when the stream breaks off). */
  report.done = 0;
  return report;
}

/**
 * Reads a body stream into one buffer. With a known length the bytes go straight into one
 * preallocated array (no chunk list + concat); otherwise the buffer grows by doubling. A body
 * longer than its stated length is read on (growing) so the caller can name the mismatch.
 */
export async function readStream(
  body: ReadableStream<Uint8Array> | null,
  total: number | undefined,
  report: (done: number, force?: boolean) => void,
  what = 'the checkpoint',
): Promise<Uint8Array> {
  checkCheckpointSize(total ?? 0, what);
  let buf = new Uint8Array(total ?? 1 << 20);
  let done = 0;
  if (body) {
    const reader = body.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      if (done + value.byteLength > MAX_CHECKPOINT_BYTES) {
        await reader.cancel();
        checkCheckpointSize(done + value.byteLength, what);
      }
      if (done + value.byteLength > buf.byteLength) {
        const grown = new Uint8Array(Math.max(buf.byteLength * 2, done + value.byteLength));
        grown.set(buf.subarray(0, done));
        buf = grown;
      }
      buf.set(value, done);
      done += value.byteLength;
      report(done);
    }
  }
  report(done, true);
  return done === buf.byteLength ? buf : buf.subarray(0, done);
}

/** 'checkpoint/download-incomplete': the transfer stopped before the stated length. */
function incomplete(url: string, got: number, total: number | undefined, why: string): LabError {
  return new LabError(
    'checkpoint/download-incomplete',
    `Download of ${urlText(url)} ${why} after ${bytesText(got)}${total !== undefined ? ` of ${bytesText(total)}` : ''}.`,
    'Nothing was kept in the cache; start again to download it again (a flaky connection may need a few tries).',
  );
}

/**
 * Downloads a checkpoint with byte progress and hands the bytes to `open` (which parses them),
 * through the Cache API when there is one (browser, worker); in Node there is no `caches`.
 *
 * - A cached copy is read back with progress marked `fromCache`, and no request is made. A copy
 *   shorter than its stated length, or one `open` rejects, is deleted and downloaded again.
 * - A download is stored only once it is whole (every byte of its Content-Length) and `open`
 *   accepted it, so a broken transfer or a file that is not a checkpoint never reaches the cache.
 *   Storing copies the bytes once more (`new Response(bytes)`), briefly: the copy goes to the
 *   browser's disk cache and is released when `put` settles.
 * - Errors: 'checkpoint/download-failed' (no response, HTTP error), 'checkpoint/download-incomplete'
 *   (the body broke off or ended short), 'run/cancelled' (the signal), and whatever `open` throws.
 */
export async function fetchAndOpen<T>(url: string, open: (bytes: Uint8Array) => T | Promise<T>, opts: FetchOptions = {}): Promise<T> {
  const { onProgress, cacheName = HUB_CACHE, signal, onNotice } = opts;
  const cache = await openCache(cacheName);
  if (cache) {
    const hit = await cache.match(url).catch(() => undefined);
    if (hit) {
      const total = contentLength(hit);
      onProgress?.({ kind: 'initiate', what: url, unit: 'bytes', total, fromCache: true });
      const bytes = await readStream(hit.body, total, byteProgress(onProgress, url, total, true), quoted(url)).catch(() => undefined);
      if (bytes && (total === undefined || bytes.byteLength === total)) {
        let opened: { value: T } | undefined;
        try {
          opened = { value: await open(bytes) };
        } catch {
          /* a damaged copy: dropped below, then downloaded again */
        }
        if (opened) {
          onProgress?.({ kind: 'done', what: url, unit: 'bytes', total: bytes.byteLength, fromCache: true });
          return opened.value;
        }
      }
      await cache.delete(url).catch(() => false);
    }
  }
  // A server that does not answer, or stops sending, ends in a named error (fetchTimeouts).
  const timeouts = fetchTimeouts();
  const { res, abort } = await boundedFetch(
    url,
    { signal },
    { code: 'checkpoint/download-failed', hint: 'Check the network connection and the URL, or load the file from disk instead.' },
    undefined,
    timeouts,
  );
  if (!res.ok) {
    abort();
    throw new LabError(
      'checkpoint/download-failed',
      `Could not download ${urlText(url)}: HTTP ${res.status}${res.statusText ? ` ${clip(res.statusText, 80)}` : ''}.`,
      res.status === 401 || res.status === 403
        ? 'The file needs access rights; download it yourself and load it from disk.'
        : 'Check the URL, or download the file yourself and load it from disk.',
    );
  }
  // Content-Length of an encoded (gzip) body is not the decoded size.
  const total = res.headers.get('content-encoding') ? undefined : contentLength(res);
  onProgress?.({ kind: 'initiate', what: url, unit: 'bytes', total, fromCache: false });
  const report = byteProgress(onProgress, url, total, false);
  let bytes: Uint8Array;
  try {
    bytes = await readStream(res.body && withIdleTimeout(res.body, timeouts.idleMs, abort), total, report, quoted(url));
  } catch (e) {
    abort();
    if (signal?.aborted) throw new LabError('run/cancelled', `Download of ${urlText(url)} was cancelled.`);
    if (e instanceof LabError) throw e; // too large
    throw incomplete(url, report.done, total, `broke off (${(e as Error).message})`);
  }
  if (total !== undefined && bytes.byteLength !== total)
    throw incomplete(url, bytes.byteLength, total, bytes.byteLength < total ? 'ended early' : 'ran past its length');
  const value = await open(bytes);
  if (cache && res.status === 200) {
    const stored = new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'Content-Length': String(bytes.byteLength), 'Content-Type': 'application/octet-stream' },
    });
    // A refused copy costs the next run a download, not this run.
    await cache
      .put(url, stored)
      .catch((e: Error) =>
        onNotice?.(
          `This browser did not keep a copy of ${url} (${bytesText(bytes.byteLength)}: ${e.message}), so the next run downloads it again. ` +
            'Private windows keep little; otherwise free some disk space or allow the site to store data.',
        ),
      );
  }
  onProgress?.({ kind: 'done', what: url, unit: 'bytes', total: bytes.byteLength, fromCache: false });
  return value;
}

/** The bytes of a checkpoint (see fetchAndOpen; stored in the cache once whole). */
export function fetchCheckpoint(url: string, opts: FetchOptions = {}): Promise<Uint8Array> {
  return fetchAndOpen(url, (bytes) => bytes, opts);
}

function contentLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  const n = v === null ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A stored copy of a URL, by the size it was stored with; null when there is none. */
export async function cachedCopy(url: string, cacheName = HUB_CACHE): Promise<{ bytes: number | undefined } | null> {
  const cache = await openCache(cacheName);
  const hit = cache ? await cache.match(url).catch(() => undefined) : undefined;
  if (!hit) return null;
  void hit.body?.cancel(); // only its headers are read
  return { bytes: contentLength(hit) };
}

/** Deletes the stored copy of a URL (the page's "Remove from cache"); true when there was one. */
export async function removeCachedCopy(url: string, cacheName = HUB_CACHE): Promise<boolean> {
  const cache = await openCache(cacheName);
  if (!cache) return false;
  try {
    return await cache.delete(url);
  } catch (e) {
    throw new LabError(
      'storage/failed',
      `Could not delete the stored copy of ${url}: ${(e as Error).message}.`,
      'Clear the site data in the browser settings.',
    );
  }
}

/** Reads a browser File/Blob with byte progress. */
export async function readFileSource(file: Blob, { onProgress }: { onProgress?: ProgressCallback } = {}): Promise<Uint8Array> {
  const what = (file as Partial<File>).name ?? 'file';
  const total = file.size;
  checkCheckpointSize(total, quoted(what));
  onProgress?.({ kind: 'initiate', what, unit: 'bytes', total });
  const bytes =
    typeof file.stream === 'function'
      ? await readStream(file.stream() as ReadableStream<Uint8Array>, total, byteProgress(onProgress, what, total, false), quoted(what))
      : new Uint8Array(await file.arrayBuffer());
  onProgress?.({ kind: 'done', what, unit: 'bytes', total: bytes.byteLength });
  return bytes;
}

/**
 * Where checkpoint bytes come from: a URL (Cache API first, streamed download with byte
 * progress), a browser File/Blob. Node paths live in ./node.ts so bundles never see node:fs.
 */
import { LabError, bytesText, quoted } from '../domain/errors';

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

export interface FetchOptions {
  onProgress?: ProgressCallback;
  /** Cache API bucket; bump the version to invalidate. */
  cacheName?: string;
  signal?: AbortSignal;
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

/** At most ~200 progress events per download. */
function throttled(onProgress: ProgressCallback | undefined, what: string, total: number | undefined, fromCache: boolean) {
  let last = -Infinity;
  const step = Math.max(1 << 20, (total ?? 0) / 200);
  return (done: number, force = false) => {
    if (!onProgress || (!force && done - last < step)) return;
    last = done;
    onProgress({ kind: 'progress', what, unit: 'bytes', done, total, fromCache });
  };
}

/**
 * Reads a body stream into one buffer. With a known length the bytes go straight into one
 * preallocated array (no chunk list + concat); otherwise the buffer grows by doubling.
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

/**
 * Downloads a checkpoint with byte progress, through the Cache API when there is one (browser,
 * worker); in Node there is no `caches`, so it just downloads.
 */
export async function fetchCheckpoint(url: string, opts: FetchOptions = {}): Promise<Uint8Array> {
  const { onProgress, cacheName = 'vit-weights-v1', signal } = opts;
  const cache = await openCache(cacheName);
  if (cache) {
    const hit = await cache.match(url).catch(() => undefined);
    if (hit) {
      const total = contentLength(hit);
      onProgress?.({ kind: 'initiate', what: url, unit: 'bytes', total, fromCache: true });
      const bytes = await readStream(hit.body, total, throttled(onProgress, url, total, true), quoted(url));
      if (total === undefined || bytes.byteLength === total) {
        onProgress?.({ kind: 'done', what: url, unit: 'bytes', total: bytes.byteLength, fromCache: true });
        return bytes;
      }
      await cache.delete(url).catch(() => false); // a partial entry: drop it and download again
    }
  }
  let res: Response;
  try {
    res = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throw new LabError('run/cancelled', `Download of ${url} was cancelled.`);
    throw new LabError(
      'checkpoint/download-failed',
      `Could not download ${url}: ${(e as Error).message}.`,
      'Check the network connection and the URL, or load the file from disk instead.',
    );
  }
  if (!res.ok) {
    throw new LabError(
      'checkpoint/download-failed',
      `Could not download ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`,
      res.status === 401 || res.status === 403
        ? 'The file needs access rights; download it yourself and load it from disk.'
        : 'Check the URL, or download the file yourself and load it from disk.',
    );
  }
  // Content-Length of an encoded (gzip) body is not the decoded size.
  const total = res.headers.get('content-encoding') ? undefined : contentLength(res);
  onProgress?.({ kind: 'initiate', what: url, unit: 'bytes', total, fromCache: false });
  // The clone tees the stream into the cache while we read, so the file is never copied whole.
  const cached =
    cache && res.status === 200
      ? cache.put(url, res.clone()).then(
          () => true,
          () => false,
        )
      : undefined;
  let bytes: Uint8Array;
  try {
    bytes = await readStream(res.body, total, throttled(onProgress, url, total, false), quoted(url));
  } catch (e) {
    if (signal?.aborted) throw new LabError('run/cancelled', `Download of ${url} was cancelled.`);
    throw new LabError('checkpoint/download-failed', `Download of ${url} broke off: ${(e as Error).message}.`, 'Try again; a partial file is not cached.');
  }
  if (total !== undefined && bytes.byteLength !== total) {
    if (cached) await cached.then(() => cache?.delete(url));
    throw new LabError(
      'checkpoint/download-failed',
      `Download of ${url} ended early: ${bytes.byteLength} of ${total} bytes.`,
      'Try again; a partial file is not cached.',
    );
  }
  if (cached) await cached; // quota errors only cost the cache, not the load
  onProgress?.({ kind: 'done', what: url, unit: 'bytes', total: bytes.byteLength, fromCache: false });
  return bytes;
}

function contentLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  const n = v === null ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Whether a URL is already in the cache (the UI shows "cached" next to it). */
export async function isCached(url: string, cacheName = 'vit-weights-v1'): Promise<boolean> {
  const cache = await openCache(cacheName);
  return cache ? (await cache.match(url).catch(() => undefined)) !== undefined : false;
}

/** Reads a browser File/Blob with byte progress. */
export async function readFileSource(file: Blob, { onProgress }: { onProgress?: ProgressCallback } = {}): Promise<Uint8Array> {
  const what = (file as Partial<File>).name ?? 'file';
  const total = file.size;
  checkCheckpointSize(total, quoted(what));
  onProgress?.({ kind: 'initiate', what, unit: 'bytes', total });
  const bytes =
    typeof file.stream === 'function'
      ? await readStream(file.stream() as ReadableStream<Uint8Array>, total, throttled(onProgress, what, total, false), quoted(what))
      : new Uint8Array(await file.arrayBuffer());
  onProgress?.({ kind: 'done', what, unit: 'bytes', total: bytes.byteLength });
  return bytes;
}

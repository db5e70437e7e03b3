/**
 * Every download of the lab (data files, data zips, checkpoints; in Node and in the page) is
 * bounded in time and size, so a server that never answers, one that stops sending mid-body and
 * one that streams without end each end in a named error, never in a hang or in a process that
 * grows until the machine swaps. Browser-safe.
 *
 * - connection: the response headers must arrive within `connectMs` (`boundedFetch`);
 * - idle: while the body streams, bytes must arrive at least every `idleMs` (`withIdleTimeout`);
 * - size: the body may hold at most a bound (`readBounded`; a Content-Length above it is refused
 *   before the body is read, a body without one is cut at the bound).
 */
import { LabError, type ErrorCode, bytesText, clip } from '../domain/errors';

export interface FetchTimeouts {
  /** Until the response headers arrive. */
  connectMs: number;
  /** Longest pause between two chunks of the body. */
  idleMs: number;
}

/**
 * The timeouts: a server gets 30 s to answer and 60 s between two chunks. LAB_FETCH_TIMEOUT_S in
 * the environment (Node) sets both, for slow links or for tests.
 */
export function fetchTimeouts(): FetchTimeouts {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const s = Number(env?.LAB_FETCH_TIMEOUT_S);
  if (Number.isFinite(s) && s > 0) return { connectMs: s * 1000, idleMs: s * 1000 };
  return { connectMs: 30_000, idleMs: 60_000 };
}

/** A URL for messages: without credentials, escaped and cut to a readable length. */
export function urlText(url: string): string {
  let shown = url;
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
      shown = u.toString();
    }
  } catch {
    /* not a URL: shown as given */
  }
  return `"${clip(shown, 300)}"`;
}

/** How a caller names its failures: the code of a download that failed, and the fix. */
export interface FetchErrors {
  code: ErrorCode;
  hint: string;
}

/**
 * A request that failed before any response: refused, reset, or (in the page) blocked by CORS,
 * which a browser reports exactly like a network failure; a 404 without CORS headers looks the same.
 */
export class UnreachableError extends LabError {}

/**
 * fetch with the connection timeout: the response once its headers are in, or a LabError naming
 * the URL (`run/cancelled` when the caller's signal fired). `abort` stops the body later (a stall,
 * a body past its bound).
 */
export async function boundedFetch(
  url: string,
  init: RequestInit,
  errors: FetchErrors,
  fetchFn: typeof fetch = (...a) => fetch(...a),
  timeouts: FetchTimeouts = fetchTimeouts(),
): Promise<{ res: Response; abort: () => void }> {
  const ctrl = new AbortController();
  const user = init.signal ?? undefined;
  if (user?.aborted) ctrl.abort();
  user?.addEventListener('abort', () => ctrl.abort(), { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctrl.abort();
  }, timeouts.connectMs);
  try {
    const res = await fetchFn(url, { ...init, signal: ctrl.signal });
    return { res, abort: () => ctrl.abort() };
  } catch (e) {
    if (user?.aborted) throw new LabError('run/cancelled', `The download of ${urlText(url)} was cancelled.`);
    if (timedOut)
      throw new LabError(
        errors.code,
        `${urlText(url)} did not answer within ${timeouts.connectMs / 1000} s.`,
        `Check the URL and that the server is up. ${errors.hint}`,
      );
    throw new UnreachableError(errors.code, `Could not fetch ${urlText(url)}: ${clip((e as Error).message ?? String(e), 120)}.`, errors.hint);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a stalled body fails with (its message is complete: "no data for 60 s"). */
export class StalledError extends Error {
  constructor(idleMs: number) {
    super(`no data for ${idleMs / 1000} s: the server stopped sending`);
    this.name = 'StalledError';
  }
}

/**
 * The body, failing with StalledError (and aborting the request) when no chunk arrives within
 * `idleMs`. Backpressure is kept: a chunk is read from the network only when one is asked for.
 */
export function withIdleTimeout(body: ReadableStream<Uint8Array>, idleMs: number, abort: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StalledError(idleMs)), idleMs);
      });
      try {
        const r = await Promise.race([reader.read(), stalled]);
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (e) {
        if (e instanceof StalledError) {
          abort();
          void reader.cancel().catch(() => {});
        }
        controller.error(e);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * A response body read whole, with the idle timeout and at most `maxBytes` (`tooLarge` names a
 * larger one, from its Content-Length before reading, or as soon as the bytes pass the bound).
 */
export async function readBounded(
  url: string,
  res: Response,
  abort: () => void,
  maxBytes: number,
  errors: FetchErrors & { tooLarge: (bytes: number) => LabError },
  signal?: AbortSignal,
  timeouts: FetchTimeouts = fetchTimeouts(),
): Promise<Uint8Array> {
  const declared = contentLength(res);
  if (declared !== undefined && declared > maxBytes) {
    abort();
    throw errors.tooLarge(declared);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = withIdleTimeout(res.body, timeouts.idleMs, abort).getReader();
  let buf = new Uint8Array(declared ?? Math.min(maxBytes, 1 << 20));
  let done = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (signal?.aborted) throw new LabError('run/cancelled', `The download of ${urlText(url)} was cancelled.`);
      throw new LabError(
        errors.code,
        `The download of ${urlText(url)} broke off after ${bytesText(done)}: ${clip((e as Error).message ?? String(e), 120)}.`,
        errors.hint,
      );
    }
    if (chunk.done) break;
    const value = chunk.value;
    if (done + value.byteLength > maxBytes) {
      abort();
      void reader.cancel().catch(() => {});
      throw errors.tooLarge(done + value.byteLength);
    }
    if (done + value.byteLength > buf.byteLength) {
      const grown = new Uint8Array(Math.min(maxBytes, Math.max(buf.byteLength * 2, done + value.byteLength)));
      grown.set(buf.subarray(0, done));
      buf = grown;
    }
    buf.set(value, done);
    done += value.byteLength;
  }
  return done === buf.byteLength ? buf : buf.subarray(0, done);
}

/** Content-Length as a number, when the server gave a usable one (an encoded body's is not the decoded size). */
export function contentLength(res: Response): number | undefined {
  if (res.headers.get('content-encoding')) return undefined;
  const v = res.headers.get('content-length');
  const n = v === null ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The one error type for everything a user can cause: a bad checkpoint, a bad data folder, a bad
 * argument, a run that diverged, storage the browser refused. `code` is stable (tests, the CLIs'
 * exit codes and the page switch on it), `message` says what is wrong and where, `hint` says what
 * to do about it. The bottom layer: this file imports nothing.
 */

/** Every error code, for code that checks a code at run time (the fuzz test). */
export const ERROR_CODES = [
  // checkpoints (weights files and trained-parameter files)
  'checkpoint/not-a-checkpoint',
  'checkpoint/unreadable',
  'checkpoint/too-large',
  'checkpoint/truncated',
  'checkpoint/bad-header',
  'checkpoint/bad-offsets',
  'checkpoint/unknown-dtype',
  'checkpoint/unknown-layout',
  'checkpoint/missing-key',
  'checkpoint/unexpected-key',
  'checkpoint/shape-mismatch',
  'checkpoint/non-finite',
  'checkpoint/download-failed',
  'checkpoint/download-incomplete',
  // golden reference files (npm run verify, the page's engine check)
  'golden/invalid',
  // data: sources, list files, images
  'data/not-a-zip',
  'data/entry-too-large',
  'data/not-vtab-layout',
  'data/wrong-task',
  'data/missing-list',
  'data/list-too-large',
  'data/empty-list',
  'data/bad-line',
  'data/label-out-of-range',
  'data/missing-image',
  'data/outside-source',
  'data/bad-image',
  'data/image-too-large',
  'data/too-few-items',
  'data/unknown-task',
  'data/not-a-file',
  'data/split-overlap',
  'data/download-failed',
  // the run and its setup
  'config/invalid',
  'output/unwritable',
  'backend/unavailable',
  'run/out-of-memory',
  'run/does-not-fit',
  'run/device-lost',
  'run/diverged',
  'run/cancelled',
  // the browser's storage (IndexedDB, Cache API)
  'storage/missing',
  'storage/failed',
  // command lines: an unknown option, a missing or malformed value (the CLIs exit 2)
  'usage/invalid',
  // anything that is not the user's doing: a bug
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Kept for the modules written before the union moved here. */
export type LabErrorCode = ErrorCode;

export class LabError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  constructor(code: ErrorCode, message: string, hint = '') {
    super(hint ? `${message} ${hint}` : message);
    this.name = 'LabError';
    this.code = code;
    this.hint = hint;
  }
}

/** A plain, serialisable view of any error, for the worker protocol, the store and the CLIs. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof LabError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'internal', message: clip(err.message, 500) };
  return { code: 'internal', message: clip(String(err), 500) };
}

/** Usage errors (exit 2 in the CLIs) as opposed to bad input (exit 1). */
export function isUsageError(err: unknown): err is LabError {
  return err instanceof LabError && err.code.startsWith('usage/');
}

/**
 * Characters that must never reach a terminal or a log as they are: C0 controls (newline, carriage
 * return, ESC, ...), DEL, C1 controls, the Unicode line and paragraph separators, and the
 * bidirectional overrides and isolates that reorder what a reader sees. A name holding them could
 * forge a second "error [...]" line, clear the screen or set the terminal's title.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Shows every unsafe character (see UNSAFE) as an escape: `\n`, `\x1b`, `\u202e`. */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return NAMED_ESCAPES[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`);
  });
}

/**
 * Text the user gave (a path, a list line, an option value, a name read from a file), made safe to
 * echo in a message: unsafe characters escaped (escapeText), then the first `max` characters and
 * how long it really was. A 50 MB line must not become a 50 MB error message. Every message that
 * echoes input goes through this (or `quoted`).
 */
export function clip(text: string, max = 200): string {
  const head = text.length <= max ? text : text.slice(0, max);
  const safe = escapeText(head);
  return text.length <= max ? safe : `${safe}… (${text.length.toLocaleString('en')} characters)`;
}

/** `clip` in double quotes, the form messages use for names the user gave. */
export function quoted(text: string, max = 200): string {
  return `"${clip(text, max)}"`;
}

/** A byte count for messages: 1.5 GB, 640 MB, 12 kB. */
export function bytesText(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} bytes`;
}

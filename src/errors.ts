/**
 * One error type for everything the user can cause: a bad checkpoint, a bad data folder, a bad
 * argument. `code` is stable (tests and the UI switch on it), `message` says what was wrong and
 * where, `hint` says what to do about it.
 */
export type LabErrorCode =
  // checkpoints
  | 'checkpoint/not-a-checkpoint'
  | 'checkpoint/truncated'
  | 'checkpoint/bad-header'
  | 'checkpoint/bad-offsets'
  | 'checkpoint/unknown-dtype'
  | 'checkpoint/unknown-layout'
  | 'checkpoint/missing-key'
  | 'checkpoint/unexpected-key'
  | 'checkpoint/shape-mismatch'
  | 'checkpoint/download-failed'
  // data
  | 'data/not-a-zip'
  | 'data/not-vtab-layout'
  | 'data/missing-list'
  | 'data/bad-line'
  | 'data/label-out-of-range'
  | 'data/missing-image'
  | 'data/bad-image'
  | 'data/too-few-items'
  | 'data/unknown-task'
  // everything else the user chose
  | 'config/invalid'
  | 'backend/unavailable'
  | 'run/out-of-memory'
  | 'run/device-lost'
  | 'run/cancelled';

export class LabError extends Error {
  readonly code: LabErrorCode;
  readonly hint: string;
  constructor(code: LabErrorCode, message: string, hint = '') {
    super(hint ? `${message} ${hint}` : message);
    this.name = 'LabError';
    this.code = code;
    this.hint = hint;
  }
}

/** A plain, serialisable view of any error, for the worker protocol and the CLI. */
export interface ErrorInfo {
  code: string;
  message: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof LabError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}

/**
 * Every long operation reports through this one type: bytes for downloads, items for decoding,
 * steps for training. A discriminated union, as transformers.js does it.
 */
export type ProgressUnit = 'bytes' | 'items' | 'steps';

export type Progress =
  | { kind: 'initiate'; what: string; unit: ProgressUnit; total?: number; fromCache?: boolean }
  | { kind: 'progress'; what: string; unit: ProgressUnit; done: number; total?: number; fromCache?: boolean }
  | { kind: 'done'; what: string; unit: ProgressUnit; total?: number; fromCache?: boolean };

export type ProgressCallback = (p: Progress) => void;

/** A count of bytes for people, in decimal units (a download's size, a file's): `346.0 MB`. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

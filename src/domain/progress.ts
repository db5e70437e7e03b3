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

import type { HostTensor } from '../types';

/** Storage dtypes the readers decode to float32. */
export type StoredDtype = 'F32' | 'F16' | 'BF16' | 'F64';

/** What is known about a checkpoint file once its header (or directory) is read: names and shapes. */
export interface ArchiveIndex {
  /** The file name the user gave, for messages. */
  readonly name: string;
  readonly format: 'safetensors' | 'npz';
  /** safetensors `__metadata__` (string map); empty for npz. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensor names in file order. */
  keys(): string[];
  has(key: string): boolean;
  /** Shape of a stored tensor (throws for an unknown key). */
  shape(key: string): number[];
}

/**
 * A parsed checkpoint file before layout mapping: names and shapes are known up front (the
 * header was validated), data is decoded one tensor at a time on `read`. This keeps memory at
 * "file + mapped output" instead of "file + every decoded tensor + mapped output".
 */
export interface TensorArchive extends ArchiveIndex {
  /** Decodes one tensor to float32. May return a view into the file's bytes: do not mutate. */
  read(key: string): HostTensor;
}

/** An archive whose tensors are inflated on demand (an .npz: one zip entry per read). */
export interface LazyTensorArchive extends ArchiveIndex {
  read(key: string): Promise<HostTensor>;
}

export type AnyTensorArchive = TensorArchive | LazyTensorArchive;

/** Reads every tensor of either kind of archive (tests and small files). */
export async function readAllAsync(archive: AnyTensorArchive): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const k of archive.keys()) out.set(k, await archive.read(k));
  return out;
}

/** Reads every tensor (tests and small files). */
export function readAll(archive: TensorArchive): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const k of archive.keys()) out.set(k, archive.read(k));
  return out;
}

/** Uint8Array view over any buffer-ish input without copying. */
export function asBytes(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

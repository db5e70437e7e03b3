/** Helpers for the weights tests (not imported by app code). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readAll } from './formats/archive';
import { parseSafetensors, writeSafetensors } from './formats/safetensors';
import type { HostTensor } from './types';

/** The golden fixtures, in the repo (test/fixtures/README.md says where each file came from). */
export const FIXTURES = path.resolve(__dirname, '../../test/fixtures');

export function fixture(name: string): Uint8Array {
  const b = readFileSync(path.join(FIXTURES, name));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function fixtureJson<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

/** Reads a safetensors file into a mutable map (copies) plus its metadata. */
export function readTensors(bytes: Uint8Array, name = 'test'): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  const a = parseSafetensors(bytes, name);
  const tensors = new Map<string, HostTensor>();
  for (const [k, t] of readAll(a)) tensors.set(k, { shape: [...t.shape], data: t.data.slice() });
  return { tensors, metadata: { ...a.metadata } };
}

/** Rewrites a safetensors file through `edit`. */
export function editSafetensors(
  bytes: Uint8Array,
  edit: (m: Map<string, HostTensor>, meta: Record<string, string>) => Map<string, HostTensor> | void,
): Uint8Array {
  const { tensors, metadata } = readTensors(bytes);
  const out = edit(tensors, metadata) ?? tensors;
  return writeSafetensors(out, metadata);
}

/**
 * A zero-filled F32 safetensors file with exactly these keys and shapes, built without a
 * per-tensor array (the ViT-B/16 manifests make 350-410 MB files).
 */
export function zeroSafetensors(shapes: Record<string, number[]>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const [k, s] of Object.entries(shapes)) {
    const n = s.reduce((a, b) => a * b, 1) * 4;
    header[k] = { dtype: 'F32', shape: s, data_offsets: [off, off + n] };
    off += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded + off);
  new DataView(out.buffer).setUint32(0, padded, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  return out;
}

/** Raw safetensors bytes from a literal header and data (for lying headers). */
export function rawSafetensors(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** An .npy file from a descr, shape and raw little-endian data bytes. */
export function makeNpy(descr: string, shape: number[], data: Uint8Array, fortran = false, version = 1): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(data, total);
  return out;
}

/** Max |a - b| over two maps with the same keys (Infinity if keys or shapes differ). */
export function maxAbsDiff(a: Map<string, HostTensor>, b: Map<string, HostTensor>): number {
  if (a.size !== b.size) return Infinity;
  let m = 0;
  for (const [k, t] of a) {
    const u = b.get(k);
    if (!u || u.shape.join() !== t.shape.join()) return Infinity;
    for (let i = 0; i < t.data.length; i++) m = Math.max(m, Math.abs(t.data[i] - u.data[i]));
  }
  return m;
}

/** Runs fn and returns the error it throws (fails if it does not). */
export function catchError(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error, none was thrown');
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

/**
 * safetensors reader and writer. Layout: u64 little-endian header length N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`), then
 * the data region, which the tensors must tile exactly (offsets relative to its start).
 */
import { LabError, clip, quoted } from '../../domain/errors';
import type { HostTensor } from '../types';
import { floatToBf16, floatToHalf, halfToFloat, numel, shapeStr } from '../tensor';
import { asBytes, type StoredDtype, type TensorArchive } from './archive';

const BYTES: Record<StoredDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
/** Dtypes safetensors defines that a ViT checkpoint should never hold as weights. */
const OTHER_DTYPES = ['F8_E4M3', 'F8_E5M2', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL', 'C64'];
/** The reference implementation refuses headers above 100 MB; anything larger is not a header. */
const MAX_HEADER = 100_000_000;

interface Entry {
  dtype: StoredDtype;
  shape: number[];
  begin: number;
  end: number;
}

const REDOWNLOAD = 'The file is incomplete: download it again (or re-export it) and check its size.';
const NOT_CKPT_HINT = 'Choose a .safetensors or .npz checkpoint file (e.g. model.safetensors from the Hugging Face hub).';

function describeMagic(b: Uint8Array): string {
  const s = (i: number, t: string) => [...t].every((c, k) => b[i + k] === c.charCodeAt(0));
  if (b[0] === 0xff && b[1] === 0xd8) return 'a JPEG image';
  if (b[0] === 0x89 && s(1, 'PNG')) return 'a PNG image';
  if (s(0, 'PK')) return 'a zip archive';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'a gzip archive';
  if (s(0, '\x93NUMPY')) return 'a single .npy array';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 64)).trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'an HTML page (a login or error page saved instead of the file?)';
  if (head.startsWith('version https://git-lfs')) return 'a Git LFS pointer, not the weights';
  if (head.startsWith('{')) return 'a JSON file';
  return 'not a safetensors file';
}

/**
 * Parses and validates a safetensors file. Tensors are decoded on `archive.read(key)`: aligned
 * F32 tensors are zero-copy views into `input`; other dtypes are converted one tensor at a time.
 */
export function parseSafetensors(input: ArrayBuffer | ArrayBufferView, name: string): TensorArchive {
  const bytes = asBytes(input);
  const file = `'${clip(name, 200)}'`;
  if (bytes.byteLength < 8) {
    throw new LabError('checkpoint/truncated', `${file} is ${bytes.byteLength} bytes, shorter than the 8-byte safetensors header length.`, REDOWNLOAD);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true),
    hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (hi !== 0 || headerLen > MAX_HEADER || headerLen < 2 || (bytes.byteLength > 8 && bytes[8] !== 0x7b) /* { */) {
    throw new LabError(
      'checkpoint/not-a-checkpoint',
      `${file} is not a safetensors checkpoint: it looks like ${describeMagic(bytes)} (header length field ${headerLen}).`,
      NOT_CKPT_HINT,
    );
  }
  if (8 + headerLen > bytes.byteLength) {
    throw new LabError(
      'checkpoint/truncated',
      `${file} is truncated: its header says ${headerLen} header bytes but the file has only ${bytes.byteLength - 8} after the length field.`,
      REDOWNLOAD,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    // Not the parser's message: it quotes the header's text, and file contents are never echoed.
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new LabError(
      'checkpoint/bad-header',
      `${file} has a corrupt safetensors header: its ${headerLen} header bytes are not valid UTF-8 JSON${at ? ` (error at byte ${at})` : ''}.`,
      'The file is damaged or was not written by a safetensors writer; download or export it again.',
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new LabError('checkpoint/bad-header', `${file} has a safetensors header that is not a JSON object.`, 'Download or export the checkpoint again.');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, Entry>();
  for (const [key, raw] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new LabError(
          'checkpoint/bad-header',
          `${file}: __metadata__ in the header is not an object of strings.`,
          'Re-export the checkpoint with string metadata.',
        );
      }
      for (const [mk, mv] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof mv !== 'string')
          throw new LabError(
            'checkpoint/bad-header',
            `${file}: __metadata__.${clip(mk, 80)} is not a string.`,
            'safetensors metadata values must be strings; re-export the checkpoint.',
          );
        metadata[mk] = mv;
      }
      continue;
    }
    const bad = (what: string) =>
      new LabError(
        'checkpoint/bad-header',
        `${file}: header entry for tensor '${clip(key, 120)}' ${what}.`,
        'The header is malformed; download or export the checkpoint again.',
      );
    if (typeof raw !== 'object' || raw === null) throw bad('is not an object');
    const { dtype, shape, data_offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') throw bad('has no dtype');
    // Own keys only: a dtype named 'toString' or '__proto__' must not find Object's members.
    if (!Object.hasOwn(BYTES, dtype)) {
      const known = OTHER_DTYPES.includes(dtype) ? 'a dtype this lab does not load as weights' : 'an unknown dtype';
      throw new LabError(
        'checkpoint/unknown-dtype',
        `${file}: tensor '${clip(key, 120)}' has ${known} ${quoted(dtype, 40)}.`,
        'Supported: F32, F16, BF16, F64. Convert the checkpoint to float32 (e.g. model.float() before saving).',
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad('has a shape that is not a list of non-negative integers');
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new LabError(
        'checkpoint/bad-offsets',
        `${file}: tensor '${clip(key, 120)}' has data_offsets ${clip(JSON.stringify(data_offsets) ?? 'undefined', 80)}, not two non-negative integers.`,
        'The header is malformed; download or export the checkpoint again.',
      );
    }
    const [begin, end] = data_offsets as number[];
    const dt = dtype as StoredDtype;
    const want = numel(shape as number[]) * BYTES[dt];
    if (end < begin || end - begin !== want) {
      throw new LabError(
        'checkpoint/bad-offsets',
        `${file}: tensor '${clip(key, 120)}' (${dt} ${shapeStr(shape as number[])}) needs ${want} bytes but its data_offsets [${begin},${end}] span ${end - begin}.`,
        'The header lies about the data; the file is damaged. Download or export it again.',
      );
    }
    entries.set(key, { dtype: dt, shape: shape as number[], begin, end });
  }
  // The tensors must tile [0, dataLen) with no gap and no overlap.
  const sorted = [...entries.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let cursor = 0;
  for (const [key, e] of sorted) {
    if (e.begin < cursor) {
      throw new LabError(
        'checkpoint/bad-offsets',
        `${file}: tensor '${clip(key, 120)}' data_offsets [${e.begin},${e.end}] overlap the previous tensor, which ends at ${cursor}.`,
        'The header is inconsistent; the file is damaged. Download or export it again.',
      );
    }
    if (e.begin > cursor) {
      throw new LabError(
        'checkpoint/bad-offsets',
        `${file}: bytes [${cursor},${e.begin}) of the data region belong to no tensor (gap before '${clip(key, 120)}').`,
        'The header is inconsistent; the file is damaged. Download or export it again.',
      );
    }
    cursor = e.end;
  }
  if (cursor > dataLen) {
    const last = sorted[sorted.length - 1][0];
    throw new LabError(
      'checkpoint/truncated',
      `${file} is truncated: tensor '${clip(last, 120)}' ends at data byte ${cursor} but the data region has only ${dataLen} bytes (file ${bytes.byteLength} bytes, expected ${dataStart + cursor}).`,
      REDOWNLOAD,
    );
  }
  if (cursor < dataLen) {
    throw new LabError(
      'checkpoint/bad-offsets',
      `${file}: the tensors cover ${cursor} bytes of data but the data region has ${dataLen}; ${dataLen - cursor} trailing bytes belong to no tensor.`,
      'The file was altered or concatenated with something else; download or export it again.',
    );
  }

  const entry = (key: string): Entry => {
    const e = entries.get(key);
    if (!e) throw new Error(`safetensors '${clip(name)}': no tensor '${clip(key, 120)}'`);
    return e;
  };
  return {
    name,
    format: 'safetensors',
    metadata,
    keys: () => [...entries.keys()],
    has: (key) => entries.has(key),
    shape: (key) => [...entry(key).shape],
    read: (key) => {
      const e = entry(key);
      const abs = bytes.byteOffset + dataStart + e.begin;
      return { shape: [...e.shape], data: decode(bytes.buffer, abs, e.end - e.begin, e.dtype) };
    },
  };
}

/** Decodes `byteLength` bytes at absolute offset `abs` of `buffer` to float32. */
function decode(buffer: ArrayBufferLike, abs: number, byteLength: number, dtype: StoredDtype): Float32Array {
  const count = byteLength / BYTES[dtype];
  if (dtype === 'F32') {
    if (abs % 4 === 0) return new Float32Array(buffer, abs, count); // zero copy
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(new Uint8Array(buffer, abs, byteLength)); // little-endian hosts
    return out;
  }
  const out = new Float32Array(count);
  const dv = new DataView(buffer, abs, byteLength);
  if (dtype === 'F64') {
    for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
  } else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u[i] = dv.getUint16(i * 2, true) << 16;
  }
  return out;
}

export interface WriteOptions {
  /** Storage dtype; F32 by default. F16/BF16 round to nearest even. */
  dtype?: 'F32' | 'F16' | 'BF16';
}

/**
 * Writes tensors (in map order) as safetensors. The header is padded with spaces so the data
 * region starts 8-byte aligned, which lets readers view F32 data without copying.
 */
export function writeSafetensors(tensors: Map<string, HostTensor>, metadata?: Record<string, string>, opts: WriteOptions = {}): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  const size = BYTES[dtype];
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [key, t] of tensors) {
    if (numel(t.shape) !== t.data.length) throw new Error(`writeSafetensors: '${key}' has shape ${shapeStr(t.shape)} but ${t.data.length} values`);
    header[key] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length * size] };
    offset += t.data.length * size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, padded, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const t of tensors.values()) {
    if (dtype === 'F32') {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      const conv = dtype === 'F16' ? floatToHalf : floatToBf16;
      for (let i = 0; i < t.data.length; i++) dv.setUint16(pos + i * 2, conv(t.data[i]), true);
    }
    pos += t.data.length * size;
  }
  return out;
}

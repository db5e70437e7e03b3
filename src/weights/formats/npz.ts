/**
 * .npy and .npz readers. An .npz is a zip of .npy files, stored (np.savez) or deflated
 * (np.savez_compressed); numpy writes zip64 local headers even for small files, so sizes and
 * offsets come from the central directory. Entries are inflated one at a time on `read`.
 */
import { LabError, clip, quoted } from '../../domain/errors';
import { ZipArchive, type ZipErrors } from '../../data/zip';
import type { HostTensor } from '../types';
import { halfToFloat, numel, permute, shapeStr } from '../tensor';
import { asBytes, type LazyTensorArchive } from './archive';

const REDOWNLOAD = 'The file is incomplete: download it again and check its size.';

interface NpyHeader {
  /** numpy descr, e.g. '<f4'. */
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data within the .npy bytes. */
  dataOffset: number;
}

/** Parses an .npy header (format versions 1, 2 and 3). */
export function parseNpyHeader(b: Uint8Array, name: string, needFull = true): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  const bad = (what: string) =>
    new LabError(
      'checkpoint/bad-header',
      `${clip(name, 300)}: ${what}.`,
      'The .npy data is damaged or not written by numpy; save the checkpoint again with numpy.savez.',
    );
  if (b.byteLength < 10)
    throw new LabError('checkpoint/truncated', `${clip(name, 300)}: only ${b.byteLength} bytes, too short for an .npy header.`, REDOWNLOAD);
  if (!magic.every((m, i) => b[i] === m)) throw bad('does not start with the .npy magic \\x93NUMPY');
  const major = b[6];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let headerLen: number, start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (b.byteLength < 12) throw new LabError('checkpoint/truncated', `${clip(name, 300)}: .npy header cut off.`, REDOWNLOAD);
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw bad(`has .npy format version ${major}.${b[7]}, which this reader does not know (1, 2, 3)`);
  }
  if (start + headerLen > b.byteLength) {
    if (needFull)
      throw new LabError('checkpoint/truncated', `${clip(name, 300)}: .npy header of ${headerLen} bytes runs past the end of the data.`, REDOWNLOAD);
    throw bad(`has an .npy header of ${headerLen} bytes, too long to be real`);
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(start, start + headerLen));
  const { descr, fortranOrder, shape } = parseHeaderDict(text, bad);
  return { descr, fortranOrder, shape, dataOffset: start + headerLen };
}

/**
 * The header's Python dict literal, read strictly as numpy writes it
 * (`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`): exactly the keys descr,
 * fortran_order and shape, each once. A key given twice is ambiguous (one reader takes the first,
 * another the last), so it is refused, as is any other key (numpy refuses those too). Errors say
 * where the text went wrong, never what it holds: a header is file content.
 */
function parseHeaderDict(text: string, bad: (what: string) => LabError): { descr: string; fortranOrder: boolean; shape: number[] } {
  let p = 0;
  const ws = () => {
    while (p < text.length && ' \t\n\r'.includes(text[p]!)) p++;
  };
  const fail = (what: string) => bad(`has an .npy header that is not numpy's dict (${what} at character ${p})`);
  const expect = (c: string) => {
    ws();
    if (text[p] !== c) throw fail(`expected '${c}'`);
    p++;
  };
  const str = (): string => {
    ws();
    const q = text[p];
    if (q !== "'" && q !== '"') throw fail('expected a quoted string');
    const end = text.indexOf(q, p + 1);
    if (end < 0) throw fail('an unterminated string');
    const v = text.slice(p + 1, end);
    p = end + 1;
    return v;
  };
  const values = new Map<string, string | boolean | number[]>();
  expect('{');
  for (;;) {
    ws();
    if (text[p] === '}') break;
    const key = str();
    if (!['descr', 'fortran_order', 'shape'].includes(key)) throw fail(`an unknown key ${quoted(key, 40)}`);
    if (values.has(key)) throw bad(`has an .npy header that gives '${key}' twice, which is ambiguous`);
    expect(':');
    ws();
    if (key === 'descr') values.set(key, str());
    else if (key === 'fortran_order') {
      const word = /^(True|False)/.exec(text.slice(p, p + 5))?.[1];
      if (!word) throw fail('expected True or False');
      values.set(key, word === 'True');
      p += word.length;
    } else {
      expect('(');
      const dims: number[] = [];
      for (;;) {
        ws();
        if (text[p] === ')') break;
        const m = /^(\d{1,16})L?/.exec(text.slice(p, p + 18));
        if (!m) throw fail('expected a whole number in the shape');
        dims.push(Number(m[1]));
        p += m[0].length;
        ws();
        if (text[p] === ',') p++;
        else if (text[p] !== ')') throw fail("expected ',' or ')' in the shape");
      }
      p++;
      values.set(key, dims);
    }
    ws();
    if (text[p] === ',') p++;
    else if (text[p] !== '}') throw fail("expected ',' or '}'");
  }
  p++;
  ws();
  if (p < text.length) throw fail('text after the dict');
  const descr = values.get('descr'),
    fortranOrder = values.get('fortran_order'),
    shape = values.get('shape');
  if (typeof descr !== 'string' || typeof fortranOrder !== 'boolean' || !Array.isArray(shape))
    throw bad('has an .npy header without descr, fortran_order and shape');
  if (!shape.every((d) => Number.isSafeInteger(d))) throw bad('has an .npy shape with a dimension too large to be real');
  return { descr, fortranOrder, shape };
}

const DTYPE_BYTES: Record<string, number> = { f4: 4, f8: 8, f2: 2 };

/** Decodes a whole .npy to float32, C order (aligned little-endian float32 data is a view into `input`: do not mutate). */
export function parseNpy(input: ArrayBuffer | ArrayBufferView, name: string): HostTensor {
  const b = asBytes(input);
  const h = parseNpyHeader(b, name);
  const size = dtypeBytes(h.descr, name);
  const kind = `f${size}`;
  const endian = h.descr[0];
  const count = numel(h.shape);
  const byteLength = count * size;
  if (h.dataOffset + byteLength > b.byteLength) {
    throw new LabError(
      'checkpoint/truncated',
      `${clip(name, 300)}: array ${shapeStr(h.shape)} ${quoted(h.descr, 40)} needs ${byteLength} data bytes but only ${b.byteLength - h.dataOffset} are present.`,
      REDOWNLOAD,
    );
  }
  const little = endian !== '>';
  const abs = b.byteOffset + h.dataOffset;
  let data: Float32Array;
  if (kind === 'f4' && little && abs % 4 === 0) {
    data = new Float32Array(b.buffer, abs, count); // a view (little-endian hosts): numpy pads headers to 64 bytes
  } else if (kind === 'f4' && little) {
    data = new Float32Array(count);
    new Uint8Array(data.buffer).set(new Uint8Array(b.buffer, abs, byteLength));
  } else {
    data = new Float32Array(count);
    const dv = new DataView(b.buffer, abs, byteLength);
    if (kind === 'f4') for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, little);
    else if (kind === 'f8') for (let i = 0; i < count; i++) data[i] = dv.getFloat64(i * 8, little);
    else for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(i * 2, little));
  }
  if (h.fortranOrder && h.shape.length > 1) {
    // Fortran order of shape S is C order of reversed S; reversing the axes back gives C order of S.
    const rev = [...h.shape].reverse();
    return permute(
      { shape: rev, data },
      rev.map((_, i) => rev.length - 1 - i),
    );
  }
  return { shape: h.shape, data };
}

/** Arrays an .npz may hold: ViT-L/16 has about 390; each entry's header is read at open. */
const MAX_NPZ_ENTRIES = 10_000;

const NPZ_ERRORS: ZipErrors = {
  code: (p) => (p === 'not-zip' ? 'checkpoint/not-a-checkpoint' : p === 'truncated' ? 'checkpoint/truncated' : 'checkpoint/bad-header'),
  hint: (p) =>
    p === 'not-zip'
      ? 'Choose a .safetensors file or an .npz saved by numpy (e.g. imagenet21k_ViT-B_16.npz).'
      : p === 'truncated'
        ? REDOWNLOAD
        : p === 'unsupported' || p === 'encrypted'
          ? 'Save it again with numpy.savez or numpy.savez_compressed.'
          : p === 'too-many-entries'
            ? 'A ViT checkpoint holds a few hundred arrays; check that this is one.'
            : 'The file is damaged or not a numpy .npz; download it again or save it again with numpy.savez.',
  maxEntries: MAX_NPZ_ENTRIES,
};

/** What the directory and an entry's .npy header say, checked against each other at open. */
interface NpzEntry {
  /** Zip entry name ('<key>.npy'). */
  entry: string;
  shape: number[];
  /** Bytes the .npy needs: header + shape × item size; the entry must declare exactly this. */
  bytes: number;
}

/**
 * Opens an .npz (a zip of .npy arrays, stored by np.savez or deflated by np.savez_compressed)
 * through the lab's one zip reader. Keys are entry names without '.npy'. At open, each entry's
 * .npy header is read (only its first bytes are inflated) and the size the directory declares
 * must be exactly what that header needs, so a hostile entry (a 2 GB deflate stream behind a
 * 192-byte array) is refused before it inflates. Arrays are inflated one at a time on `read`.
 */
export async function openNpz(input: Uint8Array | Blob, name: string): Promise<LazyTensorArchive> {
  const zip = await ZipArchive.open(input, name, NPZ_ERRORS);
  const entries = new Map<string, NpzEntry>();
  for (const entry of zip.names()) {
    if (!entry.endsWith('.npy'))
      throw new LabError(
        'checkpoint/not-a-checkpoint',
        `'${clip(name)}' is not an .npz checkpoint: it holds ${quoted(entry, 120)}, which is not an .npy array.`,
        NPZ_ERRORS.hint('not-zip'),
      );
    const info = zip.info(entry)!;
    const what = `'${clip(name)}' entry '${clip(entry, 120)}'`;
    let head = await zip.read(entry, { prefix: 4096 });
    const long = head.length >= 12 && (head[6] === 2 || head[6] === 3) ? 12 + new DataView(head.buffer, head.byteOffset).getUint32(8, true) : 0;
    if (long > head.length && long <= Math.min(info.size, MAX_NPY_HEADER)) head = await zip.read(entry, { prefix: long });
    const h = parseNpyHeader(head, what, false);
    const itemBytes = dtypeBytes(h.descr, what);
    const bytes = h.dataOffset + numel(h.shape) * itemBytes;
    if (info.size !== bytes) {
      throw new LabError(
        info.size > bytes ? 'checkpoint/bad-header' : 'checkpoint/truncated',
        `${what} declares ${info.size} bytes but its array ${shapeStr(h.shape)} ${quoted(h.descr, 40)} needs ${bytes}.`,
        info.size > bytes ? NPZ_ERRORS.hint('damaged') : REDOWNLOAD,
      );
    }
    entries.set(entry.slice(0, -4), { entry, shape: h.shape, bytes });
  }
  const get = (key: string): NpzEntry => {
    const e = entries.get(key);
    if (!e) throw new Error(`internal: npz '${clip(name)}' has no array '${clip(key, 120)}'`);
    return e;
  };
  return {
    name,
    format: 'npz',
    metadata: {},
    keys: () => [...entries.keys()],
    has: (key) => entries.has(key),
    shape: (key) => [...get(key).shape],
    read: async (key) => {
      const e = get(key);
      return parseNpy(
        await zip.read(e.entry, { limit: { maxBytes: e.bytes, tooLarge: () => new Error('unreachable: sizes checked at open') as LabError } }),
        `'${clip(name)}' entry '${clip(e.entry, 120)}'`,
      );
    },
  };
}

/** numpy's .npy headers are at most 64 KiB in format 1; versions 2 and 3 allow 4 GiB, real ones are small. */
const MAX_NPY_HEADER = 1 << 20;

/** Item size of a supported dtype ('<f4' -> 4), or the unknown-dtype error. */
function dtypeBytes(descr: string, what: string): number {
  const m = /^([<>=|])([a-zA-Z])(\d+)$/.exec(descr);
  const kind = m ? `${m[2]}${m[3]}` : '';
  if (!m || !Object.hasOwn(DTYPE_BYTES, kind) || m[1] === '|') {
    throw new LabError(
      'checkpoint/unknown-dtype',
      `${what}: array dtype ${quoted(descr, 40)} is not supported.`,
      "Supported: float32 ('<f4'), float64 ('<f8'), float16 ('<f2'). Save the weights as floating point (arr.astype(np.float32)).",
    );
  }
  return DTYPE_BYTES[kind]!;
}

/**
 * Assembles the SIMD module from its text with Binaryen (Node only: `npm run kernels:build` and
 * the tests; the page and the CLIs load the committed binary in module.gen.ts).
 *
 * The module is wat/math.wat (functions the kernels share) and, for every row of KERNELS, the body
 * in wat/<name>.wat inside the header the row declares: `(func $name (export "name") (param $x i32)
 * …)`. It imports tfjs' memory and declares no memory, table, global or data of its own, so a
 * kernel can reach only what its pointer arguments point at. The threaded build's memory is shared
 * and the single-threaded one's is not; an import must say which, so there are two binaries.
 *
 * Binaryen, not only an assembler, because math.wat's functions must be inlined: V8 does not
 * inline calls between WebAssembly functions, and in GELU's loop a call per vector (to Φ, which
 * calls exp) is a large share of about forty vector operations.
 */
import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';
import { KERNELS, type KernelName } from './kernels';

/** A source file's place in the module text, so parse errors can name the file and its line. */
interface Piece {
  file: string;
  /** First line of the file in the module text (1-based). */
  line: number;
  lines: number;
}

function source(file: string): string {
  return readFileSync(new URL(`./wat/${file}`, import.meta.url), 'utf8').trimEnd();
}

function header(name: KernelName): string {
  const params = KERNELS[name].params.map((p: string) => {
    const [id, type = 'i32'] = p.split(':');
    return `(param $${id} ${type})`;
  });
  return `(func $${name} (export "${name}") ${params.join(' ')}`;
}

/** The whole module as text, and where each source file sits in it. */
export function moduleText(shared: boolean): { text: string; pieces: Piece[] } {
  // Shared memory must declare a maximum: 65536 pages is the 4 GiB a 32-bit heap can reach.
  const lines = ['(module', `(import "env" "memory" (memory 0${shared ? ' 65536 shared' : ''}))`];
  const pieces: Piece[] = [];
  const add = (file: string, before: string, after: string) => {
    const text = source(file).split('\n');
    if (before) lines.push(before);
    pieces.push({ file, line: lines.length + 1, lines: text.length });
    lines.push(...text);
    if (after) lines.push(after);
  };
  add('math.wat', '', '');
  for (const name of Object.keys(KERNELS) as KernelName[]) add(`${name}.wat`, header(name), ')');
  lines.push(')');
  return { text: lines.join('\n') + '\n', pieces };
}

/** A parse error's "LINE:COL" rewritten to the source file and its own line. */
function located(message: string, pieces: Piece[]): string {
  return message.replace(/^(\d+):(\d+)/, (whole, l: string, c: string) => {
    const p = pieces.find((q) => +l >= q.line && +l < q.line + q.lines);
    return p ? `src/kernels/wasm/wat/${p.file}:${+l - p.line + 1}:${+c + 1}` : `${whole} (a generated header or module line)`;
  });
}

/** The proposals the kernels use, all standard: fixed-width SIMD, shared memory, multiple results, memory.copy. */
const FEATURES =
  binaryen.Features.SIMD128 | binaryen.Features.Atomics | binaryen.Features.Multivalue | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt;

/** The module's binary, with the function and local names kept (browser profilers and debuggers show them). */
export function assemble(shared: boolean): Uint8Array {
  const { text, pieces } = moduleText(shared);
  binaryen.setDebugInfo(true);
  // Every function without a loop is inlined into its callers (math.wat's, which then go); gemm,
  // which loops, stays one call per product from bgemm.
  binaryen.setAlwaysInlineMaxSize(100_000);
  binaryen.setAllowInliningFunctionsWithLoops(false);
  let module: binaryen.Module;
  try {
    // Binaryen reads the string one byte per UTF-16 unit. Text outside printable ASCII occurs only
    // in comments (Φ, ·, ²), and '?' in its place keeps every line and column where it was.
    module = binaryen.parseText(text.replace(/[^ -~\t\n\r]/g, '?'));
  } catch (e) {
    throw new Error(located((e as { message?: string }).message ?? String(e), pieces));
  }
  try {
    module.setFeatures(FEATURES);
    if (!module.validate()) throw new Error('The SIMD module is not valid WebAssembly: Binaryen printed why above.');
    module.runPasses(['inlining']);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** module.gen.ts as build.ts writes it: both binaries, base64. */
export function moduleSource(): string {
  return [
    '// Written by `npm run kernels:build` from wat/*.wat and the table in kernels.ts: edit those, not this.',
    '// kernels.test.ts checks that this file is what they assemble to.',
    '',
    '/** The SIMD module over an unshared memory (tfjs-backend-wasm single-threaded) and a shared one (its threaded build), base64. */',
    `export const SIMD_MODULE = {`,
    // The layout Prettier gives a string longer than a line.
    `  unshared:\n    '${base64(assemble(false))}',`,
    `  shared:\n    '${base64(assemble(true))}',`,
    '};',
    '',
  ].join('\n');
}

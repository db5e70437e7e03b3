/**
 * `npm run size`: what a visitor's browser downloads from dist/, compressed as hosts send it.
 *
 * The files are grouped by when they are needed, following the build's own imports: the page
 * (index.html and its static imports), the views it loads right after the first paint, the engine
 * worker (and its static imports), the WebGPU backend (only where WebGPU exists), the WASM
 * binaries (a browser uses one: SIMD on one thread, or the threaded build with its pthread
 * script on a cross-origin isolated page), the bundled model, and the offline copy (service
 * worker). Sizes are raw, gzip -6 (what most servers and GitHub Pages send) and brotli 11 (a host
 * serving pre-compressed files). Totals: the first view with one quick-start run, and the whole
 * first visit (the service worker precaches everything in the background).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { quoted } from '../domain/errors';
import { DEFAULT_BUNDLED_ID } from '../train/dims';
import { parseArgs, runMain, usageError } from './args';
import { checkOutputs, checkWritable, writeFileAtomic } from './files';

const USAGE = `usage: npm run size -- [--dir dist] [--json out.json]

Builds nothing: run \`npm run build\` first. Prints the transfer size of each group of files.`;

export interface FileSize {
  file: string;
  raw: number;
  gzip: number;
  brotli: number;
}

export type GroupId = 'page' | 'views' | 'worker' | 'webgpu' | 'wasm-simd' | 'wasm-threads' | 'wasm-other' | 'model' | 'model-other' | 'offline';

export const GROUP_LABELS: Record<GroupId, string> = {
  page: 'page (first paint)',
  views: 'views loaded after the first paint',
  worker: 'engine worker',
  webgpu: 'WebGPU backend (only with WebGPU)',
  'wasm-simd': 'WASM binary (SIMD, one thread: a page not isolated)',
  'wasm-threads': 'WASM threads instead (binary + pthread script, isolated pages)',
  'wasm-other': 'WASM binary without SIMD (old browsers)',
  model: 'bundled model (the default)',
  'model-other': 'other bundled models (when chosen; in the offline copy)',
  offline: 'service worker and its helper',
};

/** Relative imports of a built chunk: static (`from"./x.js"`, `import"./x.js"`) and dynamic. */
export function chunkImports(code: string): { static: string[]; dynamic: string[] } {
  const stat = new Set<string>();
  const dyn = new Set<string>();
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'`](\.\/[^"'`]+\.js)["'`]/g)) stat.add(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*["'`](\.\/[^"'`]+\.js)["'`]\s*\)/g)) dyn.add(m[1]!);
  for (const s of dyn) stat.delete(s);
  return { static: [...stat], dynamic: [...dyn] };
}

/** The model a quick start loads: the page's default choice. */
const DEFAULT_MODEL_FILE = `models/${DEFAULT_BUNDLED_ID}.safetensors`;

/**
 * Assigns every file of a built site to a group. `files` maps a path relative to dist/
 * ('assets/x.js') to its text (JS/HTML) or null (binary).
 */
export function groupFiles(files: Map<string, string | null>, defaultModel = DEFAULT_MODEL_FILE): Map<string, GroupId> {
  const out = new Map<string, GroupId>();
  const closure = (start: string[], group: GroupId, lazy: string[]) => {
    const todo = [...start];
    while (todo.length) {
      const f = todo.pop()!;
      if (out.has(f) || !files.has(f)) continue;
      out.set(f, group);
      const code = files.get(f);
      if (!code || !f.endsWith('.js')) continue;
      const dir = path.posix.dirname(f);
      const imports = chunkImports(code);
      todo.push(...imports.static.map((s) => path.posix.join(dir, s)));
      lazy.push(...imports.dynamic.map((s) => path.posix.join(dir, s)));
    }
  };
  const html = files.get('index.html') ?? '';
  const pageFiles = ['index.html', 'manifest.webmanifest', 'favicon.svg'];
  for (const m of html.matchAll(/(?:src|href)="\.?\/?([^"]+)"/g)) pageFiles.push(m[1]!);
  const workers = [...files.keys()].filter((f) => /(^|\/)[\w.-]*worker[\w.-]*\.js$/.test(f) && !/workbox/.test(f));
  const workerLazy: string[] = [];
  closure(workers, 'worker', workerLazy);
  const pageLazy: string[] = [];
  closure(pageFiles, 'page', pageLazy);
  const sw = ['sw.js', ...pageLazy.filter((f) => /workbox/.test(f))];
  closure(sw, 'offline', []);
  closure(pageLazy, 'views', []);
  closure(workerLazy, 'webgpu', []);
  for (const f of files.keys()) {
    if (out.has(f)) continue;
    // The threaded build is its binary and the Emscripten glue its pthread workers load (a .js of
    // its own, src/backend/wasm.ts); an isolated page fetches those instead of the SIMD binary.
    if (/threaded/.test(f) && /\.(wasm|js)$/.test(f)) out.set(f, 'wasm-threads');
    else if (f.endsWith('.wasm')) out.set(f, /-simd[-.]/.test(f) ? 'wasm-simd' : 'wasm-other');
    else if (f.endsWith('.safetensors')) out.set(f, f === defaultModel ? 'model' : 'model-other');
  }
  return out;
}

/** URLs the service worker precaches (from its injected manifest). */
export function precacheUrls(swCode: string): string[] {
  return [...new Set([...swCode.matchAll(/["']?url["']?\s*:\s*["']([^"']+)["']/g)].map((m) => m[1]!))];
}

function listFiles(dir: string, base = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, base))) {
    const rel = base ? `${base}/${name}` : name;
    if (statSync(path.join(dir, rel)).isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

export function measure(bytes: Uint8Array, file: string): FileSize {
  return {
    file,
    raw: bytes.byteLength,
    gzip: gzipSync(bytes, { level: 6 }).byteLength,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } }).byteLength,
  };
}

const kb = (n: number) => (n / 1024).toFixed(n < 10 * 1024 ? 1 : 0);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), { values: ['dir', 'json'] });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const dir = args.values.get('dir') ?? 'dist';
  if (!existsSync(path.join(dir, 'index.html')))
    throw usageError(`${quoted(dir, 80)} has no index.html: run \`npm run build\` first, or pass --dir <built site>.`);
  const json = args.values.get('json');
  if (json !== undefined) {
    // Checked before measuring: the report must not land in (and change) the site it measures.
    await checkWritable(json, '--json');
    await checkOutputs([{ path: json, option: '--json' }], [{ path: dir, option: '--dir' }]);
  }
  const names = listFiles(dir);
  const text = (f: string) => /\.(js|html)$/.test(f);
  const files = new Map(names.map((f) => [f, text(f) ? readFileSync(path.join(dir, f), 'utf8') : null] as const));
  const groups = groupFiles(files);
  const precached = new Set(files.has('sw.js') ? precacheUrls(files.get('sw.js')!) : []);
  const sizes = new Map(names.map((f) => [f, measure(readFileSync(path.join(dir, f)), f)]));

  const sum = (fs: string[]) =>
    fs.reduce((a, f) => ({ raw: a.raw + sizes.get(f)!.raw, gzip: a.gzip + sizes.get(f)!.gzip, brotli: a.brotli + sizes.get(f)!.brotli }), {
      raw: 0,
      gzip: 0,
      brotli: 0,
    });
  const rows: { group: string; files: string[]; raw: number; gzip: number; brotli: number }[] = [];
  for (const id of Object.keys(GROUP_LABELS) as GroupId[]) {
    const fs = names.filter((f) => groups.get(f) === id);
    if (fs.length) rows.push({ group: GROUP_LABELS[id], files: fs, ...sum(fs) });
  }
  const firstView = (wasm: GroupId) => names.filter((f) => ['page', 'views', 'worker', wasm, 'model'].includes(groups.get(f) ?? ''));
  const firstVisit = names.filter((f) => precached.has(f) || f === 'sw.js' || groups.get(f) === 'page');
  const totals = [
    { group: 'first view + one quick-start run (no WebGPU, one thread)', files: firstView('wasm-simd'), ...sum(firstView('wasm-simd')) },
    { group: 'the same, cross-origin isolated (WASM threads)', files: firstView('wasm-threads'), ...sum(firstView('wasm-threads')) },
    { group: 'whole first visit (with the offline copy)', files: firstVisit, ...sum(firstVisit) },
  ];

  console.log(`dist: ${path.resolve(dir)} (KiB; gzip -6 and brotli 11)\n`);
  console.log('| what | files | raw | gzip | brotli |\n|---|---:|---:|---:|---:|');
  for (const r of [...rows, ...totals]) console.log(`| ${r.group} | ${r.files.length} | ${kb(r.raw)} | ${kb(r.gzip)} | ${kb(r.brotli)} |`);
  const other = names.filter((f) => !groups.has(f) && !precached.has(f));
  if (other.length) console.log(`\nnot downloaded by a visitor: ${other.join(', ')}`);
  if (args.values.has('json')) {
    writeFileAtomic(
      args.values.get('json')!,
      JSON.stringify(
        { dir, groups: rows, totals, files: [...sizes.values()].map((s) => ({ ...s, group: groups.get(s.file) ?? null, precached: precached.has(s.file) })) },
        null,
        2,
      ),
    );
  }
  return 0;
}

if (process.argv[1] && import.meta.url === `file://${path.resolve(process.argv[1])}`) runMain(main, USAGE);

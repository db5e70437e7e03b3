/**
 * A sweep: the study as a list of cells, each one Playwright test (`e2e/sweep/sweep.spec.ts`), so
 * that Playwright's own `--shard i/n` spreads them over machines and `merge-reports` gathers them.
 *
 * This module reads a sweep file (`sweep.schema.json` for its shape, then the catalog for task,
 * model, grid and seed names, every problem a named error with the field's path), enumerates the
 * cells in a fixed order, and names each cell's result by a hash of everything that decides its
 * numbers, so a re-run skips the cells whose results already exist (resumable shards).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { pathOf } from '../data/schema';
import { compileSchema } from './schemas';
import { LabError, bytesText, quoted } from '../domain/errors';
import { FileProblem, readFileBounded } from '../data/source.node.js';
import { MAX_GRID_POINTS } from './args';
import { jsonErrorAt } from './files';
import type { BACKENDS, MethodId } from '../domain/run';
import { TASKS } from '../data/catalog';
import { NAMED_MODELS } from '../train/models';
import { DEFAULT_BUNDLED_ID } from '../train/dims';
import { parseSeeds, resolveGrid, type HyperGrid } from '../train/paper';
import schema from './sweep.schema.json' with { type: 'json' };

/** Where a model or the data comes from, as the sweep file says it. */
export type Source = string | { path: string } | { url: string };

/** A sweep file as written (after the schema accepted its shape). */
export interface SweepFile {
  name?: string;
  model?: Source;
  data?: 'procedural' | { path: string } | { url: string };
  tasks: string[];
  methods: MethodId[];
  seeds?: number | number[];
  sizes: { train: number; epochs: number }[];
  protocol?: 'quick' | { kind: 'paper'; grid?: string };
  batch?: number;
  testSize?: number;
  lr?: number;
  promptLength?: number;
  imageSize?: number;
  backend?: 'auto' | (typeof BACKENDS)[number];
  cellTimeoutMinutes?: number;
}

/** What every cell of a sweep shares: the file's fields with defaults filled in and paths resolved. */
export interface Sweep {
  /** The sweep file, absolute. */
  file: string;
  name: string;
  /** A NAMED_MODELS name, or a checkpoint on disk (absolute) or at a URL. */
  model: { name: string } | { path: string } | { url: string };
  data: { kind: 'procedural' } | { path: string } | { url: string };
  /** The sources as the file wrote them: what the hash covers (not this machine's absolute paths). */
  modelText: string;
  dataText: string;
  seeds: number[];
  protocol: { kind: 'quick' } | { kind: 'paper'; grid: string };
  batch: number;
  testSize: number;
  lr?: number;
  promptLength?: number;
  imageSize: number;
  backend: 'auto' | (typeof BACKENDS)[number];
  cellTimeoutMs: number;
  cells: Cell[];
}

/** One test of the sweep: one task × train size × method, and one seed (quick) or all seeds (paper). */
export interface Cell {
  /** The test's title: unique in the sweep and stable across runs. */
  title: string;
  taskId: string;
  method: MethodId;
  trainSize: number;
  valSize: number;
  epochs: number;
  /** Quick protocol: this cell's seed. Paper protocol: the final runs' seeds (the search uses the first). */
  seeds: number[];
  /** Paper protocol: the grid this method searches. */
  grid?: HyperGrid;
  /** sha-256 (first 16 hex digits) of everything that decides the cell's numbers. */
  hash: string;
  /** The result's file name in the results folder. */
  fileName: string;
}

/**
 * A sweep of more cells than this is refused (each cell is a training run of minutes to hours);
 * the schema bounds each list too (sweep.schema.json: 100 seeds, 100 sizes, 200 grid points).
 */
export const MAX_SWEEP_CELLS = 100_000;

/** Bumped when a cell's result would change for the same settings (a new result schema). */
export const RESULT_VERSION = 1;

const validateShape = compileSchema<SweepFile>(schema);

function invalid(file: string, where: string, what: string, fix: string): LabError {
  return new LabError('config/invalid', `Sweep file ${quoted(file)}: ${where ? `${where} ` : ''}${what}.`, fix);
}

/** The schema's first complaint as "at tasks[1]: must be string" with a fix. */
function shapeError(file: string, e: ErrorObject): LabError {
  const where = pathOf(e) || 'the top level';
  const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
  const extra = (e.params as { additionalProperty?: string }).additionalProperty;
  const what = extra ? `has an unknown field ${quoted(extra, 40)}` : allowed ? `must be one of ${allowed.join(', ')}` : (e.message ?? 'is not valid');
  return invalid(file, `at ${where}`, what, 'See src/cli/sweep.schema.json (or the README, "The full study on many machines") for every field.');
}

/** Checks a parsed sweep file and expands it into cells; `file` resolves relative paths and names errors. */
export function planSweep(json: unknown, file: string): Sweep {
  if (!validateShape(json)) {
    const errors = validateShape.errors ?? [];
    // A oneOf failure reports every branch: the deepest error, and of those the one that is not
    // about the value's type (the branch meant for this type), says the most.
    const rank = (e: ErrorObject) => (['additionalProperties', 'required'].includes(e.keyword) ? 0 : ['type', 'const', 'oneOf'].includes(e.keyword) ? 2 : 1);
    const best = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length || rank(a) - rank(b))[0];
    throw best ? shapeError(file, best) : invalid(file, '', 'is not a sweep definition', 'See src/cli/sweep.schema.json.');
  }
  const s = json;
  const base = dirname(resolve(file));
  const at = (p: string) => (isAbsolute(p) ? p : join(base, p));

  for (const [i, t] of s.tasks.entries()) {
    if (TASKS.some((task) => task.id === t)) continue;
    const near = TASKS.find((task) => task.id.startsWith(t.slice(0, 4)));
    throw invalid(
      file,
      `at tasks[${i}]`,
      `${quoted(t, 40)} is not a task`,
      near ? `Did you mean ${near.id}? (npm run train -- --help lists every task.)` : 'npm run train -- --help lists every task.',
    );
  }
  const modelIn = s.model ?? DEFAULT_BUNDLED_ID;
  if (typeof modelIn === 'string' && !NAMED_MODELS.some((m) => m.name === modelIn)) {
    throw invalid(
      file,
      'at model',
      `${quoted(modelIn, 60)} is not a model name`,
      `Use one of ${NAMED_MODELS.map((m) => m.name).join(', ')}, or {"path": "<checkpoint>"} / {"url": "<checkpoint URL>"}.`,
    );
  }
  const dataIn = s.data ?? 'procedural';
  if (dataIn === 'procedural') {
    const vtab = s.tasks.find((t) => TASKS.find((task) => task.id === t)?.source === 'vtab');
    if (vtab)
      throw invalid(
        file,
        'at data',
        `is procedural, but ${vtab} is a VTAB-1k task whose images come from files`,
        'Give data as {"path": "<vtab-1k folder or zip>"} or {"url": "<base URL>"}.',
      );
  }
  // VTAB-1k tasks draw their train sizes from the lists (800 / 200 is the canonical split).
  const small = s.sizes.findIndex((z) => z.train < 400);
  const vtabTask = s.tasks.find((t) => TASKS.find((task) => task.id === t)?.source === 'vtab');
  if (small >= 0 && vtabTask)
    throw invalid(
      file,
      `at sizes[${small}].train`,
      `is ${s.sizes[small]!.train}, but VTAB-1k tasks (${vtabTask}) train on 400 to 20,000 images`,
      'Give 800 for the canonical 800 / 200 split, or sweep the small sizes over procedural tasks only.',
    );
  const protocolIn = s.protocol ?? 'quick';
  const protocol: Sweep['protocol'] = protocolIn === 'quick' ? { kind: 'quick' } : { kind: 'paper', grid: protocolIn.grid ?? 'reduced' };
  if (protocol.kind === 'paper' && s.lr !== undefined)
    throw invalid(
      file,
      'at lr',
      'is set, but the paper protocol searches the learning rate',
      'Give the rates in protocol.grid, e.g. "lr=0.5,0.05", and remove lr.',
    );
  let seeds: number[];
  try {
    seeds = parseSeeds(String(s.seeds ?? 1), 0, 'seeds');
  } catch (e) {
    throw invalid(file, '', (e as Error).message.replace(/\.$/, ''), 'Give seeds as a count (3) or a list ([0, 1, 2]).');
  }
  // The page runs a paper protocol's final runs on seeds seed, seed + 1, ... (at most 10).
  if (protocol.kind === 'paper' && (seeds.length > 10 || seeds.some((x, i) => i > 0 && x !== seeds[0]! + i))) {
    throw invalid(
      file,
      'at seeds',
      `is ${JSON.stringify(s.seeds)}, but the paper protocol runs up to 10 consecutive seeds`,
      'Give a count (3) or consecutive seeds ([5, 6, 7]).',
    );
  }
  const grids = new Map<MethodId, HyperGrid>();
  if (protocol.kind === 'paper') {
    for (const m of s.methods) {
      try {
        grids.set(m, resolveGrid(protocol.grid, m));
      } catch (e) {
        throw invalid(
          file,
          'at protocol.grid',
          (e as LabError).message.replace(/^--grid:? ?/, '').replace(/\.$/, ''),
          'Write reduced, reference, or e.g. "lr=0.5,0.05;wd=0.0001".',
        );
      }
    }
  }

  const sweep: Omit<Sweep, 'cells'> = {
    file: resolve(file),
    name: s.name ?? dirname(file),
    model: typeof modelIn === 'string' ? { name: modelIn } : 'path' in modelIn ? { path: at(modelIn.path) } : modelIn,
    data: dataIn === 'procedural' ? { kind: 'procedural' } : 'path' in dataIn ? { path: at(dataIn.path) } : dataIn,
    modelText: sourceText(modelIn),
    dataText: sourceText(dataIn),
    seeds,
    protocol,
    batch: s.batch ?? 32,
    testSize: s.testSize ?? 500,
    lr: s.lr,
    promptLength: s.promptLength,
    imageSize: s.imageSize ?? 0,
    backend: s.backend ?? 'auto',
    cellTimeoutMs: (s.cellTimeoutMinutes ?? 60) * 60_000,
  };
  for (const [m, grid] of grids)
    if (grid.lrs.length * grid.wds.length > MAX_GRID_POINTS)
      throw invalid(
        file,
        'at protocol.grid',
        `has ${grid.lrs.length * grid.wds.length} points for ${m}; at most ${MAX_GRID_POINTS}, each a training run`,
        'Give fewer learning rates and weight decays.',
      );
  // One cell per seed for quick runs; the paper protocol's seeds share one search, so one cell.
  const seedGroups = protocol.kind === 'quick' ? seeds.map((x) => [x]) : [seeds];
  const count = s.tasks.length * s.sizes.length * s.methods.length * seedGroups.length;
  if (count > MAX_SWEEP_CELLS)
    throw invalid(
      file,
      '',
      `makes ${count.toLocaleString('en')} cells (tasks × sizes × methods${protocol.kind === 'quick' ? ' × seeds' : ''}); a sweep may have at most ${MAX_SWEEP_CELLS.toLocaleString('en')}`,
      'Split it into several sweep files.',
    );
  const titles = new Set<string>();
  const cells: Cell[] = [];
  for (const taskId of s.tasks) {
    for (const size of s.sizes) {
      for (const method of s.methods) {
        for (const group of seedGroups) {
          const cell = {
            taskId,
            method,
            trainSize: size.train,
            valSize: Math.max(1, Math.floor(size.train / 4)),
            epochs: size.epochs,
            seeds: group,
            grid: grids.get(method),
          };
          const hash = cellHash(sweep, cell);
          const seedText = protocol.kind === 'quick' ? `seed ${group[0]}` : `seeds ${group.join(',')}`;
          const title = `${taskId} ${method} n=${size.train} ${size.epochs} ep ${seedText}`;
          if (titles.has(title))
            throw invalid(file, 'at sizes', `repeats train size ${size.train} with ${size.epochs} epochs`, 'List each train size and epochs once.');
          titles.add(title);
          cells.push({ ...cell, title, hash, fileName: `${taskId}--${method}--n${size.train}--e${size.epochs}--s${group.join('-')}--${hash}.json` });
        }
      }
    }
  }
  return { ...sweep, cells };
}

function sourceText(src: Source): string {
  return typeof src === 'string' ? src : 'path' in src ? `path:${src.path}` : `url:${src.url}`;
}

/** JSON with object keys sorted at every level: the same settings always give the same text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The cell's identity: every setting that decides its numbers (model and data as the sweep file
 * names them, the task, method, sizes, epochs, seeds, protocol and grid, batch, test size, lr,
 * prompt length, resolution and the backend asked for), never its title, the sweep's name or
 * the machine it runs on.
 */
function cellHash(s: Omit<Sweep, 'cells'>, c: Omit<Cell, 'title' | 'hash' | 'fileName'>): string {
  const identity = {
    v: RESULT_VERSION,
    model: s.modelText,
    data: s.dataText,
    protocol: s.protocol.kind === 'paper' ? { kind: 'paper', grid: c.grid } : { kind: 'quick' },
    task: c.taskId,
    method: c.method,
    trainSize: c.trainSize,
    valSize: c.valSize,
    epochs: c.epochs,
    seeds: c.seeds,
    batch: s.batch,
    testSize: s.testSize,
    lr: s.lr,
    promptLength: s.promptLength,
    imageSize: s.imageSize,
    backend: s.backend,
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 16);
}

/**
 * Where a model or the data comes from, as given on a command line or in the environment
 * (`--model`, SWEEP_MODEL): an http(s) URL, a model name, `procedural`, or else a path (relative
 * to the current folder, not to the sweep file).
 */
export function sourceFromText(text: string, names: readonly string[]): Source {
  if (/^https?:\/\//.test(text)) return { url: text };
  if (names.includes(text)) return text;
  return { path: resolve(text) };
}

/** What a run of the sweep may put in place of the file's model and data (the same sweep on other machines). */
export interface SweepOverrides {
  model?: string;
  data?: string;
}

/** The overrides npm run sweep passes to the test runner. */
export function overridesFromEnv(env: NodeJS.ProcessEnv): SweepOverrides {
  return { model: env.SWEEP_MODEL || undefined, data: env.SWEEP_DATA || undefined };
}

/** A sweep file is a few kB; anything past this is not one (and a 900 MB file would not even fit in one string). */
export const MAX_SWEEP_FILE_BYTES = 16 * 2 ** 20;

/** Reads and plans a sweep file, with named errors for a missing, huge or non-regular file and for text that is not JSON. */
export async function loadSweep(file: string, overrides: SweepOverrides = {}): Promise<Sweep> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(file, MAX_SWEEP_FILE_BYTES);
  } catch (e) {
    if (!(e instanceof FileProblem)) throw e;
    const reason =
      e.kind === 'not-file'
        ? `it is ${e.detail}`
        : e.kind === 'too-large'
          ? `it is ${bytesText(e.size)}, more than the ${bytesText(MAX_SWEEP_FILE_BYTES)} a sweep file may be`
          : e.detail;
    throw new LabError(
      'config/invalid',
      `Sweep file ${quoted(file)} cannot be read: ${reason}.`,
      'Give npm run sweep the path of a sweep JSON file (e2e/sweep/small.sweep.json is an example).',
    );
  }
  const text = new TextDecoder().decode(bytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(file, '', jsonErrorAt(text).replace(/^it /, ''), 'Fix the JSON syntax.');
  }
  if (json && typeof json === 'object') {
    if (overrides.model)
      (json as SweepFile).model = sourceFromText(
        overrides.model,
        NAMED_MODELS.map((m) => m.name),
      );
    if (overrides.data) (json as SweepFile).data = sourceFromText(overrides.data, ['procedural']) as SweepFile['data'];
  }
  return planSweep(json, file);
}

/** What a cell writes to the results folder, beside the study's own fields. */
export interface CellRecord {
  version: number;
  sweep: string;
  hash: string;
  title: string;
  /** The backend the run used (WebGPU on a GPU, WASM otherwise, unless the sweep forced one). */
  backend: string;
  seconds: number;
  finishedAt: string;
  /**
   * Per epoch of every run in the cell: the numbers a determinism check compares. Paper protocol:
   * the search runs (with their lr, wd; valAcc = validation) then the final runs (valAcc null).
   */
  curves: {
    seed: number;
    stage?: 'search' | 'final';
    lr?: number;
    wd?: number;
    epochs: { epoch: number; trainLoss: number; trainAcc: number; valAcc: number }[];
  }[];
}

/**
 * The stored result of a cell, or null when it has none to resume from: no file, or a file that
 * is not a complete result of this very cell (a different hash, or cut short) is run again.
 */
export async function readCellResult<T extends { sweep?: CellRecord }>(dir: string, cell: Cell): Promise<T | null> {
  let bytes: Uint8Array;
  try {
    // A result is a few kB; a pipe or a device under a result's name is not one (and must not block).
    bytes = await readFileBounded(join(dir, cell.fileName), 256 * 2 ** 20);
  } catch {
    return null;
  }
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as T;
    return json.sweep?.hash === cell.hash && json.sweep.version === RESULT_VERSION ? json : null;
  } catch {
    return null;
  }
}

/**
 * The stored results of many cells (null where a cell has none), reading the folder's listing
 * once and only the files that are there, one at a time: a sweep of 100,000 cells must not open
 * 100,000 files at once (the process would run out of file handles and call results missing).
 */
export async function readCellResults<T extends { sweep?: CellRecord }>(dir: string, cells: readonly Cell[]): Promise<(T | null)[]> {
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  const out: (T | null)[] = [];
  for (const c of cells) out.push(present.has(c.fileName) ? await readCellResult<T>(dir, c) : null);
  return out;
}

/** Writes a cell's result whole or not at all (a temporary file renamed), so a killed shard leaves no half file. */
export async function writeCellResult(dir: string, cell: Cell, result: { sweep: CellRecord }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, cell.fileName);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(result, null, 1));
  await rename(tmp, path);
  return path;
}

/**
 * Images a cell puts through the model: trained (a forward and a backward pass each) and only
 * evaluated (forward), and its training runs. Quick: one run, validation every epoch, then the
 * test set. Paper: every grid point trains on train and scores val each epoch; each seed's final
 * run trains on train + val and scores the test set once. `testImages` stands in for the test
 * set when it is the whole list (testSize 0).
 */
export function cellWork(s: Sweep, c: Cell, testImages: number): { runs: number; train: number; forward: number } {
  if (s.protocol.kind === 'quick') return { runs: 1, train: c.epochs * c.trainSize, forward: c.epochs * c.valSize + testImages };
  const points = (c.grid?.lrs.length ?? 1) * (c.grid?.wds.length ?? 1);
  const seeds = c.seeds.length;
  return {
    runs: points + seeds,
    train: points * c.epochs * c.trainSize + seeds * c.epochs * (c.trainSize + c.valSize),
    forward: points * c.epochs * c.valSize + seeds * testImages,
  };
}

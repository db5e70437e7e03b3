/**
 * Command-line parsing for every CLI, over Node's own `util.parseArgs` (strict: an unknown option
 * or a missing value is an error, never a silent default), and the one way a CLI ends:
 * exit 0 on success, 2 for a usage error (bad option or value), 1 for bad input (a file, a
 * folder, a run that failed), always with one line that names the problem and the fix, never a
 * stack trace (DEBUG=1 prints it).
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { LabError, clip, isUsageError, quoted } from '../domain/errors';
import { endProgress } from './progress';
import { WASM_MAX_THREADS } from '../backend/threads';
import type { MethodId } from '../domain/run';
import { parseSeeds, resolveGrid, type HyperGrid } from '../train/paper';

export interface ArgSpec {
  /** Options that take a value. */
  values: string[];
  /** Options that are flags. */
  flags?: string[];
  /** Whether positional arguments are allowed (default true; the CLI checks their number). */
  positionals?: boolean;
}

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string>;
  flags: Set<string>;
}

/** A usage error: the CLI exits 2 and points at --help. */
export function usageError(message: string): LabError {
  return new LabError('usage/invalid', message);
}

export function parseArgs(argv: string[], spec: ArgSpec): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const v of spec.values) options[v] = { type: 'string' };
  for (const f of spec.flags ?? []) options[f] = { type: 'boolean' };
  let parsed: ReturnType<typeof nodeParseArgs> & { tokens?: { kind: string; name?: string }[] };
  try {
    parsed = nodeParseArgs({ args: argv, options, allowPositionals: spec.positionals ?? true, strict: true, tokens: true });
  } catch (e) {
    throw usageError(describeParseError(e as Error & { code?: string }, spec));
  }
  // An option given twice would silently take the last value: which one the user meant is unknown.
  const given = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    if (given.has(t.name)) throw usageError(`--${clip(t.name, 40)} is given more than once; give it once.`);
    given.add(t.name);
  }
  const out: ParsedArgs = { positional: parsed.positionals, values: new Map(), flags: new Set() };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') out.values.set(name, value);
    else if (value === true) out.flags.add(name);
  }
  return out;
}

/** Node's messages are long and quote the whole argument; ours name the option and the fix. */
function describeParseError(e: Error & { code?: string }, spec: ArgSpec): string {
  const opt = /'(-{1,2}[^' ]+)/.exec(e.message)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const name = opt.replace(/^-+/, '');
      const near = [...spec.values, ...(spec.flags ?? [])].find((o) => o.startsWith(name.slice(0, 3)) && name.length > 2);
      return `Unknown option ${quoted(opt, 60)}.${near ? ` Did you mean --${near}?` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return spec.flags?.includes(opt.replace(/^-+/, '').replace(/=.*/, ''))
        ? `${clip(opt, 60)} is a flag and takes no value.`
        : `${clip(opt.replace(/ .*/, ''), 60)} needs a value.`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `Unexpected argument ${quoted(/'([^']*)'/.exec(e.message)?.[1] ?? '', 60)}.`;
    default:
      return clip(e.message, 200);
  }
}

/** The largest integer any integer option takes unless it says less: seeds, counts and sizes all fit. */
export const MAX_INT_ARG = 2 ** 31 - 1;

/**
 * An integer option: decimal digits only (no 1e3, 0x10 or 0b100, which JavaScript's Number would
 * take), from `min` to `max` (the range the usage text states); outside it, a usage error.
 */
export function intArg(args: ParsedArgs, name: string, fallback: number, min = 0, max = MAX_INT_ARG): number {
  const s = args.values.get(name);
  if (s === undefined) return fallback;
  const v = /^-?\d{1,16}$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw usageError(
      `--${name} must be a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')} (decimal digits), got ${quoted(s, 40)}.`,
    );
  return v;
}

/** `--threads N`: WASM threads from 1 to the cap, or undefined (one per logical core, up to the cap). */
export function threadsArg(args: ParsedArgs): number | undefined {
  if (!args.values.has('threads')) return undefined;
  // Only WASM has threads: silently ignoring the option on another backend would hide a mistake.
  const backend = args.values.get('backend') ?? 'wasm';
  if (backend !== 'wasm') throw usageError(`--threads sets WASM's threads; this run is on ${quoted(backend, 20)}.`);
  return intArg(args, 'threads', 1, 1, WASM_MAX_THREADS);
}

/** The option's line in a CLI's usage text. */
export const THREADS_USAGE = `  --threads N           WASM threads (default: one per logical core, up to ${WASM_MAX_THREADS}); with study
                        shards running side by side, give each --threads 1`;

/** A decimal number as people write it: 0.5, 1e-4, -2, .5 (not 0x10, Infinity or an empty string). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A finite number ≥ 0 (or > 0 with `positive`), at most `max` (below it with `below`), or
 * undefined when the option is absent.
 */
export function numArg(args: ParsedArgs, name: string, opts: { positive?: boolean; max?: number; below?: boolean } = {}): number | undefined {
  const s = args.values.get(name);
  if (s === undefined) return undefined;
  const v = DECIMAL.test(s.trim()) ? Number(s) : NaN;
  const max = opts.max ?? Infinity;
  if (!Number.isFinite(v) || v < 0 || (opts.positive && v === 0) || v > max || (opts.below && v === max)) {
    const range = Number.isFinite(max) ? `${opts.positive ? 'above' : 'from'} 0 and ${opts.below ? 'below' : 'up to'} ${max}` : '';
    throw usageError(`--${name} must be a ${opts.positive ? 'positive' : 'non-negative'} number${range ? ` (${range})` : ''}, got ${quoted(s, 40)}.`);
  }
  return v;
}

/** Text options the protocol parses further (--seeds, --grid): a real value is a few dozen characters. */
const MAX_SPEC_CHARS = 1000;

/** A grid of more points than this is refused (the reference grid has 40; each point is a training run). */
export const MAX_GRID_POINTS = 200;
/** Seeds in a list, at most (a count is from 1 to 100 too). */
export const MAX_SEEDS = 100;

/** --seeds: a count from `base` or a list (parseSeeds), at most MAX_SEEDS, as a usage error when bad. */
export function seedsArg(args: ParsedArgs, fallback: string, base: number): number[] {
  const text = args.values.get('seeds') ?? fallback;
  if (text.length > MAX_SPEC_CHARS)
    throw usageError(`--seeds is ${text.length.toLocaleString('en')} characters long; give a count (3) or a list of up to ${MAX_SEEDS} seeds.`);
  let seeds: number[];
  try {
    seeds = parseSeeds(text, base);
  } catch (e) {
    throw e instanceof LabError ? usageError(e.message) : e;
  }
  if (seeds.length > MAX_SEEDS) throw usageError(`--seeds lists ${seeds.length} seeds; at most ${MAX_SEEDS}.`);
  if (seeds.some((x) => x > MAX_INT_ARG)) throw usageError(`--seeds: every seed must be at most ${MAX_INT_ARG.toLocaleString('en')}.`);
  return seeds;
}

/** --grid for one method (resolveGrid), at most MAX_GRID_POINTS points, as a usage error when bad. */
export function gridArg(spec: string | undefined, method: MethodId, where = '--grid'): HyperGrid {
  if (spec !== undefined && spec.length > MAX_SPEC_CHARS)
    throw usageError(
      `${where} is ${spec.length.toLocaleString('en')} characters long; a grid is e.g. 'lr=0.5,0.05;wd=0.0001' (at most ${MAX_GRID_POINTS} points).`,
    );
  let grid: HyperGrid;
  try {
    grid = resolveGrid(spec, method);
  } catch (e) {
    throw e instanceof LabError ? usageError(e.message) : e;
  }
  const points = grid.lrs.length * grid.wds.length;
  if (points > MAX_GRID_POINTS) throw usageError(`${where} has ${points} points (lr × wd); at most ${MAX_GRID_POINTS}, each a training run.`);
  return grid;
}

/** One of a closed set of values. */
export function enumArg<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const s = args.values.get(name);
  if (s === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(s)) throw usageError(`--${name} must be one of ${allowed.join(', ')}, got ${quoted(s, 40)}.`);
  return s as T;
}

/** A comma-separated list, each item from a closed set (an empty list is a usage error). */
export function listArg<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: readonly T[]): T[] {
  const s = args.values.get(name);
  if (s === undefined) return [...fallback];
  const items = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (items.length === 0) throw usageError(`--${name} needs at least one of ${allowed.join(', ')}.`);
  for (const it of items)
    if (!(allowed as readonly string[]).includes(it)) throw usageError(`--${name}: ${quoted(it, 40)} is not one of ${allowed.join(', ')}.`);
  return [...new Set(items)] as T[];
}

/**
 * Ends the process once everything written to stdout and stderr has left it: process.exit right
 * after a large write to a pipe would cut the output at the pipe's buffer (64-128 kB).
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  await Promise.all(
    [process.stdout, process.stderr].map(
      (stream) =>
        new Promise<void>((resolve) => {
          if (stream.writableLength === 0) return resolve();
          // Writes are in order: this one's callback runs once every earlier one is flushed.
          stream.write('', () => resolve());
        }),
    ),
  );
  process.exit(code);
}

/**
 * Run a CLI main. Returns the exit code through process.exit: the main's own (0 by default),
 * 2 for usage errors, 1 for every other error, printed as one line (escaped and cut by clip: a message
 * never carries a control character to the terminal). Unhandled rejections take the same path
 * (tfjs' WASM glue would otherwise rethrow them and print its own source).
 */
export function runMain(main: () => Promise<number | void>, usage: string): void {
  let ending = false;
  const fail = (err: unknown): void => {
    // One error line: a second failure while the output drains is the first one's echo.
    if (ending) return;
    ending = true;
    endProgress();
    if (isUsageError(err)) {
      console.error(`error: ${clip(err.message, 2000)}\n\n${usage}`);
      void exitWhenFlushed(2);
      return;
    }
    if (err instanceof LabError) console.error(`error [${err.code}]: ${clip(err.message, 2000)}`);
    else {
      const e = err instanceof Error ? err : new Error(String(err));
      console.error(`error [internal]: ${clip(e.message, 300)} (an unexpected failure, not a problem with your input; DEBUG=1 prints where it happened).`);
      if (process.env.DEBUG) console.error(e.stack);
    }
    void exitWhenFlushed(1);
  };
  process.on('unhandledRejection', fail);
  process.on('uncaughtException', fail);
  main().then((code) => {
    if (ending) return;
    ending = true;
    void exitWhenFlushed(code ?? 0);
  }, fail);
}

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
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: argv, options, allowPositionals: spec.positionals ?? true, strict: true });
  } catch (e) {
    throw usageError(describeParseError(e as Error & { code?: string }, spec));
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

export function intArg(args: ParsedArgs, name: string, fallback: number, min = -Infinity, max = Infinity): number {
  const s = args.values.get(name);
  if (s === undefined) return fallback;
  const v = s.trim() === '' ? NaN : Number(s);
  if (!Number.isInteger(v) || v < min || v > max)
    throw usageError(
      `--${name} must be an integer${Number.isFinite(min) ? ` from ${min}` : ''}${Number.isFinite(max) ? ` to ${max}` : ''}, got ${quoted(s, 40)}.`,
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

/** A finite number ≥ 0 (or > 0 with `positive`), or undefined when the option is absent. */
export function numArg(args: ParsedArgs, name: string, opts: { positive?: boolean } = {}): number | undefined {
  const s = args.values.get(name);
  if (s === undefined) return undefined;
  const v = s.trim() === '' ? NaN : Number(s);
  if (!Number.isFinite(v) || v < 0 || (opts.positive && v === 0))
    throw usageError(`--${name} must be a ${opts.positive ? 'positive' : 'non-negative'} number, got ${quoted(s, 40)}.`);
  return v;
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
 * Run a CLI main. Returns the exit code through process.exit: the main's own (0 by default),
 * 2 for usage errors, 1 for every other error, printed as one line. Unhandled rejections take
 * the same path (tfjs' WASM glue would otherwise rethrow them and print its own source).
 */
export function runMain(main: () => Promise<number | void>, usage: string): void {
  const fail = (err: unknown): never => {
    endProgress();
    if (isUsageError(err)) {
      console.error(`error: ${err.message}\n\n${usage}`);
      process.exit(2);
    }
    if (err instanceof LabError) console.error(`error [${err.code}]: ${err.message}`);
    else {
      const e = err instanceof Error ? err : new Error(String(err));
      console.error(`error [internal]: ${clip(e.message, 300)} (an unexpected failure, not a problem with your input; DEBUG=1 prints where it happened).`);
      if (process.env.DEBUG) console.error(e.stack);
    }
    process.exit(1);
  };
  process.on('unhandledRejection', fail);
  process.on('uncaughtException', fail);
  main().then((code) => process.exit(code ?? 0), fail);
}

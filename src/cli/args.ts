/**
 * A small, strict argument parser shared by the CLIs: `--name value` and `--flag`, with unknown
 * options reported as errors (a typo should never silently become a default).
 */
export interface ArgSpec {
  /** Options that take a value. */
  values: string[];
  /** Options that are flags. */
  flags?: string[];
}

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string>;
  flags: Set<string>;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], spec: ArgSpec): ParsedArgs {
  const out: ParsedArgs = { positional: [], values: new Map(), flags: new Set() };
  const flags = new Set(['help', ...(spec.flags ?? [])]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq > 0 ? eq : undefined);
    if (flags.has(name)) {
      out.flags.add(name);
      continue;
    }
    if (!spec.values.includes(name)) throw new UsageError(`Unknown option --${name}.`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value.`);
    out.values.set(name, value);
  }
  return out;
}

export function intArg(args: ParsedArgs, name: string, fallback: number, min = -Infinity, max = Infinity): number {
  const s = args.values.get(name);
  if (s === undefined) return fallback;
  const v = Number(s);
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be an integer${Number.isFinite(min) ? ` from ${min}` : ''}${Number.isFinite(max) ? ` to ${max}` : ''}, got '${s}'.`);
  return v;
}

export function numArg(args: ParsedArgs, name: string): number | undefined {
  const s = args.values.get(name);
  if (s === undefined) return undefined;
  const v = Number(s);
  if (!Number.isFinite(v) || v < 0) throw new UsageError(`--${name} must be a non-negative number, got '${s}'.`);
  return v;
}

/** Run a CLI main: usage errors and lab errors print one clear line and exit non-zero. */
export function runMain(main: () => Promise<number | void>, usage: string): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`error: ${err.message}\n\n${usage}`);
        process.exit(2);
      }
      const e = err as Error;
      console.error(`error: ${e.message}`);
      if (process.env.DEBUG) console.error(e.stack);
      process.exit(1);
    },
  );
}

/**
 * How to start this same command again in a child process: the same Node flags (tsx's loader
 * under `npm run`), the same script, and, under the single entry that the GPU package bundles
 * (src/cli/main.ts), the same sub-command.
 */

let prefix: string[] | null = null;

/** Called by src/cli/main.ts before it loads a command: the entry and the command's name. */
export function setSelfPrefix(entryAndCommand: string[]): void {
  prefix = entryAndCommand;
}

/** Node's arguments that run this command with `args` (default: the arguments it was given). */
export function selfArgv(args: string[] = process.argv.slice(2)): string[] {
  return [...process.execArgv, ...(prefix ?? [process.argv[1]!]), ...args];
}

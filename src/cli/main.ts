/**
 * One entry for every command-line tool: `<entry> <command> [options]`. The GPU package
 * (scripts/gpu/prepare.sh) bundles this file, so a machine with no Node and no node_modules runs
 * any tool as `bash .gpu/run.sh train --backend webgpu ...`. Under npm the tools keep their own
 * scripts (`npm run train -- ...`); `npm run lab -- train ...` is this entry.
 */
import { clip } from '../domain/errors';
import { setSelfPrefix } from './self';

const COMMANDS = {
  verify: { what: 'the engine against reference outputs (golden files)', load: () => import('./verify') },
  train: { what: 'one method on one task', load: () => import('./train') },
  study: { what: 'the miniature study: methods x offline tasks x train sizes', load: () => import('./study') },
  pretrain: { what: 'pretrain the small bundled ViT', load: () => import('./pretrain') },
  bench: { what: 'speed: forward and training steps per backend', load: () => import('./bench') },
  data: { what: 'check or make a vtab-1k data folder', load: () => import('./data') },
} as const;
type Command = keyof typeof COMMANDS;

const USAGE = `usage: <entry> <command> [options]      (<command> --help for its options)

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.what}`)
  .join('\n')}

On a GPU machine, through the package scripts/gpu/prepare.sh builds:
  bash .gpu/run.sh verify --backend webgpu --weights <checkpoint> --golden <golden.safetensors>`;

const [command, ...rest] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h') {
  console.log(USAGE);
  process.exit(command === undefined ? 2 : 0);
}
if (!Object.hasOwn(COMMANDS, command)) {
  console.error(`error: unknown command '${clip(command, 40)}'.\n\n${USAGE}`);
  process.exit(2);
}
// The command reads its options from process.argv.slice(2), as under its own npm script; a
// command that starts itself again (src/cli/backend.ts) needs the entry and its name.
setSelfPrefix([process.argv[1]!, command]);
process.argv = [process.argv[0]!, process.argv[1]!, ...rest];
await COMMANDS[command as Command].load();

/**
 * npm run data -- check <folder|zip|url> --task <id> [--skip-bad]
 *
 * Opens a VTAB-1k task through the same code the lab uses, prints each split's image count and
 * per-class counts, decodes every image, and exits 0 when all of it is usable (with --skip-bad:
 * when something usable remains; what was skipped is listed). Errors print the file, the line
 * and the fix, and exit 1. Usage errors exit 2.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Breakage, writeVtabFixture, zipFolder } from '../data/fixtures.node.js';
import { LabError, clip, quoted } from '../domain/errors';
import { PROCEDURAL_TASKS, VTAB_TASKS, getTask, listTaskIds } from '../data/catalog';
import { nodeDecoder } from '../data/decode.node.js';
import { openNodeSource } from '../data/source.node.js';
import type { DataItem } from '../data/types';
import { LIST_NAMES, openVtabTask, validateImages } from '../data/vtab';
import { enumArg, intArg, parseArgs, runMain, usageError } from './args';
import { writeFileAtomic } from './files';

const USAGE = `Usage: npm run data -- check <folder|file.zip|http(s)://base-url> --task <id> [--skip-bad]
       npm run data -- example <dir> [--task <id>] [--train N] [--broken missing-list|bad-line|label-out-of-range|missing-image|truncated-image|text-as-jpg|pixel-bomb|empty-test|no-lists] [--zip]

Checks a VTAB-1k task in the vtab-1k layout (<folder>/train800.txt, val200.txt,
train800val200.txt, test.txt, images/...): the source may be the task folder itself, a folder
holding <folder>/ or vtab-1k/<folder>/, or a zip of any of these. Every image is decoded.

Options:
  --task <id>   one of: ${VTAB_TASKS.map((t) => t.id).join(', ')}
  --skip-bad    leave out bad lines and images, list them, and exit 0 if anything remains
  --train N     example: training images, 1 to 20,000 (default 10)
  --help        this text

Bounds (src/data/limits.ts): a list file 64 MiB and 1,000,000 lines, a line 4,096 characters, an
image 128 MiB and 50 megapixels, a data zip 250,000 entries (2 GiB when downloaded). A URL must
answer within 30 s and send data at least every 60 s (LAB_FETCH_TIMEOUT_S sets both seconds).

(Procedural tasks ${PROCEDURAL_TASKS.map((t) => t.id).join(', ')} are generated in the lab and need no files.)`;

function perClass(items: DataItem[], classes: number): string {
  const counts = new Array<number>(classes).fill(0);
  for (const it of items) counts[it.label]!++;
  const nonEmpty = counts.filter((c) => c > 0).length;
  return `${nonEmpty}/${classes} classes present; per class: ${counts.map((c, i) => `${i}:${c}`).join(' ')}`;
}

/**
 * `example <dir> [--task <id>] [--train N] [--broken <kind>] [--zip]`: write a small vtab-1k task
 * folder (EuroSAT's by default, or the task's folder name and classes; generated PNG/JPEG images;
 * N training images, a quarter as many for validation, half as many for test; default 10) to try
 * `check` and the lab's folder loading on. A broken variant shows each error the loader reports.
 */
const BREAKAGES: readonly Breakage[] = [
  'none',
  'missing-list',
  'bad-line',
  'label-out-of-range',
  'missing-image',
  'truncated-image',
  'text-as-jpg',
  'pixel-bomb',
  'empty-test',
  'no-lists',
];

async function example(dir: string, breakage: Breakage, zip: boolean, taskId: string, train: number | undefined): Promise<number> {
  const task = getTask(taskId);
  if (task.source !== 'vtab') throw usageError(`${task.name} is procedural: the lab generates it, there are no files to write.`);
  // An example never replaces what is there: a real task folder (or a zip) of the same name
  // would lose its lists and images.
  const zipPath = `${dir.replace(/\/$/, '')}.zip`;
  for (const [target, what] of [[join(dir, task.folder), 'a task folder'], ...(zip ? [[zipPath, 'a zip']] : [])] as const)
    if (existsSync(target))
      throw new LabError(
        'output/unwritable',
        `${quoted(target)} already exists; the example would write over ${what} that is there.`,
        'Give example a new folder.',
      );
  mkdirSync(dir, { recursive: true });
  const sizes = train ? { train, val: Math.max(1, Math.floor(train / 4)), test: Math.max(1, Math.floor(train / 2)) } : {};
  const taskDir = writeVtabFixture(dir, { breakage, folder: task.folder, classes: task.classes, ...sizes });
  console.log(`wrote a ${breakage === 'none' ? 'valid' : `broken (${breakage})`} vtab-1k task folder: ${clip(taskDir, 300)}`);
  if (zip) {
    writeFileAtomic(zipPath, await zipFolder(dir, dir), 'the zip');
    console.log(`and its zip: ${clip(zipPath, 300)}`);
  }
  console.log(`try: npm run data -- check ${clip(dir, 300)} --task ${task.id}`);
  return 0;
}

async function check(sourceArg: string, taskId: string, skipBad: boolean): Promise<number> {
  const task = getTask(taskId);
  if (task.source !== 'vtab') {
    console.log(`${task.name} is procedural: the lab generates it from a seed; there are no files to check.`);
    return 0;
  }
  const source = await openNodeSource(sourceArg);
  const splits = await openVtabTask(source, task, { skipBad, decoder: nodeDecoder });
  console.log(`Source: ${source.describe()}`);
  console.log(`Task:   ${task.id} (${task.name}, ${task.classes} classes), task folder ${splits.root ? quoted(splits.root) : '(top level)'}`);
  for (const name of LIST_NAMES) {
    const items = splits.lists[name];
    if (!items) continue;
    console.log(`  ${(name + '.txt').padEnd(19)} ${String(items.length).padStart(6)} images; ${perClass(items, task.classes)}`);
  }
  for (const w of splits.warnings) console.log(`warning: ${w}`);
  let lastShown = 0;
  const decoded = await validateImages(splits, {
    skipBad,
    onProgress: (p) => {
      if (p.kind === 'progress' && p.total && p.done - lastShown >= 2000) {
        lastShown = p.done;
        process.stderr.write(`  decoded ${p.done}/${p.total}\n`);
      }
    },
  });
  if (splits.skipped.length > 0) {
    console.log(`Skipped ${splits.skipped.length} (--skip-bad):`);
    for (const s of splits.skipped) console.log(`  - [${s.code}] ${s.reason}`);
    console.log('Counts after skipping:');
    for (const name of LIST_NAMES) {
      const items = splits.lists[name];
      if (items) console.log(`  ${(name + '.txt').padEnd(19)} ${String(items.length).padStart(6)} images`);
    }
  }
  const remaining = splits.lists.test.length + (splits.lists.train800val200 ?? splits.lists.train800 ?? splits.lists.train ?? []).length;
  if (remaining === 0)
    throw new LabError(
      'data/too-few-items',
      `Nothing usable remains in ${source.describe()} after skipping ${splits.skipped.length} bad item(s).`,
      'Fix the list files and images listed above.',
    );
  console.log(`Decoded ${decoded} distinct images: ${splits.skipped.length === 0 ? 'all valid' : `valid after skipping ${splits.skipped.length}`}.`);
  return 0;
}

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['task', 'broken', 'train'], flags: ['skip-bad', 'zip'] });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...rest] = args.positional;
  if (command === undefined) throw usageError('Give a command: check or example.');
  if (command === 'example') {
    if (rest.length !== 1) throw usageError('example needs one target folder.');
    return example(
      rest[0]!,
      enumArg(args, 'broken', BREAKAGES, 'none'),
      args.flags.has('zip'),
      args.values.get('task') ?? 'eurosat',
      args.values.has('train') ? intArg(args, 'train', 10, 1, 20000) : undefined,
    );
  }
  if (command !== 'check') throw usageError(`Unknown command ${quoted(command, 40)}; the commands are check and example.`);
  const taskId = args.values.get('task');
  if (rest.length !== 1 || !taskId) throw usageError('check needs one source and --task <id>.');
  if (!listTaskIds().includes(taskId)) throw usageError(`Unknown task ${quoted(taskId, 40)}. Tasks: ${listTaskIds().join(', ')}.`);
  return check(rest[0]!, taskId, args.flags.has('skip-bad'));
}, USAGE);

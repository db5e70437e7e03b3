/**
 * npm run data -- check <folder|zip|url> --task <id> [--skip-bad]
 *
 * Opens a VTAB-1k task through the same code the lab uses, prints each split's image count and
 * per-class counts, decodes every image, and exits 0 when all of it is usable (with --skip-bad:
 * when something usable remains; what was skipped is listed). Errors print the file, the line
 * and the fix, and exit 1. Usage errors exit 2.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { type Breakage, writeVtabFixture, zipFolder } from '../data/fixtures.node.js';
import { LabError } from '../errors';
import { PROCEDURAL_TASKS, VTAB_TASKS, getTask } from '../data/catalog';
import { nodeDecoder } from '../data/decode.node.js';
import { openNodeSource } from '../data/source.node.js';
import type { DataItem } from '../data/types';
import { LIST_NAMES, openVtabTask, validateImages } from '../data/vtab';

const USAGE = `Usage: npm run data -- check <folder|file.zip|http(s)://base-url> --task <id> [--skip-bad]
       npm run data -- example <dir> [--broken missing-list|bad-line|label-out-of-range|missing-image|truncated-image|text-as-jpg|no-lists] [--zip]

Checks a VTAB-1k task in the vtab-1k layout (<folder>/train800.txt, val200.txt,
train800val200.txt, test.txt, images/...): the source may be the task folder itself, a folder
holding <folder>/ or vtab-1k/<folder>/, or a zip of any of these. Every image is decoded.

Options:
  --task <id>   one of: ${VTAB_TASKS.map((t) => t.id).join(', ')}
  --skip-bad    leave out bad lines and images, list them, and exit 0 if anything remains
  --help        this text

(Procedural tasks ${PROCEDURAL_TASKS.map((t) => t.id).join(', ')} are generated in the lab and need no files.)`;

function perClass(items: DataItem[], classes: number): string {
  const counts = new Array<number>(classes).fill(0);
  for (const it of items) counts[it.label]!++;
  const nonEmpty = counts.filter((c) => c > 0).length;
  return `${nonEmpty}/${classes} classes present; per class: ${counts.map((c, i) => `${i}:${c}`).join(' ')}`;
}

/**
 * `example <dir> [--broken <kind>] [--zip]`: write a small vtab-1k task folder (EuroSAT's name,
 * 10 classes, generated PNG/JPEG images) to try `check` and the lab's folder loading on. A
 * broken variant shows each error the loader reports.
 */
async function example(args: string[]): Promise<number> {
  const dir = args.find((a) => !a.startsWith('--'));
  const bi = args.indexOf('--broken');
  const breakage = (bi >= 0 ? args[bi + 1] : 'none') as Breakage;
  const kinds: Breakage[] = ['none', 'missing-list', 'bad-line', 'label-out-of-range', 'missing-image', 'truncated-image', 'text-as-jpg', 'no-lists'];
  if (!dir || !kinds.includes(breakage)) {
    console.error(`example needs a target folder; --broken takes one of ${kinds.join(', ')}.\n\n${USAGE}`);
    return 2;
  }
  mkdirSync(dir, { recursive: true });
  const taskDir = writeVtabFixture(dir, { breakage });
  console.log(`wrote a ${breakage === 'none' ? 'valid' : `broken (${breakage})`} vtab-1k task folder: ${taskDir}`);
  if (args.includes('--zip')) {
    const zipPath = `${dir.replace(/\/$/, '')}.zip`;
    writeFileSync(zipPath, zipFolder(dir, dir));
    console.log(`and its zip: ${zipPath}`);
  }
  console.log(`try: npm run data -- check ${dir} --task eurosat`);
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
  console.log(`Task:   ${task.id} (${task.name}, ${task.classes} classes), task folder "${splits.root || '(top level)'}"`);
  for (const name of LIST_NAMES) {
    const items = splits.lists[name];
    if (!items) continue;
    console.log(`  ${(name + '.txt').padEnd(19)} ${String(items.length).padStart(6)} images; ${perClass(items, task.classes)}`);
  }
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
  if (remaining === 0) {
    console.error('error: nothing usable remains after skipping.');
    return 1;
  }
  console.log(`Decoded ${decoded} distinct images: ${splits.skipped.length === 0 ? 'all valid' : `valid after skipping ${splits.skipped.length}`}.`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const [command, ...rest] = argv;
  if (command === 'example') return example(rest);
  if (command !== 'check') {
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  let taskId: string | undefined;
  let skipBad = false;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--task') taskId = rest[++i];
    else if (a.startsWith('--task=')) taskId = a.slice('--task='.length);
    else if (a === '--skip-bad') skipBad = true;
    else if (a.startsWith('--')) {
      console.error(`Unknown option ${a}.\n\n${USAGE}`);
      return 2;
    } else positional.push(a);
  }
  if (positional.length !== 1 || !taskId) {
    console.error(`check needs one source and --task <id>.\n\n${USAGE}`);
    return 2;
  }
  try {
    return await check(positional[0]!, taskId, skipBad);
  } catch (e) {
    if (e instanceof LabError) {
      console.error(`error [${e.code}]: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

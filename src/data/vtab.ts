/**
 * The vtab-1k on-disk layout: `<root>/<folder>/{train800,val200,train800val200,test}.txt` (and
 * train.txt / val.txt where present), each line `images/<split>/<name>.jpg <integer label>`,
 * paths relative to the task folder. `openVtabTask` finds the task folder, parses every list
 * strictly and checks that each listed image exists; images are decoded lazily (ImageProvider)
 * or all at once by `validateImages`.
 *
 * Errors name the file, the line and the fix. Default: the first error throws. With
 * `skipBad: true` bad lines / missing images / undecodable images are left out and reported in
 * `skipped`. A missing required list (test.txt, and one of the training lists) always throws:
 * there is nothing to load in its place.
 */
import { LabError, type LabErrorCode, bytesText, clip, quoted } from '../domain/errors';
import type { ProgressCallback } from '../domain/progress';
import { type VtabTask, VTAB_TASKS, getVtabTask } from './catalog';
import { hasBrowserDecoder, browserDecoder } from './decode.browser';
import { readImageSize } from './imageHeader';
import { LARGE_IMAGE_PIXELS, MAX_IMAGE_BYTES, MAX_LINE_CHARS, MAX_LIST_BYTES, MAX_LIST_LINES } from './limits';
import { type FileSource, type ReadLimit, joinPath } from './source';
import type { DataItem, ImageDecoder, ImageProvider, RgbaImage, SkipRecord } from './types';

export const LIST_NAMES = ['train800', 'val200', 'train800val200', 'train', 'val', 'test'] as const;
export type ListName = (typeof LIST_NAMES)[number];

export interface VtabSplits {
  task: VtabTask;
  source: FileSource;
  /** The task folder inside the source ('' when the source is the task folder). */
  root: string;
  /** Every list file found, parsed. `test` is always present. */
  lists: Partial<Record<ListName, DataItem[]>> & { test: DataItem[] };
  images: ImageProvider;
  skipped: SkipRecord[];
  /** Things that do not stop loading but that the user should know (duplicate list lines). */
  warnings: string[];
}

export interface OpenVtabOptions {
  /** Leave out bad lines / missing images and report them instead of throwing (default false). */
  skipBad?: boolean;
  /** Check at open time that every listed image exists (default: true, except for URL sources). */
  checkImages?: boolean;
  /** Bytes -> pixels; default: the browser decoder (pass nodeDecoder from decode.node.ts in Node). */
  decoder?: ImageDecoder;
  onProgress?: ProgressCallback;
}

const HINT_LAYOUT =
  'Expected a vtab-1k task folder holding train800.txt, val200.txt, train800val200.txt, test.txt and images/, or a folder (or zip) containing "<folder>/" or "vtab-1k/<folder>/".';

async function hasLists(source: FileSource, dir: string): Promise<boolean> {
  for (const name of LIST_NAMES) if (await source.exists(joinPath(dir, `${name}.txt`))) return true;
  return false;
}

const ignorable = (name: string) => name.startsWith('.') || name.startsWith('__MACOSX');

/**
 * A folder named after another task's folder is that task's data: training DTD on EuroSAT's
 * images because the folder held list files would be silently wrong.
 */
function checkFolderMatchesTask(source: FileSource, dir: string, task: VtabTask): void {
  const name = (dir === '' ? (source.rootName ?? '') : (dir.split('/').pop() ?? '')).replace(/\.zip$/i, '');
  if (name === '' || name === task.folder) return;
  const other = VTAB_TASKS.find((t) => t.folder === name);
  if (!other) return;
  throw new LabError(
    'data/wrong-task',
    `${source.describe()} holds the task folder "${name}/" of ${other.name} (task ${other.id}), not "${task.folder}/" of ${task.name} (task ${task.id}).`,
    `Give --task ${other.id} for these images, or a folder (or zip) that holds "${task.folder}/".`,
  );
}

/** Finds the task folder: root itself, root/<folder>, root/vtab-1k/<folder>, or the same under a single top folder. */
export async function findTaskFolder(source: FileSource, task: VtabTask): Promise<string> {
  const tried: string[] = [];
  let base = '';
  for (let depth = 0; depth < 3; depth++) {
    for (const dir of [base, joinPath(base, task.folder), joinPath(base, 'vtab-1k', task.folder), joinPath(base, 'vtab', task.folder)]) {
      tried.push(dir === '' ? '(top level)' : `${dir}/`);
      if (await hasLists(source, dir)) {
        checkFolderMatchesTask(source, dir, task);
        return dir;
      }
    }
    const entries = (await source.list(base)).filter((n) => !ignorable(n));
    const dirs = entries.filter((n) => n.endsWith('/'));
    if (dirs.length === 1 && entries.length === 1) base = joinPath(base, dirs[0]!);
    else break;
  }
  const found = (await source.list(base)).filter((n) => !ignorable(n));
  const otherTasks = found.filter((n) => n.endsWith('/')).map((n) => n.slice(0, -1));
  const foundText =
    source.kind === 'url'
      ? 'a URL cannot be listed, and none of the list files answered (a server that sends CORS headers on found files only looks the same from the page)'
      : found.length === 0
        ? 'it is empty'
        : `it holds ${found
            .slice(0, 15)
            .map((n) => clip(n, 60))
            .join(', ')}${found.length > 15 ? `, ... (${found.length} entries)` : ''}`;
  const otherTask = VTAB_TASKS.find((t) => t !== task && otherTasks.includes(t.folder));
  if (otherTask && !otherTasks.includes(task.folder)) {
    throw new LabError(
      'data/wrong-task',
      `${source.describe()} has no folder "${task.folder}/" for ${task.name}; ${foundText}, the data of ${otherTasks.length > 1 ? 'other tasks' : `${otherTask.name} (task ${otherTask.id})`}.`,
      `Give the task that matches the folder (e.g. --task ${otherTask.id}), or a folder (or zip) that holds "${task.folder}/".`,
    );
  }
  throw new LabError(
    'data/not-vtab-layout',
    `${source.describe()} is not a vtab-1k layout for ${task.name} (folder "${task.folder}"): ${foundText}. Looked for list files in ${tried
      .slice(0, 4)
      .map((t) => clip(t, 60))
      .join(', ')}.`,
    HINT_LAYOUT,
  );
}

/** Parses one list file. `report` gets each bad line (throwing there is the strict mode). */
export function parseListFile(
  text: string,
  fileForMessages: string,
  taskRoot: string,
  task: VtabTask,
  report: (err: LabError, line: number) => void,
): DataItem[] {
  const items: DataItem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > MAX_LIST_LINES) throw listTooLarge(fileForMessages, `${lines.length.toLocaleString('en')} lines`);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.length > MAX_LINE_CHARS) {
      report(
        new LabError(
          'data/bad-line',
          `${quoted(fileForMessages)} line ${line} has ${raw.length.toLocaleString('en')} characters, found ${quoted(raw, 120)}; a line (a path and a label) may have at most ${MAX_LINE_CHARS.toLocaleString('en')}.`,
          'Fix or delete the line; each line is "<image path> <integer label>".',
        ),
        line,
      );
      return;
    }
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const m = /^(\S(?:.*\S)?)\s+(\S+)$/.exec(trimmed);
    if (!m || !/^[+-]?\d+$/.test(m[2]!)) {
      report(
        new LabError(
          'data/bad-line',
          `${quoted(fileForMessages)} line ${line}: expected "<image path> <integer label>", found ${quoted(trimmed, 120)}.`,
          'Each line must be a relative image path, a space, and an integer class label (e.g. "images/train/0001.jpg 3"); fix or delete the line.',
        ),
        line,
      );
      return;
    }
    const label = Number(m[2]);
    if (label < 0 || label >= task.classes) {
      report(
        new LabError(
          'data/label-out-of-range',
          `${quoted(fileForMessages)} line ${line}: label ${clip(m[2]!, 40)} is outside [0, ${task.classes}) for ${task.name} (${task.classes} classes).`,
          'Check that --task matches this folder, and that labels are 0-based.',
        ),
        line,
      );
      return;
    }
    items.push({ id: joinPath(taskRoot, m[1]!), label, file: fileForMessages, line });
  });
  return items;
}

function listTooLarge(file: string, what: string): LabError {
  return new LabError(
    'data/list-too-large',
    `List file ${quoted(file)} is too large: ${what}; a list file may have at most ${MAX_LIST_LINES.toLocaleString('en')} lines and ${bytesText(MAX_LIST_BYTES)} (VTAB-1k's largest, dSprites' test.txt, has 147,456 lines).`,
    'Check that this is a vtab-1k list file ("<image path> <label>" per line); split a larger data set into several tasks.',
  );
}

const LIST_LIMIT = (file: string): ReadLimit => ({ maxBytes: MAX_LIST_BYTES, tooLarge: (n) => listTooLarge(file, bytesText(n)) });

const IMAGE_LIMIT = (id: string): ReadLimit => ({
  maxBytes: MAX_IMAGE_BYTES,
  tooLarge: (n) =>
    new LabError(
      'data/image-too-large',
      `Image ${quoted(id)} is too large: ${bytesText(n)}; an image file may be at most ${bytesText(MAX_IMAGE_BYTES)}.`,
      'Downscale or recompress it, remove its line from the list file, or load with skip-bad (CLI: --skip-bad).',
    ),
});

/**
 * Reads + decodes files of one source; errors name the image and the list line that named it.
 * Images above LARGE_IMAGE_PIXELS are decoded one at a time (a 7000 × 7000 image takes a few
 * hundred MB while it decodes; four at once would take gigabytes); smaller ones in parallel.
 */
export class FileImageProvider implements ImageProvider {
  private largeDecodes: Promise<unknown> = Promise.resolve();
  constructor(
    readonly source: FileSource,
    private readonly decoder: ImageDecoder,
  ) {}
  private decode(bytes: Uint8Array, id: string): Promise<RgbaImage> {
    let pixels = 0;
    try {
      const size = readImageSize(bytes, id);
      pixels = size.width * size.height;
    } catch {
      /* the decoder names what is wrong with it */
    }
    if (pixels <= LARGE_IMAGE_PIXELS) return this.decoder(bytes, id);
    const run = this.largeDecodes.then(
      () => this.decoder(bytes, id),
      () => this.decoder(bytes, id),
    );
    // The chain keeps no image: only whether the last decode is done.
    this.largeDecodes = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
  describe(): string {
    return this.source.describe();
  }
  async load(item: DataItem): Promise<RgbaImage> {
    let bytes: Uint8Array;
    try {
      bytes = await this.source.read(item.id, IMAGE_LIMIT(item.id));
    } catch (e) {
      if (e instanceof LabError && e.code === 'data/missing-image' && item.file && e.message.startsWith('File ')) {
        throw new LabError(
          'data/missing-image',
          `Image ${quoted(item.id)} listed in ${quoted(item.file)} line ${item.line} is not in ${this.source.describe()}.`,
          e.hint,
        );
      }
      throw withListLine(e, item);
    }
    try {
      return await this.decode(bytes, item.id);
    } catch (e) {
      throw withListLine(e, item);
    }
  }
}

/** Says which list line named a bad image, so the user can delete that line. */
function withListLine(e: unknown, item: DataItem): unknown {
  if (!(e instanceof LabError) || !item.file) return e;
  const bare = e.hint ? e.message.slice(0, e.message.length - e.hint.length - 1) : e.message;
  const named = quoted(item.id);
  if (!bare.includes(named)) return e;
  return new LabError(e.code, bare.replace(named, `${named} (listed in ${quoted(item.file)} line ${item.line})`), e.hint);
}

function defaultDecoder(): ImageDecoder {
  if (hasBrowserDecoder()) return browserDecoder;
  return async () => {
    throw new Error('No image decoder on this host: pass { decoder: nodeDecoder } from src/data/decode.node.ts.');
  };
}

/** Opens one VTAB-1k task from a source. See the file comment for layout, errors and skipBad. */
export async function openVtabTask(source: FileSource, taskOrId: VtabTask | string, options: OpenVtabOptions = {}): Promise<VtabSplits> {
  const task = typeof taskOrId === 'string' ? getVtabTask(taskOrId) : taskOrId;
  const skipped: SkipRecord[] = [];
  const warnings: string[] = [];
  const root = await findTaskFolder(source, task);
  const where = (name: string) => joinPath(root, name);
  const lists: Partial<Record<ListName, DataItem[]>> = {};
  /** Lists that exist but had no usable line (with skipBad): not "missing". */
  const emptied = new Set<ListName>();
  const utf8 = new TextDecoder('utf-8');
  const skipOrThrow = (err: LabError, file: string, line?: number) => {
    if (!options.skipBad) throw err;
    skipped.push({ file, line, code: err.code as LabErrorCode, reason: err.message });
  };
  for (const name of LIST_NAMES) {
    const file = where(`${name}.txt`);
    if (!(await source.exists(file))) continue;
    const bytes = await source.read(file, LIST_LIMIT(file));
    // Lines are counted in the bytes, before a string (and an array of millions of lines) exists.
    let lines = 1;
    for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
    if (lines > MAX_LIST_LINES) throw listTooLarge(file, `${lines.toLocaleString('en')} lines`);
    const text = utf8.decode(bytes);
    const items = parseListFile(text, file, root, task, (err, line) => skipOrThrow(err, file, line));
    if (items.length === 0) {
      emptied.add(name);
      // An empty list would train on nothing or report accuracy on no images ("NaN%").
      skipOrThrow(
        new LabError(
          'data/empty-list',
          `List file ${quoted(file)} in ${source.describe()} has no usable lines.`,
          'Each line must name an image and its label ("images/train/0001.jpg 3"); restore the file, or delete it if the task folder has the other lists.',
        ),
        file,
      );
      continue;
    }
    const dup = duplicateLines(items);
    if (dup.count > 0)
      warnings.push(
        `${quoted(file)} lists ${dup.count} image(s) more than once (e.g. ${quoted(dup.example.id, 120)} on lines ${dup.example.lines.join(' and ')}); each repeat is used again, as the file says.`,
      );
    const named = NAMED_SIZES[name];
    if (named !== undefined && items.length < named)
      warnings.push(
        `${quoted(file)} lists ${items.length} image(s), fewer than the ${named} its name says; the run uses the ${items.length} it has (the results record that count).`,
      );
    lists[name] = items;
  }
  const missingList = (name: string, why: string) =>
    new LabError(
      'data/missing-list',
      `"${where(name)}" is missing in ${source.describe()}: ${why}.`,
      `A vtab-1k task folder needs test.txt plus train800val200.txt (or train800.txt and val200.txt); found ${
        LIST_NAMES.filter((n) => lists[n])
          .map((n) => n + '.txt')
          .join(', ') || 'no list files'
      }.`,
    );
  if (!lists.test && emptied.has('test'))
    throw new LabError(
      'data/too-few-items',
      `"${where('test.txt')}" in ${source.describe()} has no usable line: every line was skipped as bad (${skipped.filter((r) => r.file === where('test.txt')).length - 1} line(s)).`,
      'Fix the lines of test.txt (each "<image path> <integer label in range>"), or check that --task matches the folder.',
    );
  if (!lists.test) throw missingList('test.txt', 'the test split is listed there');
  if (!lists.train800val200 && !lists.train800 && !lists.train)
    throw missingList('train800val200.txt', 'no training list (train800val200.txt, train800.txt or train.txt) was found');

  if (options.checkImages ?? source.kind !== 'url') {
    const all = LIST_NAMES.flatMap((n) => lists[n] ?? []);
    const unique = new Map<string, DataItem>();
    for (const it of all) if (!unique.has(it.id)) unique.set(it.id, it);
    const missing = new Set<string>();
    const what = `checking images of ${task.name}`;
    options.onProgress?.({ kind: 'initiate', what, unit: 'items', total: unique.size });
    let done = 0;
    // One shared cursor, not queue.shift(): shifting a million-item array is quadratic.
    const queue = [...unique.values()];
    let next = 0;
    // Strict mode stops handing out items at the first missing one: items go out in order, so
    // every earlier item is already being checked, and the first missing in list order is found
    // without checking a million more.
    const worker = async () => {
      for (let it = queue[next++]; it && (options.skipBad || missing.size === 0); it = queue[next++]) {
        if (!(await source.exists(it.id))) missing.add(it.id);
        if (++done % 500 === 0) options.onProgress?.({ kind: 'progress', what, unit: 'items', done, total: unique.size });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    options.onProgress?.({ kind: 'done', what, unit: 'items', total: unique.size });
    if (missing.size > 0) {
      for (const name of LIST_NAMES) {
        const items = lists[name];
        if (!items) continue;
        for (const it of items) {
          if (!missing.has(it.id)) continue;
          skipOrThrow(
            new LabError(
              'data/missing-image',
              `Image ${quoted(it.id)} listed in ${quoted(it.file!)} line ${it.line} is not in ${source.describe()}.`,
              'Copy or unzip the images/ folder completely, or fix the path in the list file (or load with skip-bad).',
            ),
            it.file!,
            it.line,
          );
        }
        lists[name] = items.filter((it) => !missing.has(it.id));
      }
    }
  }
  checkNoOverlap(lists as VtabSplits['lists']);
  return {
    task,
    source,
    root,
    lists: lists as VtabSplits['lists'],
    images: new FileImageProvider(source, options.decoder ?? defaultDecoder()),
    skipped,
    warnings,
  };
}

/** The image count a list's name promises (train800.txt: 800). */
const NAMED_SIZES: Partial<Record<ListName, number>> = { train800: 800, val200: 200, train800val200: 1000 };

/**
 * A test image that is also a training or validation image makes the test accuracy a training
 * accuracy: refused, naming both lines. (The same file under two paths is not caught; the
 * vtab-1k layout keeps splits in separate folders.)
 */
function checkNoOverlap(lists: VtabSplits['lists']): void {
  const test = new Map<string, DataItem>();
  for (const it of lists.test) if (!test.has(it.id)) test.set(it.id, it);
  for (const name of LIST_NAMES) {
    if (name === 'test') continue;
    const items = lists[name] ?? [];
    const shared = items.filter((it) => test.has(it.id));
    if (shared.length === 0) continue;
    const first = shared[0]!;
    const t = test.get(first.id)!;
    throw new LabError(
      'data/split-overlap',
      `${quoted(first.file ?? name)} and ${quoted(t.file ?? 'test.txt')} share ${shared.length} image(s) (e.g. ${quoted(first.id, 120)}, line ${first.line} and line ${t.line}): the test accuracy would be measured on training images.`,
      'Test images must not appear in train800.txt, val200.txt, train800val200.txt, train.txt or val.txt; fix the lists.',
    );
  }
}

/** How many lines repeat an earlier line's image, and the first such pair. */
function duplicateLines(items: DataItem[]): { count: number; example: { id: string; lines: number[] } } {
  const first = new Map<string, number>();
  let count = 0;
  let example = { id: '', lines: [] as number[] };
  for (const it of items) {
    const seen = first.get(it.id);
    if (seen === undefined) first.set(it.id, it.line ?? 0);
    else if (count++ === 0) example = { id: it.id, lines: [seen, it.line ?? 0] };
  }
  return { count, example };
}

/**
 * Decodes every listed image once to prove it is usable. Strict mode throws on the first bad
 * image; skipBad removes bad items from every list and appends them to `splits.skipped`.
 * Returns the number of distinct images decoded successfully.
 */
export async function validateImages(
  splits: VtabSplits,
  options: { skipBad?: boolean; onProgress?: ProgressCallback; concurrency?: number } = {},
): Promise<number> {
  const unique = new Map<string, DataItem>();
  for (const name of LIST_NAMES) for (const it of splits.lists[name] ?? []) if (!unique.has(it.id)) unique.set(it.id, it);
  const bad = new Set<string>();
  const what = `decoding ${splits.task.name}`;
  const total = unique.size;
  options.onProgress?.({ kind: 'initiate', what, unit: 'items', total });
  let done = 0;
  const queue = [...unique.values()];
  let next = 0;
  let firstError: unknown = null;
  // In a function of its own, so no worker's frame keeps the last decoded image alive while it
  // waits for the next file (four workers held four 196 MB images of 7000 × 7000 pixels).
  const decodeOnce = async (it: DataItem): Promise<void> => {
    const img = await splits.images.load(it);
    if (img.width < 1 || img.height < 1) throw new LabError('data/bad-image', `Image ${quoted(it.id)} has no pixels.`);
  };
  const worker = async () => {
    for (let it = queue[next++]; it && firstError === null; it = queue[next++]) {
      try {
        await decodeOnce(it);
      } catch (e) {
        if (!options.skipBad || !(e instanceof LabError)) {
          if (firstError === null) firstError = e;
          return;
        }
        bad.add(it.id);
        splits.skipped.push({ file: it.file ?? it.id, line: it.line, code: e.code, reason: e.message });
      }
      if (++done % 100 === 0) options.onProgress?.({ kind: 'progress', what, unit: 'items', done, total });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  if (firstError !== null) throw firstError;
  options.onProgress?.({ kind: 'done', what, unit: 'items', total });
  if (bad.size > 0) {
    for (const name of LIST_NAMES) {
      const items = splits.lists[name];
      if (items) splits.lists[name] = items.filter((it) => !bad.has(it.id));
    }
  }
  return total - bad.size;
}

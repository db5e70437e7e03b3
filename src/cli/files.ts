/**
 * Files the CLIs write or read besides checkpoints and data: results, trained parameters, study
 * tables. Every failure is a named error that says which option and file, before any work starts.
 *
 * Outputs never destroy inputs: `checkOutput` refuses an output that is (by its real path, or as
 * the same file under another name) one of the command's input files, or lies inside one of its
 * input folders; and every output is written whole or not at all (`writeFileAtomic`: a temporary
 * file beside it, then a rename), so a run killed mid-write leaves the old file, never half a new one.
 */
import { closeSync, constants, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { access, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { LabError, bytesText, quoted } from '../domain/errors';
import { FileProblem, readFileBounded } from '../data/source.node.js';

const WHY: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a folder',
  ENOSPC: 'the disk is full',
};

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return WHY[code] ?? `${code || (e as Error).message}`;
}

/** The temporary name an output is written under before it is renamed into place. */
function tempName(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
}

/**
 * Proves that `file` can be written, before a run spends any time: it is not a folder, an existing
 * file there is writable, and a file can be created beside it (outputs are written beside, then
 * renamed; the probe is removed at once).
 */
export async function checkWritable(file: string, option: string): Promise<void> {
  const unwritable = (reason: string) =>
    new LabError('output/unwritable', `${option} ${quoted(file)} cannot be written: ${reason}.`, `Give ${option} a file path in a folder you can write to.`);
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw unwritable('it is a folder');
    if (!s.isFile()) throw unwritable('it is not a regular file (a device or a pipe)');
    await access(file, constants.W_OK);
  } catch (e) {
    if (e instanceof LabError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unwritable(why(e));
  }
  const probe = tempName(file);
  try {
    await (await open(probe, 'wx')).close();
  } catch (e) {
    throw unwritable(why(e));
  }
  await unlink(probe).catch(() => {});
}

/** An input of a command, which no output may overwrite: a file, or a folder (nothing inside it either). */
export interface InputPath {
  path: string;
  /** The option that named it, for the message. */
  option: string;
}

/** The real path of an output that may not exist yet: its folder's real path and its name. */
async function realOutput(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch {
    try {
      return join(await realpath(dirname(resolve(file))), basename(file));
    } catch {
      return resolve(file);
    }
  }
}

/**
 * Refuses an output that would overwrite an input: `--out` equal to `--model`, `--save-params` a
 * hard link to the checkpoint, `--out` inside the `--data` folder. Inputs that do not exist (a
 * model name, a URL) are skipped. Outputs are compared with each other too.
 */
export async function checkOutputs(outputs: InputPath[], inputs: InputPath[]): Promise<void> {
  const seen: { real: string; option: string }[] = [];
  for (const out of outputs) {
    const real = await realOutput(out.path);
    const outStat = await stat(real).catch(() => null);
    const clash = (what: string, hint: string) =>
      new LabError('output/unwritable', `${out.option} ${quoted(out.path)} ${what}; the lab never writes over its inputs.`, hint);
    for (const other of seen)
      if (other.real === real) throw clash(`is the same file as ${other.option}`, `Give ${out.option} and ${other.option} different paths.`);
    for (const input of inputs) {
      let inReal: string, inStat;
      try {
        inReal = await realpath(input.path);
        inStat = await stat(inReal);
      } catch {
        continue;
      }
      const sameFile = real === inReal || (outStat !== null && outStat.dev === inStat.dev && outStat.ino === inStat.ino);
      if (sameFile) throw clash(`is the ${input.option} ${inStat.isDirectory() ? 'folder' : 'file'}`, `Give ${out.option} a new file name.`);
      if (inStat.isDirectory() && real.startsWith(inReal.endsWith(sep) ? inReal : inReal + sep))
        throw clash(`lies inside the ${input.option} folder ${quoted(input.path)}`, `Give ${out.option} a path outside that folder.`);
    }
    seen.push({ real, option: out.option });
  }
}

/** Writes `data` to `file` whole or not at all: a temporary file beside it, then a rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array, option = 'the output'): void {
  const tmp = tempName(file);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw new LabError(
      'output/unwritable',
      `${option} ${quoted(file)} could not be written: ${why(e)}.`,
      'Free disk space or give a path you can write to; the file there before (if any) is unchanged.',
    );
  }
}

/** The async twin of writeFileAtomic (for outputs written while other work goes on). */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array, option = 'the output'): Promise<void> {
  const tmp = tempName(file);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new LabError(
      'output/unwritable',
      `${option} ${quoted(file)} could not be written: ${why(e)}.`,
      'Free disk space or give a path you can write to; the file there before (if any) is unchanged.',
    );
  }
}

/**
 * Reads an input file the user named (a results table, trained parameters): a regular file of at
 * most `maxBytes`. A folder, a pipe, a device (/dev/zero), a missing file or a larger one is a
 * named error naming the option, before a byte is read.
 */
export async function readUserFile(
  file: string,
  option: string,
  maxBytes: number,
  code: 'checkpoint/unreadable' | 'config/invalid' = 'config/invalid',
): Promise<Uint8Array> {
  const fail = (reason: string, hint = `Check the path given to ${option}.`) =>
    new LabError(code, `${option} ${quoted(file)} cannot be read: ${reason}.`, hint);
  try {
    return await readFileBounded(file, maxBytes);
  } catch (e) {
    if (!(e instanceof FileProblem)) throw e;
    if (e.kind === 'not-file') throw fail(`it is ${e.detail}`, `Give ${option} a file${e.detail === 'a folder' ? ', not a folder' : ''}.`);
    if (e.kind === 'too-large')
      throw fail(`it is ${bytesText(e.size)}, more than the ${bytesText(maxBytes)} such a file can be`, `Check that ${option} names the right file.`);
    throw fail(e.detail);
  }
}

/**
 * Where text stops being JSON: a description and the byte offset, line and column. Never the
 * text itself: a file that is not what the user meant to give may hold anything (a key, a token).
 */
export function jsonErrorAt(text: string): string {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return 'it is not valid JSON';
  const what = printParseErrorCode(first.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - before.lastIndexOf('\n');
  const byte = new TextEncoder().encode(before).length;
  return `it is not valid JSON: ${what} at byte ${byte.toLocaleString('en')} (line ${line}, column ${column})`;
}

/** readUserFile + JSON.parse, with a named error for text that is not JSON that says where, never what. */
export async function readUserJson<T>(file: string, option: string, maxBytes = 256 * 2 ** 20): Promise<T> {
  const text = new TextDecoder().decode(await readUserFile(file, option, maxBytes));
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LabError(
      'config/invalid',
      `${option} ${quoted(file)} cannot be used: ${jsonErrorAt(text)}.`,
      `Give ${option} a results file written by this tool.`,
    );
  }
}

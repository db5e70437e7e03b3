/**
 * Files the CLIs write or read besides checkpoints and data: results, trained parameters, study
 * tables. Every failure is a named error that says which option and file, before any work starts.
 */
import { constants } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { LabError, bytesText, quoted } from '../domain/errors';

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

/**
 * Proves that `file` can be written, before a run spends any time: opens it for appending (which
 * creates it, as writing will) and removes it again when it did not exist.
 */
export async function checkWritable(file: string, option: string): Promise<void> {
  const unwritable = (reason: string) =>
    new LabError('output/unwritable', `${option} ${quoted(file)} cannot be written: ${reason}.`, `Give ${option} a file path in a folder you can write to.`);
  let existed = false;
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw unwritable('it is a folder');
    existed = true;
  } catch (e) {
    if (e instanceof LabError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unwritable(why(e));
  }
  try {
    const fh = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
    await fh.close();
  } catch (e) {
    throw unwritable(why(e));
  }
  if (!existed) await unlink(file).catch(() => {});
}

/**
 * Reads a small input file the user named (a results table, trained parameters), refusing a
 * folder, a missing file, or one larger than `maxBytes`, each with a message naming the option.
 */
export async function readUserFile(
  file: string,
  option: string,
  maxBytes: number,
  code: 'checkpoint/unreadable' | 'config/invalid' = 'config/invalid',
): Promise<Uint8Array> {
  const fail = (reason: string, hint = `Check the path given to ${option}.`) =>
    new LabError(code, `${option} ${quoted(file)} cannot be read: ${reason}.`, hint);
  let size: number;
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw fail('it is a folder', `Give ${option} a file, not a folder.`);
    size = s.size;
  } catch (e) {
    if (e instanceof LabError) throw e;
    throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : why(e));
  }
  if (size > maxBytes)
    throw fail(`it is ${bytesText(size)}, more than the ${bytesText(maxBytes)} such a file can be`, `Check that ${option} names the right file.`);
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw fail(why(e));
  }
}

/** readUserFile + JSON.parse, with a named error for text that is not JSON. */
export async function readUserJson<T>(file: string, option: string, maxBytes = 256 * 2 ** 20): Promise<T> {
  const text = new TextDecoder().decode(await readUserFile(file, option, maxBytes));
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new LabError(
      'config/invalid',
      `${option} ${quoted(file)} is not valid JSON (${(e as Error).message.slice(0, 120)}).`,
      `Give ${option} a results file written by this tool.`,
    );
  }
}

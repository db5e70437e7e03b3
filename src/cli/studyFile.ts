/**
 * The study's results as files: what `npm run study -- --out` writes, what each sweep cell writes
 * (the same schema plus a `sweep` record), and where `--table` reads them from: results files,
 * results folders (a sweep's), and Playwright JSON reports (a sweep's shards after
 * `playwright merge-reports --reporter json`), whose cells travel as `sweep-cell` attachments.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError, clip, quoted } from '../domain/errors';
import { TASKS } from '../data/catalog';
import { METHOD_IDS } from '../train/methods';
import { expectationOf, fieldOf, pathOf } from '../data/schema';
import { compileSchema } from './schemas';
import schema from './results.schema.json' with { type: 'json' };
import reportSchema from './playwrightReport.schema.json' with { type: 'json' };
import { readUserFile, readUserJson } from './files';
import { paperAccuracyTable, paperWhyTable, quickAccuracyTable, type PaperRow, type QuickRow } from './studyReport';
import type { CellRecord } from './sweepPlan';

/** One quick-protocol run. */
export interface StudyRow extends QuickRow {
  epochs: number;
  seconds: number;
  trainableParams: number;
}

export interface StudyFile {
  model: string;
  rows: StudyRow[];
  /** Paper-protocol results, one per task × size × method. */
  paper?: PaperRow[];
  frechet: Record<string, number>;
  /** A sweep cell's own record: its hash, backend, time and curves. */
  sweep?: CellRecord;
}

/** The attachment name a sweep cell's result travels under in a Playwright report. */
export const CELL_ATTACHMENT = 'sweep-cell';

/**
 * The results schema with the lab's task and method ids filled in: known ids only, since a results
 * file's strings reach the terminal in the tables, and a name such as '__proto__' or one holding
 * control characters is no task.
 */
const validateStudyFile = compileSchema<StudyFile>({
  ...schema,
  definitions: {
    ...schema.definitions,
    taskId: { ...schema.definitions.taskId, enum: TASKS.map((t) => t.id) },
    method: { ...schema.definitions.method, enum: [...METHOD_IDS] },
  },
});

/** A parsed results file, checked: a named error, saying where, for anything this tool did not write. */
export function asStudyFile(json: unknown, where: string, option: string): StudyFile {
  if (!validateStudyFile(json)) {
    const e = validateStudyFile.errors![0];
    const at = `at ${clip(pathOf(e), 80) || 'the top level'}: ${expectationOf(e)}`;
    if (fieldOf(e) === 'paper')
      throw new LabError(
        'config/invalid',
        `${option} ${where} has a "paper" entry that is not a list of paper-protocol results (taskId, method, search, final; ${at}).`,
        `Give ${option} a file written by npm run study -- --protocol paper --out.`,
      );
    throw new LabError(
      'config/invalid',
      `${option} ${where} is not a study results file (it needs "rows" of runs with a known taskId, method, trainSize and testAcc; ${at}).`,
      `Give ${option} a file written by npm run study -- --out, a sweep's results folder, or a sweep's merged Playwright JSON report.`,
    );
  }
  const j = json;
  return {
    model: clip(j.model ?? '', 200),
    rows: j.rows,
    paper: j.paper,
    // A distance that could not be computed is written as null (JSON has no NaN): there is none.
    frechet: Object.fromEntries(Object.entries(j.frechet ?? {}).filter(([, v]) => v !== null)),
    sweep: j.sweep,
  };
}

/** A results file this command wrote: a named error for anything else. */
export async function readStudyFile(file: string, option: string): Promise<StudyFile> {
  return asStudyFile(await readUserJson<unknown>(file, option), quoted(file), option);
}

/** What `--table` reads of a Playwright JSON report (playwrightReport.schema.json). */
interface ReportSuite {
  title?: string;
  suites?: ReportSuite[];
  specs?: { title?: string; tests?: { results?: { attachments?: { name?: string; body?: string; path?: string }[] }[] }[] }[];
}
interface PlaywrightReport {
  config: unknown;
  suites: ReportSuite[];
}

/** A Playwright JSON report (`--reporter json`, or `merge-reports --reporter json`) has these two at its top. */
const looksLikeReport = compileSchema<{ config: unknown; suites: unknown[] }>({
  type: 'object',
  required: ['config', 'suites'],
  properties: { config: {}, suites: { type: 'array' } },
});
const validateReport = compileSchema<PlaywrightReport>(reportSchema);

/** A parsed Playwright report, checked where --table reads it. */
function asPlaywrightReport(json: unknown, file: string, option: string): PlaywrightReport {
  if (validateReport(json)) return json;
  const e = validateReport.errors![0];
  throw new LabError(
    'config/invalid',
    `${option} ${quoted(file)} is a Playwright report whose tests are not as Playwright writes them (at ${clip(pathOf(e), 80)}: ${expectationOf(e)}).`,
    'Merge the blob reports again with playwright merge-reports --reporter json.',
  );
}

/** Every sweep cell attached to a Playwright report, each with the test title it came from. */
async function cellsOfReport(report: PlaywrightReport, file: string, option: string): Promise<StudyFile[]> {
  const out: StudyFile[] = [];
  const visit = async (s: ReportSuite): Promise<void> => {
    for (const spec of s.specs ?? []) {
      for (const t of spec.tests ?? []) {
        for (const r of t.results ?? []) {
          for (const a of r.attachments ?? []) {
            if (a.name !== CELL_ATTACHMENT) continue;
            const where = `${quoted(file)} (test ${quoted(spec.title ?? '?', 80)})`;
            let text: string;
            if (a.body !== undefined) text = Buffer.from(a.body, 'base64').toString('utf8');
            else if (a.path !== undefined) text = new TextDecoder().decode(await readUserFile(a.path, option, 256 * 2 ** 20));
            else
              throw new LabError(
                'config/invalid',
                `${option} ${where} has a ${CELL_ATTACHMENT} attachment with neither a body nor a path.`,
                'Merge the blob reports again with playwright merge-reports --reporter json.',
              );
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              throw new LabError(
                'config/invalid',
                `${option} ${where} has a ${CELL_ATTACHMENT} attachment that is not JSON.`,
                'Re-run that cell (delete its result from the results folder).',
              );
            }
            out.push(asStudyFile(json, where, option));
          }
        }
      }
    }
    for (const child of s.suites ?? []) await visit(child);
  };
  for (const s of report.suites) await visit(s);
  return out;
}

/**
 * Every results file under the paths given to --table: a results file, a folder of them (a
 * sweep's results folder: every `*.json` in it), or a Playwright JSON report of a sweep.
 */
export async function readStudySources(paths: readonly string[], option: string): Promise<StudyFile[]> {
  const files: StudyFile[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch {
      /* readUserJson names a missing file */
    }
    if (isDir) {
      const names = (await readdir(p)).filter((n) => n.endsWith('.json')).sort();
      if (!names.length)
        throw new LabError(
          'config/invalid',
          `${option} ${quoted(p)} is a folder with no results files (*.json) in it.`,
          'Give the results folder a sweep wrote (npm run sweep -- <file> --results <folder>), or run the sweep first.',
        );
      for (const n of names) files.push(await readStudyFile(join(p, n), option));
      continue;
    }
    const json = await readUserJson<unknown>(p, option);
    if (looksLikeReport(json)) {
      const cells = await cellsOfReport(asPlaywrightReport(json, p, option), p, option);
      if (!cells.length)
        throw new LabError(
          'config/invalid',
          `${option} ${quoted(p)} is a Playwright report with no sweep results in it (no ${CELL_ATTACHMENT} attachments).`,
          'Give the merged JSON report of a sweep (npx playwright merge-reports --reporter json <blob reports>).',
        );
      files.push(...cells);
    } else files.push(asStudyFile(json, quoted(p), option));
  }
  return files;
}

/**
 * One study from many files. A sweep cell that appears more than once (a shard re-run, a results
 * folder beside its report) counts once; two different results for one cell are reported, since
 * the same settings and seed must give the same numbers.
 */
export function mergeStudyFiles(files: readonly StudyFile[]): { merged: StudyFile; conflicts: string[] } {
  const seen = new Map<string, StudyFile>();
  const conflicts: string[] = [];
  const kept: StudyFile[] = [];
  for (const f of files) {
    const hash = f.sweep?.hash;
    if (hash) {
      const first = seen.get(hash);
      if (first) {
        const same = JSON.stringify(numbersOf(first)) === JSON.stringify(numbersOf(f));
        if (!same) conflicts.push(`cell ${quoted(f.sweep!.title, 80)} (${hash}) has two different results; the first is kept.`);
        continue;
      }
      seen.set(hash, f);
    }
    kept.push(f);
  }
  return {
    merged: {
      model: kept.find((f) => f.model)?.model ?? '',
      rows: kept.flatMap((f) => f.rows),
      paper: kept.flatMap((f) => f.paper ?? []),
      frechet: Object.assign({}, ...kept.map((f) => f.frechet)) as Record<string, number>,
    },
    conflicts,
  };
}

/** The numbers a cell's result is judged by (its curves and accuracies; never its timings). */
export function numbersOf(f: StudyFile): unknown {
  return {
    rows: f.rows.map((r) => ({ taskId: r.taskId, method: r.method, trainSize: r.trainSize, seed: r.seed, testAcc: r.testAcc, valAcc: r.valAcc })),
    paper: (f.paper ?? []).map((p) => ({
      taskId: p.taskId,
      method: p.method,
      chosen: p.chosen,
      final: p.final.map((x) => ({ seed: x.seed, testAcc: x.testAcc })),
      search: p.search.map((x) => ({ lr: x.lr, wd: x.wd, valAcc: x.valAcc })),
    })),
    curves: f.sweep?.curves,
  };
}

/** Every table a results file holds: quick runs, and the paper protocol's accuracy and why tables. */
export function studyTables(file: StudyFile): string {
  const parts: string[] = [];
  if (file.rows.length)
    parts.push(
      `Test accuracy (%), mean ± std over seeds; [paper] = the published ViT-B/16 number on VTAB-1k tasks; best: * = its lead exceeds 2 standard errors.\n\n${quickAccuracyTable(file.rows, file.frechet)}`,
    );
  if (file.paper?.length) {
    parts.push(
      `Paper protocol: test accuracy (%), mean ± std over seeds, chosen base lr; † = within noise of chance; * = the difference exceeds 2 standard errors.\n\n${paperAccuracyTable(file.paper, file.frechet)}`,
    );
    parts.push(
      `Why: linear CKA to the pretrained features on test images (1 = unchanged), prompt attention, and the generalisation gap.\n\n${paperWhyTable(file.paper)}`,
    );
  }
  return parts.join('\n\n');
}

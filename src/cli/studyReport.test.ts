import miniatureStudies from '../data/miniature-studies.json';
import { sideBySideTable, type MiniatureStudy } from '../analysis/miniature';
import { readFileSync } from 'node:fs';
import { mergeStudyFiles, readStudySources } from './studyFile';
import { describe, expect, it } from 'vitest';
import type { MethodId } from '../domain/run';
import {
  chosenGap,
  miniatureStudyOf,
  differenceText,
  meanStdText,
  paperAccuracyTable,
  paperWhyTable,
  quickAccuracyTable,
  winnerText,
  type PaperRow,
  type QuickRow,
} from './studyReport';

function row(method: MethodId, testAccs: number[], o: Partial<PaperRow> = {}): PaperRow {
  const mean = testAccs.reduce((a, b) => a + b, 0) / testAccs.length;
  const std = Math.sqrt(testAccs.reduce((a, b) => a + (b - mean) ** 2, 0) / (testAccs.length - 1));
  return {
    taskId: 'synth_count',
    method,
    trainSize: 800,
    valSize: 200,
    finalTrainSize: 1000,
    epochs: 8,
    promptLength: 8,
    grid: { lrs: [5, 0.5, 0.05], wds: [0.0001] },
    search: [
      { lr: 0.5, wd: 0.0001, valAcc: 30, diverged: false, epochs: 8, curve: [{ epoch: 8, trainLoss: 1.2, trainAcc: 52, heldOutAcc: 30 }], seconds: 1 },
      { lr: 5, wd: 0.0001, valAcc: 20, diverged: true, epochs: 1, curve: [{ epoch: 1, trainLoss: 99, trainAcc: 10, heldOutAcc: 20 }], seconds: 1 },
    ],
    chosen: { lr: 0.5, wd: 0.0001, valAcc: 30 },
    final: testAccs.map((testAcc, seed) => ({ seed, testAcc, curve: [], seconds: 1 })),
    mean,
    std,
    chance: 12.5,
    nearChance: false,
    numTest: 500,
    why: {
      seed: 0,
      images: 64,
      cka: [1, 0.9, 0.8, 0.7, 0.6],
      promptAttention: method === 'vpt_deep' ? { fromCls: [0.5, 0.7, 0.9, 0.3], fromPatches: [0.3, 0.5, 0.9, 0.4], uniform: 0.32 } : null,
    },
    trainableParams: 1000,
    seconds: 10,
    ...o,
  };
}

describe('the paper study report', () => {
  it('writes mean ± std, marks results near chance, and stars only differences beyond two standard errors', () => {
    expect(meanStdText(row('ft', [30, 32, 34]))).toBe('32.0 ± 2.0');
    expect(meanStdText({ mean: 13, std: NaN, nearChance: true })).toBe('13.0 †');
    expect(differenceText(row('vpt_deep', [20, 21, 22]), row('ft', [30, 32, 34]))).toBe('-11.0*');
    expect(differenceText(row('vpt_deep', [29, 31, 33]), row('ft', [30, 32, 34]))).toBe('-1.0');
  });

  it('the accuracy table has one column per method with the chosen learning rate, and the final training size', () => {
    const t = paperAccuracyTable([row('ft', [30, 32, 34]), row('vpt_deep', [20, 21, 22]), row('linear', [25, 25, 26])], { synth_count: 146.5 });
    expect(t).toContain('| Full fine-tuning | VPT-deep | Linear probe | VPT-deep − FT |');
    expect(t).toContain('| synth_count | count | 146.5 | 800 → 1000 | 32.0 ± 2.0 (lr 0.5) | 21.0 ± 1.0 (lr 0.5) | 25.3 ± 0.6 (lr 0.5) | -11.0* |');
  });

  it('the why table has CKA per layer, prompt attention for prompt methods, and the chosen run’s gap', () => {
    const r = row('vpt_deep', [20, 21, 22]);
    expect(chosenGap(r)).toBe(22);
    const t = paperWhyTable([r, row('linear', [25, 25, 26])]);
    expect(t).toContain('CKA embedding | CKA block 1 | CKA block 2 | CKA block 3 | CKA block 4');
    expect(t).toContain('| synth_count | 800 | VPT-deep | 1.000 | 0.900 | 0.800 | 0.700 | 0.600 | 60 % (uniform 32 %) | 22.0 |');
    expect(t).toContain('| Linear probe | 1.000 | 0.900 | 0.800 | 0.700 | 0.600 | — | 22.0 |');
  });
});

describe('the quick study table', () => {
  const q = (taskId: string, method: MethodId, seed: number, testAcc: number, lr?: number, valAcc = 50): QuickRow => ({
    taskId,
    method,
    trainSize: 800,
    seed,
    testAcc,
    valAcc,
    lr,
  });
  const rows = [
    q('synth_count', 'vpt_deep', 0, 20),
    q('synth_count', 'vpt_deep', 1, 22),
    q('synth_count', 'ft', 0, 30),
    q('synth_count', 'ft', 1, 34),
    q('dtd', 'ft', 0, 40),
    q('dtd', 'ft', 1, 41),
    q('dtd', 'vpt_deep', 0, 41),
    q('dtd', 'vpt_deep', 1, 40),
    // A second learning rate for FT on dtd, worse on validation: not the one shown.
    q('dtd', 'ft', 0, 90, 0.1, 10),
    q('dtd', 'ft', 1, 90, 0.1, 10),
  ];

  it('mean ± std over seeds, the published number on VTAB-1k tasks, the difference and the best method', () => {
    const t = quickAccuracyTable(rows, {});
    expect(t).toContain('| train size | Full fine-tuning | VPT-deep | VPT-deep − FT | best |');
    // dtd (VTAB-1k, Natural) comes before the procedural task, whatever the order of the rows.
    expect(t.indexOf('| dtd |')).toBeLessThan(t.indexOf('| synth_count |'));
    expect(t).toContain('| dtd | texture classification | — | 800 | 40.5 ± 0.7 [paper 65.0] | 40.5 ± 0.7 [paper 68.8] | +0.0 | tie |');
    expect(t).toContain('| synth_count | count | — | 800 | 32.0 ± 2.8 | 21.0 ± 1.4 | -11.0* | Full fine-tuning* |');
  });

  it('does not depend on the order the results were read in', () => {
    expect(quickAccuracyTable([...rows].reverse(), {})).toBe(quickAccuracyTable(rows, {}));
  });

  it('stars the best method only when its lead exceeds two standard errors', () => {
    expect(
      winnerText([
        { method: 'ft', mean: 32, std: 2, n: 3 },
        { method: 'vpt_deep', mean: 31, std: 2, n: 3 },
      ]),
    ).toBe('Full fine-tuning');
    expect(
      winnerText([
        { method: 'ft', mean: 32, std: 0.5, n: 3 },
        { method: 'vpt_deep', mean: 30, std: 0.5, n: 3 },
      ]),
    ).toBe('Full fine-tuning*');
    expect(winnerText([{ method: 'linear', mean: 12, std: NaN, n: 1 }])).toBe('Linear probe');
    expect(winnerText([])).toBe('—');
  });
});

describe('the page reads the same study numbers as docs/', () => {
  it('src/data/miniature-studies.json agrees with the results files it names (rerun study --table <files> --findings it after a study)', async () => {
    const { studies } = miniatureStudies as { studies: MiniatureStudy[] };
    expect(studies.map((s) => s.model)).toContain('tiny_pretrained');
    for (const s of studies) {
      const { merged } = mergeStudyFiles(await readStudySources(s.sources, '--table'));
      expect(merged.model, s.sources.join(', ')).toBe(s.model);
      expect(miniatureStudyOf(s.model, s.sources, merged.paper ?? [])).toEqual(s);
    }
  });
});

describe("the README's study table", () => {
  it('is the side-by-side table of src/data/miniature-studies.json (npm run study -- --table <files> --findings prints it)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(sideBySideTable((miniatureStudies as { studies: MiniatureStudy[] }).studies));
  });
});

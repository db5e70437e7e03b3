/**
 * Who wins, defined once: the study's table and the page's "When does VPT win?" both read results
 * through these. As the paper does it, a setting (learning rate, data size, method) is chosen on
 * validation accuracy, never on test accuracy; the test accuracy reported is the mean over the
 * seeds of that setting.
 */

/** One finished run, as far as the comparison needs it. */
export interface RunResult {
  /** What makes a setting: runs with the same key are seeds of one setting. */
  setting: string;
  valAcc: number;
  testAcc: number;
}

/** The chosen setting of a group of runs: its key, mean validation and test accuracy, seeds. */
export interface Chosen {
  setting: string;
  valAcc: number;
  testAcc: number;
  /** Half the range of test accuracy over the setting's seeds (0 for one seed). */
  spread: number;
  seeds: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The setting with the best mean validation accuracy (ties: the first), or null for no runs. */
export function chooseOnValidation(runs: readonly RunResult[]): Chosen | null {
  const bySetting = new Map<string, RunResult[]>();
  for (const r of runs) bySetting.set(r.setting, [...(bySetting.get(r.setting) ?? []), r]);
  let best: Chosen | null = null;
  for (const [setting, rs] of bySetting) {
    const valAcc = mean(rs.map((r) => (Number.isFinite(r.valAcc) ? r.valAcc : -Infinity)));
    if (best && !(valAcc > best.valAcc)) continue;
    const tests = rs.map((r) => r.testAcc);
    best = { setting, valAcc, testAcc: mean(tests), spread: (Math.max(...tests) - Math.min(...tests)) / 2, seeds: rs.length };
  }
  return best;
}

/**
 * Full fine-tuning against visual prompt tuning on one task: each side's setting chosen on
 * validation among its runs, then the higher test accuracy wins (a tie goes to FT, the baseline).
 */
export function vptVersusFt(ft: readonly RunResult[], vpt: readonly RunResult[]): { winner: 'ft' | 'vpt'; ft: Chosen; vpt: Chosen } | null {
  const a = chooseOnValidation(ft),
    b = chooseOnValidation(vpt);
  if (!a || !b) return null;
  return { winner: b.testAcc > a.testAcc ? 'vpt' : 'ft', ft: a, vpt: b };
}

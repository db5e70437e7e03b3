/** Who wins is chosen on validation, reported on test: the study and the page read results through this. */
import { describe, expect, it } from 'vitest';
import { chooseOnValidation, vptVersusFt } from './compare';

describe('choosing on validation', () => {
  it('takes the setting with the best mean validation accuracy, and reports its mean test accuracy over seeds', () => {
    const chosen = chooseOnValidation([
      { setting: 'lr 0.1', valAcc: 60, testAcc: 90 }, // the best test accuracy, but not the best validation
      { setting: 'lr 0.01', valAcc: 70, testAcc: 50 },
      { setting: 'lr 0.01', valAcc: 74, testAcc: 54 },
    ]);
    expect(chosen).toEqual({ setting: 'lr 0.01', valAcc: 72, testAcc: 52, spread: 2, seeds: 2 });
  });

  it('no runs: nothing chosen; a setting without validation loses to one with it', () => {
    expect(chooseOnValidation([])).toBeNull();
    expect(
      chooseOnValidation([
        { setting: 'a', valAcc: NaN, testAcc: 99 },
        { setting: 'b', valAcc: 10, testAcc: 1 },
      ])?.setting,
    ).toBe('b');
  });

  it('FT against VPT: each side chosen on validation, the winner on test; a tie goes to FT', () => {
    const ft = [{ setting: 'ft', valAcc: 80, testAcc: 70 }];
    const vpt = [
      { setting: 'vpt_deep', valAcc: 85, testAcc: 72 },
      { setting: 'vpt_shallow', valAcc: 50, testAcc: 95 },
    ];
    expect(vptVersusFt(ft, vpt)).toMatchObject({ winner: 'vpt', ft: { testAcc: 70 }, vpt: { setting: 'vpt_deep', testAcc: 72 } });
    expect(vptVersusFt(ft, [{ setting: 'v', valAcc: 1, testAcc: 70 }])?.winner).toBe('ft');
    expect(vptVersusFt(ft, [])).toBeNull();
  });
});

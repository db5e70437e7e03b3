import { describe, expect, it } from 'vitest';
import type { MethodId } from '../domain/run';
import { duel, leadGrowth, miniatureCounts, miniatureSentences, type MiniatureRow, type MiniatureStudy } from './miniature';

const row = (task: string, size: number, method: MethodId, mean: number, std = 1, n = 3): MiniatureRow => ({
  task,
  size,
  method,
  mean,
  std,
  n,
  nearChance: false,
});

describe('the miniature study in sentences', () => {
  it('calls a lead beyond noise only past two standard errors of the difference, and never with one seed', () => {
    expect(duel(row('synth_count', 100, 'vpt_deep', 40, 1), row('synth_count', 100, 'ft', 37, 1)).beyondNoise).toBe(true); // 3 > 2·0.82
    expect(duel(row('synth_count', 100, 'vpt_deep', 40, 2), row('synth_count', 100, 'ft', 37, 2)).beyondNoise).toBe(false); // 3 < 2·1.63
    expect(duel(row('synth_count', 100, 'vpt_deep', 60, 0, 1), row('synth_count', 100, 'ft', 10, 0, 1)).beyondNoise).toBe(false);
  });

  const study: MiniatureStudy = {
    model: 'm',
    sources: [],
    rows: [
      row('synth_count', 100, 'ft', 30),
      row('synth_count', 100, 'vpt_deep', 40),
      row('synth_count', 100, 'linear', 35),
      row('clevr_like_shape', 100, 'ft', 50),
      row('clevr_like_shape', 100, 'vpt_deep', 49.5),
      row('clevr_like_shape', 100, 'linear', 49.5),
      row('synth_count', 800, 'ft', 60),
      row('synth_count', 800, 'vpt_deep', 55),
      row('synth_count', 800, 'linear', 50),
      row('clevr_like_shape', 800, 'ft', 70),
      row('clevr_like_shape', 800, 'vpt_deep', 60),
      row('clevr_like_shape', 800, 'linear', 61),
    ],
  };

  it('counts per size: VPT-deep ahead of FT (and beyond noise), FT ahead beyond noise, VPT-deep at or above the linear probe', () => {
    expect(miniatureCounts(study)).toEqual([
      { size: 100, tasks: 2, vptAheadOfFt: 1, vptAheadOfFtBeyondNoise: ['synth_count'], ftAheadOfVptBeyondNoise: [], vptAtLeastLinear: 2 },
      { size: 800, tasks: 2, vptAheadOfFt: 0, vptAheadOfFtBeyondNoise: [], ftAheadOfVptBeyondNoise: ['synth_count', 'clevr_like_shape'], vptAtLeastLinear: 1 },
    ]);
    expect(leadGrowth(study)).toEqual({ grew: ['synth_count', 'clevr_like_shape'], tasks: 2, small: 100, large: 800 });
  });

  it('says each count in words, and whether the data-size trend matches the paper', () => {
    const s = miniatureSentences(study);
    expect(s[0]).toMatch(
      /^At 100 training images, VPT-deep is ahead of full fine-tuning on 1 of 2 tasks, beyond noise on .*count.*\. VPT-deep matches or beats the linear probe on 2 of 2\.$/,
    );
    expect(s[1]).toBe(
      'At 800 training images, VPT-deep is ahead of full fine-tuning on 0 of 2 tasks. Full fine-tuning is ahead beyond noise on 2 of 2. VPT-deep matches or beats the linear probe on 1 of 2.',
    );
    expect(s[2]).toMatch(/grows from 100 to 800 images on 2 of 2 tasks, as the paper found/);
    const flat = { ...study, rows: study.rows.map((r) => (r.size === 800 && r.method === 'vpt_deep' ? { ...r, mean: r.mean + 20 } : r)) };
    expect(miniatureSentences(flat)[2]).toMatch(/on only 0 of 2 tasks: the paper's data-size trend does not show here/);
    expect(miniatureSentences({ ...study, rows: study.rows.filter((r) => r.size === 100) })).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { binomialSe, differenceSe, groupTally, matchingVtabTask, takeaway, type MethodResult, type TakeawayInput } from './takeaway';

/** Records as the page measured them (the issue's default Start: 500 test images, 8 classes). */
const ft = (o: Partial<MethodResult> = {}): MethodResult => ({
  method: 'ft',
  label: 'Full fine-tuning',
  side: 'ft',
  testAcc: 31.8,
  seedAccs: [31.8],
  numTest: 500,
  trainAcc: 62.5,
  valAcc: 30,
  lossRose: false,
  ...o,
});
const vpt = (o: Partial<MethodResult> = {}): MethodResult => ({
  method: 'vpt_deep',
  label: 'VPT-deep',
  side: 'vpt',
  testAcc: 24.6,
  seedAccs: [24.6],
  numTest: 500,
  trainAcc: 27.1,
  valAcc: 23,
  lossRose: false,
  ...o,
});
const input = (results: MethodResult[], o: Partial<TakeawayInput> = {}): TakeawayInput => ({
  taskId: 'synth_count',
  model: { kind: 'miniature', label: 'the small bundled ViT' },
  trainSize: 400,
  epochs: 5,
  classes: 8,
  results,
  ...o,
});
const kinds = (s: { kind: string }[]) => s.map((x) => x.kind);
const sentence = (s: ReturnType<typeof takeaway>, kind: string) => s.find((x) => x.kind === kind)!;

describe('What this shows', () => {
  it('names the winner and the margin in points, from the numbers given', () => {
    const s = takeaway(input([vpt(), ft()]));
    expect(sentence(s, 'winner').text).toBe('Full fine-tuning reached 31.8 % test accuracy, 7.2 points above VPT-deep (24.6 %).');
    expect(sentence(s, 'winner').values).toMatchObject({ winner: 'ft', runnerUp: 'vpt_deep', margin: 7.2 });
    // The projector's form says the same numbers in a few words.
    expect(sentence(s, 'winner').short).toBe('Full fine-tuning 31.8 %, VPT-deep 24.6 %: 7.2 points ahead');
    expect(sentence(s, 'paper').short).toBe('Paper, Clevr/count: VPT ahead, 68.2 vs 55.4 % — this run disagrees');
    expect(sentence(s, 'limits').short).toBe('Cannot speak to: the paper’s model (a miniature) · seed noise (one seed) · 100 epochs (5)');
  });

  it('one seed: judges the margin against the test set’s binomial standard error, and says the run measured no seed noise', () => {
    const s = takeaway(input([ft(), vpt()]));
    const se = Math.hypot(binomialSe(31.8, 500), binomialSe(24.6, 500));
    expect(se).toBeCloseTo(2.84, 2);
    expect(sentence(s, 'noise').text).toBe(
      "That is beyond noise: with one seed each, the only noise measured is the test set's: on 500 test images the difference has a binomial standard error of 2.8 points, and the margin is 2.5 times that.",
    );
    expect(sentence(s, 'limits').text).toContain('one seed per method measures no seed-to-seed variation');
  });

  it('says "within noise" when the margin is not beyond two standard errors, and the paper verdict then cannot say', () => {
    const s = takeaway(input([ft({ testAcc: 26.2, seedAccs: [26.2] }), vpt()]));
    expect(sentence(s, 'winner').values!.margin).toBe(1.6);
    expect(sentence(s, 'noise').text).toMatch(/^That is within noise: .* so a margin below 5\.5 points could be chance\.$/);
    expect(sentence(s, 'noise').values).toMatchObject({ beyond: false, source: 'test set' });
    expect(sentence(s, 'noise').short).toBe('Within noise: below 5.5 points could be chance (test set)');
    expect(sentence(s, 'paper').text).toContain('This run cannot say which is ahead: its difference is within noise.');
    expect(sentence(s, 'limits').text).toContain('the 1.6 points margin is within noise');
  });

  it('several seeds: the spread of the seeds is the noise, and a small spread makes a small margin count', () => {
    const a = ft({ testAcc: 30, seedAccs: [29.8, 30.1, 30.1] }),
      b = vpt({ testAcc: 27, seedAccs: [26.9, 27.2, 26.9] });
    expect(differenceSe(a, b).source).toBe('seeds');
    const s = takeaway(input([a, b]));
    expect(sentence(s, 'noise').text).toMatch(
      /^That is beyond noise: over 3 seeds, the spread of the seeds puts the difference's standard error at 0\.1 points/,
    );
    expect(kinds(s)).not.toContain('chance');
    expect(sentence(s, 'limits').text).not.toContain('one seed');
  });

  it('names a method within noise of chance, and a method whose loss rose', () => {
    // The issue's diverged VPT-deep on dSprites/location: 6.0 % on 16 classes (chance 6.3 %).
    const s = takeaway(
      input([ft({ testAcc: 9.4, seedAccs: [9.4] }), vpt({ testAcc: 6, seedAccs: [6], lossRose: true })], { taskId: 'dsprites_location', classes: 16 }),
    );
    expect(sentence(s, 'chance').text).toBe("VPT-deep's 6.0 % is within noise of chance (6.3 % for 16 classes): it learned nothing measurable here.");
    // 15.6 % on 8 classes and 500 images is just beyond it (chance 12.5 % + 2 × 1.5).
    expect(kinds(takeaway(input([ft(), vpt({ testAcc: 15.6, seedAccs: [15.6] })])))).not.toContain('chance');
    expect(sentence(s, 'rise').text).toMatch(/^VPT-deep's training loss rose: its learning rate was too high/);
  });

  it('states the paper’s finding for the matching VTAB-1k task and group, and whether the run agrees', () => {
    expect(matchingVtabTask('synth_count').id).toBe('clevr_count');
    expect(groupTally('structured')).toEqual({ vpt: 7, ties: 1, tasks: 8 });
    const s = takeaway(input([ft(), vpt()]));
    expect(sentence(s, 'paper').text).toBe(
      "This task mirrors VTAB-1k's Clevr/count (structured: objective differs from classification: counting, distance, position, orientation, viewpoint); there Han et al. (ICLR 2024, ViT-B/16 pretrained on ImageNet-21k, 800 + 200 images, 100 epochs) found VPT ahead, 68.2 % against 55.4 %; across the structured group VPT is ahead on 7 of 8 tasks (1 tied). This run points the other way.",
    );
    const agreeing = takeaway(input([ft({ testAcc: 20, seedAccs: [20] }), vpt({ testAcc: 30, seedAccs: [30] })], { taskId: 'cifar100', classes: 100 }));
    expect(sentence(agreeing, 'paper').text).toMatch(
      /^On CIFAR-100 Han et al\. .* found VPT ahead, 77\.7 % against 64\.5 %; across the natural group VPT is ahead on 6 of 7 tasks\. This run points the same way\.$/,
    );
    expect(sentence(agreeing, 'paper').values!.agrees).toBe(true);
  });

  it('gives one why line from what was measured: the train − validation gap, or CKA and prompt attention where computed', () => {
    const gap = sentence(takeaway(input([ft(), vpt()])), 'why');
    expect(gap.text).toBe(
      "Why, from what was measured: Full fine-tuning's train − validation gap was 32.5 points (train 62.5 %, validation 30.0 %), VPT-deep's 4.1 points: training more weights on few images overfits more.",
    );
    const cka = sentence(
      takeaway(input([ft({ cka: [1, 0.8, 0.42] }), vpt({ cka: [1, 0.99, 0.97], clsOnPrompts: { perBlock: [0.2, 0.35], uniform: 8 / 25 } })])),
      'why',
    );
    expect(cka.text).toBe(
      "Why, from what was measured: the last block's features of Full fine-tuning kept a CKA of 0.42 to the pretrained ones, VPT-deep's 0.97: the prompts left the pretrained features more in place; in VPT-deep's last block the CLS token put 35 % of its attention on the prompts (uniform attention would put 32 %).",
    );
  });

  it('says exactly what the run cannot speak to: a miniature model, or none of it on the paper’s backbone with seeds and a clear margin', () => {
    const mini = sentence(takeaway(input([ft(), vpt()])), 'limits');
    expect(mini.text).toMatch(/^What this run cannot speak to: it ran on the small bundled ViT, a miniature ViT, not the paper's ViT-B\/16/);
    expect(mini.text).toContain("5 epochs instead of the paper's 100");
    const paper = takeaway(
      input([ft({ testAcc: 60, seedAccs: [59.5, 60.2, 60.3] }), vpt({ testAcc: 70, seedAccs: [69.7, 70.1, 70.2] })], {
        model: { kind: 'paper', label: 'ViT-B/16' },
        epochs: 100,
      }),
    );
    expect(kinds(paper)).toEqual(['winner', 'noise', 'paper', 'why']);
  });

  it('needs two finished methods', () => {
    expect(takeaway(input([ft()]))).toEqual([]);
  });
});

/**
 * The recorded default learning rates (defaults.json, written by `npm run defaults`): the choice
 * the rule makes from the recorded search is the one recorded, every default is a rate of the
 * reference grid, and no default run's epoch-mean training loss rises above 1.1 × its first
 * epoch's, on every offline task and at least 3 seeds. Also the rule itself, on made-up points.
 */
import { describe, expect, it } from 'vitest';
import { PROCEDURAL_TASKS } from '../data/catalog';
import type { MethodId, RunConfig } from '../domain/run';
import { DEFAULT_SETUP } from '../store/setup';
import { DEFAULTS, DEFAULT_QUICK_RUN, chooseDefaultLr, recordedDefault, runRose, type RecordedRun, type SearchPoint } from './defaults';
import { METHODS } from './methods';
import { REDUCED_GRIDS, REFERENCE_GRIDS, gridFamily } from './paper';
import { resolveHyperDefaults } from './session';

const run = (lr: number, seed: number, trainLoss: number[], valAcc: number, taskId = 'synth_count'): RecordedRun => ({
  taskId,
  seed,
  lr,
  trainLoss: [trainLoss],
  valAcc,
  stoppedEarly: false,
  seconds: 1,
});

describe('the default-lr rule', () => {
  it('keeps rates every seed of which was stable, picks the best mean validation accuracy, a tie to the smaller rate', () => {
    const points: SearchPoint[] = [
      { lr: 5, runs: [run(5, 1, [30, 20], 40)] }, // far above chance-level loss: out, however accurate
      { lr: 0.5, runs: [run(0.5, 1, [2.5, 3.8], 30)] }, // rose: out
      { lr: 0.25, runs: [run(0.25, 1, [2.2, 2.1], 25), run(0.25, 2, [2.2, 2.0], 21), run(0.25, 3, [2.2, 1.9], 20)] },
      { lr: 0.1, runs: [run(0.1, 1, [2.1, 2.0], 22), run(0.1, 2, [2.1, 2.0], 22), run(0.1, 3, [2.1, 2.0], 22)] },
      { lr: 0.05, runs: [run(0.05, 1, [2.1, 2.05], 22), run(0.05, 2, [2.1, 2.05], 22), run(0.05, 3, [2.1, 2.05], 22)] },
    ];
    // 0.25 has the best mean (22.0 vs 22.0 vs 22.0 → a three-way tie, the smallest wins).
    expect(chooseDefaultLr(points, 3)).toBe(0.05);
    points[2]!.runs[2]!.valAcc = 30; // 0.25 now averages 25.3
    expect(chooseDefaultLr(points, 3)).toBe(0.25);
    // Below a rejected rate; too few seeds counts as not measured.
    expect(chooseDefaultLr(points, 3, 0.25)).toBe(0.05);
    expect(chooseDefaultLr(points, 4)).toBeNull();
  });
});

describe('the recorded defaults (src/train/defaults.json)', () => {
  const models = Object.entries(DEFAULTS.models);

  it('hold the bundled default model, with the one-click pair of methods, and the command that made them', () => {
    const id = DEFAULT_SETUP.model.replace(/^bundled:/, '');
    const entry = DEFAULTS.models[id];
    expect(entry, `no measured defaults for ${id}: run npm run defaults -- --model ${id}`).toBeDefined();
    expect(entry!.command).toMatch(/^npm run defaults -- --model /);
    for (const m of DEFAULT_SETUP.methods) expect(entry!.methods[m], `${id} has no measured default for ${m}`).toBeDefined();
    expect(entry!.setup).toMatchObject(DEFAULT_QUICK_RUN);
  });

  for (const [model, entry] of models) {
    for (const [method, d] of Object.entries(entry.methods) as [MethodId, NonNullable<(typeof entry.methods)[MethodId]>][]) {
      it(`${model} · ${METHODS[method].label}: base lr ${d.lr} is the rule's choice from the recorded search, a rate of the reference grid`, () => {
        const grid = REFERENCE_GRIDS[gridFamily(method)];
        expect(grid.lrs).toContain(d.lr);
        expect(d.weightDecay).toBe(REDUCED_GRIDS[gridFamily(method)].wds[0]);
        expect(d.search.map((p) => p.lr).sort((a, b) => a - b)).toEqual([...grid.lrs].sort((a, b) => a - b));
        const below = Math.min(Infinity, ...d.rejected.map((r) => r.lr));
        expect(chooseDefaultLr(d.search, entry.seeds.length, below)).toBe(d.lr);
        expect(d.promptLr).toBe(METHODS[method].phases.some((p) => p.promptMode !== 'none') ? d.lr : null);
      });

      it(`${model} · ${METHODS[method].label}: no default run's epoch-mean loss rises above 1.1 × its first epoch's, on every offline task, ${entry.seeds.length} seeds`, () => {
        expect(entry.seeds.length).toBeGreaterThanOrEqual(3);
        const defaults = [...d.search.find((p) => p.lr === d.lr)!.runs, ...d.check.filter((r) => r.lr === d.lr)];
        for (const task of PROCEDURAL_TASKS) {
          const runs = defaults.filter((r) => r.taskId === task.id);
          expect(
            runs.map((r) => r.seed).sort((a, b) => a - b),
            `${task.id}: seeds run at the default`,
          ).toEqual([...entry.seeds].sort((a, b) => a - b));
          for (const r of runs) {
            expect(r.trainLoss.flat().length, `${task.id} seed ${r.seed}: every epoch ran`).toBe(entry.setup.epochs * METHODS[method].phases.length);
            expect(runRose(r), `${task.id} seed ${r.seed}: ${r.trainLoss.map((p) => p.join(' ')).join(' | ')}`).toBe(false);
          }
        }
      });
    }
  }

  it('a run without a typed learning rate trains at the recorded default; a typed one, or an unmeasured model, is left as it is', () => {
    const base: RunConfig = {
      runId: 'r',
      modelLabel: 'm',
      model: { kind: 'bundled', id: DEFAULT_SETUP.model.replace(/^bundled:/, '') },
      taskId: 'synth_count',
      data: { kind: 'procedural' },
      method: 'vpt_deep',
      trainSize: 400,
      valSize: 100,
      testSize: 500,
      epochs: 5,
      batchSize: 32,
      seed: 1,
      imageSize: 0,
      gradcamSamples: 0,
    };
    const rec = recordedDefault(base.model, 'vpt_deep')!;
    expect(resolveHyperDefaults(base)).toMatchObject({ lr: rec.lr, weightDecay: rec.weightDecay });
    expect(resolveHyperDefaults({ ...base, lr: 0.3 }).lr).toBe(0.3);
    expect(resolveHyperDefaults({ ...base, model: { kind: 'random', preset: 'fixture_tiny' } })).toMatchObject({ lr: 0.5, weightDecay: 1e-4 });
  });
});

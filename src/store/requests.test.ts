/** What the page asks the engine for, from its state: runs, restarts, Fréchet requests, and the problems instead. */
import { describe, expect, it } from 'vitest';
import { frechetRequests, queueRequest, restartRequest, sweepRequest } from './requests';
import { reduce, type LabEvent } from './reduce';
import { DEFAULT_SETUP, effectivePromptLength } from './setup';
import { initialState, type LabState } from './state';
import { TASKS } from '../data/catalog';
import { PRESETS } from '../model/config';
import { BUNDLED_DIMS } from '../train/dims';
import { resolvePromptLength } from '../train/session';

const state = (...events: LabEvent[]): LabState => events.reduce(reduce, initialState());
const zip = new File([new Uint8Array(4)], 'dtd.zip');

describe('runs from the setup', () => {
  it('one run per selected method, with the setup in each config', () => {
    const r = queueRequest(state({ type: 'setup-changed', patch: { seed: 4, trainSize: 800 } }));
    if (!('ok' in r)) throw new Error(r.problem.message);
    expect(r.ok.runs.map((c) => c.method)).toEqual(DEFAULT_SETUP.methods);
    const c = r.ok.runs[0]!;
    expect(c).toMatchObject({
      taskId: 'synth_count',
      seed: 4,
      trainSize: 800,
      valSize: 200,
      model: { kind: 'bundled', id: 'scenes_vit' },
      data: { kind: 'procedural' },
    });
    // No typed prompt length: the engine applies the catalog rule when the model loads.
    expect(c.promptLength).toBeUndefined();
    expect(c.protocol).toBeUndefined();
    expect(new Set(r.ok.runs.map((x) => x.runId)).size).toBe(r.ok.runs.length);
    expect(r.ok.groupLabel).toMatch(/^Synthetic counting|·/);
  });

  it('the prompt length the page shows is the one the run gets: the session applies the same rule as train and study', () => {
    // The default bundled model (36 patches), the other (16) and the paper's ViT-B/16 at 224 px (196).
    const models = [
      { model: DEFAULT_SETUP.model, imageSize: 0, cfg: { ...PRESETS.vit_b16, ...BUNDLED_DIMS.scenes_vit! } },
      { model: 'bundled:tiny_pretrained', imageSize: 0, cfg: { ...PRESETS.vit_b16, ...BUNDLED_DIMS.tiny_pretrained! } },
      { model: 'hub:google/vit-base-patch16-224-in21k', imageSize: 224, cfg: PRESETS.vit_b16 },
    ];
    for (const { model, imageSize, cfg } of models) {
      for (const t of TASKS) {
        const patch = {
          taskId: t.id,
          model,
          imageSize,
          methods: ['vpt_deep' as const],
          data: t.source === 'procedural' ? ('local' as const) : ('url' as const),
          dataUrl: 'https://example.org/vtab',
        };
        const s = state({ type: 'setup-changed', patch });
        const r = queueRequest(s);
        if (!('ok' in r)) throw new Error(r.problem.message);
        const config = r.ok.runs[0]!;
        // No length typed: the page sends none, and the session (train and study use it too) decides.
        expect(config.promptLength).toBeUndefined();
        expect(resolvePromptLength(config, cfg).promptLength, `${t.id} on ${model}`).toBe(effectivePromptLength(s.setup));
      }
    }
  });

  it('the paper protocol: each method gets its grid and the seeds; imported parameters are refused', () => {
    const r = queueRequest(state({ type: 'setup-changed', patch: { protocol: 'paper', seeds: 2, seed: 5, grid: 'lr=0.5,0.05;wd=0' } }));
    if (!('ok' in r)) throw new Error(r.problem.message);
    for (const c of r.ok.runs) expect(c.protocol).toEqual({ kind: 'paper', grid: { lrs: [0.5, 0.05], wds: [0] }, seeds: [5, 6] });
    const reduced = queueRequest(state({ type: 'setup-changed', patch: { protocol: 'paper' } }));
    if (!('ok' in reduced)) throw new Error(reduced.problem.message);
    const byMethod = Object.fromEntries(reduced.ok.runs.map((c) => [c.method, c.protocol!.grid.lrs]));
    expect(byMethod.ft).toEqual([0.005, 0.001, 0.0001]);
    expect(byMethod.vpt_deep).toEqual([5, 0.5, 0.05]);
    const params = new File([new Uint8Array(4)], 'trained.safetensors');
    const refused = queueRequest(state({ type: 'setup-changed', patch: { protocol: 'paper' } }, { type: 'import-params-picked', file: params }));
    expect('problem' in refused && refused.problem.message).toMatch(/paper protocol.*imported/);
  });

  it('the sweep: every method at every size', () => {
    const r = sweepRequest(state(), [400, 800], ['ft', 'vpt_deep']);
    if (!('ok' in r)) throw new Error(r.problem.message);
    expect(r.ok.runs.map((c) => [c.trainSize, c.method])).toEqual([
      [400, 'ft'],
      [400, 'vpt_deep'],
      [800, 'ft'],
      [800, 'vpt_deep'],
    ]);
  });

  it('a file model without its file, or a VTAB task without its data, is a problem that says what to do', () => {
    const noFile = queueRequest(state({ type: 'setup-changed', patch: { model: 'file' } }));
    expect('problem' in noFile && noFile.problem.message).toMatch(/No checkpoint file is loaded.*Choose/);
    const noData = queueRequest(state({ type: 'setup-changed', patch: { taskId: 'dtd' } }));
    expect('problem' in noData && noData.problem.message).toMatch(/needs its images/);
    const withZip = queueRequest(
      state(
        { type: 'setup-changed', patch: { taskId: 'dtd' } },
        { type: 'data-picked', data: { kind: 'zip', name: 'dtd.zip', count: 1, file: zip }, choice: 'zip' },
      ),
    );
    expect('ok' in withZip && withZip.ok.runs[0]!.data).toEqual({ kind: 'zip', file: zip, name: 'dtd.zip' });
  });
});

describe('restarting a stored run', () => {
  const stored = (modelSource: string, dataSource: string, importedFrom?: string, hasCheckpoint = false): LabEvent => ({
    type: 'restored',
    runs: [
      {
        runId: 'r',
        groupId: 'g',
        groupLabel: 'g',
        methodLabel: 'VPT-deep',
        importedFrom,
        hasCheckpoint,
        summary: {
          config: {
            runId: 'r',
            modelLabel: 'm',
            taskId: 'dtd',
            method: 'vpt_deep',
            trainSize: 800,
            valSize: 200,
            testSize: 0,
            epochs: 1,
            batchSize: 8,
            promptLength: 10,
            seed: 0,
            imageSize: 224,
            gradcamSamples: 0,
            modelSource,
            dataSource,
          },
          backend: 'wasm',
          trainableParams: 0,
          totalParams: 0,
          epochs: [],
          status: 'interrupted',
          startedAt: 1,
          notices: [],
        },
      },
    ],
    gradcams: [],
    stopped: [],
  });

  it('hub model and URL data come back from their stored lines', () => {
    const r = restartRequest(state(stored('hub:google/vit-base-patch16-224-in21k', 'url:https://example.org/vtab')), 'r');
    expect(r && 'ok' in r && r.ok).toMatchObject({
      type: 'restart',
      runId: 'r',
      model: { kind: 'hub', id: 'google/vit-base-patch16-224-in21k' },
      data: { kind: 'url', base: 'https://example.org/vtab' },
    });
  });

  it('local files must be picked again: the problem names the one missing', () => {
    const noModel = restartRequest(state(stored('file:vit.safetensors', 'procedural')), 'r');
    expect(noModel && 'problem' in noModel && noModel.problem.message).toMatch(/checkpoint file "vit.safetensors"/);
    const noData = restartRequest(state(stored('bundled:tiny_pretrained', 'zip:dtd.zip')), 'r');
    expect(noData && 'problem' in noData && noData.problem.message).toMatch(/data folder or zip/);
    const picked = restartRequest(
      state(
        stored('file:vit.safetensors', 'zip:dtd.zip'),
        { type: 'model-file-picked', file: new File([], 'vit.safetensors') },
        { type: 'data-picked', data: { kind: 'zip', name: 'dtd.zip', count: 1, file: zip }, choice: 'zip' },
      ),
      'r',
    );
    expect(picked && 'ok' in picked && picked.ok.data).toMatchObject({ kind: 'zip', name: 'dtd.zip' });
  });

  it('a run that imported parameters needs them again, unless a checkpoint continues it', () => {
    const need = restartRequest(state(stored('bundled:tiny_pretrained', 'procedural', 'p.safetensors')), 'r');
    expect(need && 'problem' in need && need.problem.message).toMatch(/trained parameters "p.safetensors"/);
    const fromCheckpoint = restartRequest(state(stored('bundled:tiny_pretrained', 'procedural', 'p.safetensors', true)), 'r');
    expect(fromCheckpoint && 'ok' in fromCheckpoint && fromCheckpoint.ok.importParams).toBeUndefined();
    expect(restartRequest(state(), 'nope')).toBeNull();
  });
});

describe('Fréchet requests', () => {
  it('the procedural tasks against the bundled model pretraining data; other models need a reference set', () => {
    const r = frechetRequests(state());
    expect('ok' in r && r.ok.map((c) => [c.reference, c.data.kind])).toEqual([[{ kind: 'pretraining' }, 'procedural']]);
    const hub = frechetRequests(state({ type: 'setup-changed', patch: { model: 'hub:google/vit-base-patch16-224-in21k' } }));
    expect('problem' in hub && hub.problem.message).toMatch(/Only the bundled model ships its pretraining data/);
  });
});

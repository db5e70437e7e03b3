import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LabError } from '../domain/errors';
import { asStudyFile, mergeStudyFiles, readStudySources, type StudyFile } from './studyFile';
import { canonicalJson, cellWork, loadSweep, planSweep, readCellResult, writeCellResult, type Cell } from './sweepPlan';

const BASE = { tasks: ['synth_count', 'dsprites_location'], methods: ['ft', 'vpt_deep'], seeds: 2, sizes: [{ train: 32, epochs: 2 }] };
const plan = (o: Record<string, unknown> = {}) => planSweep({ ...BASE, ...o }, '/sweeps/s.json');

function named(o: Record<string, unknown>): LabError {
  try {
    planSweep({ ...BASE, ...o }, 'study.json');
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe('config/invalid');
    expect((e as LabError).message).toContain('Sweep file "study.json"');
    return e as LabError;
  }
  throw new Error(`no error for ${JSON.stringify(o)}`);
}

describe('sweep files', () => {
  it('one cell per task × size × method × seed (quick), in a fixed order, each with a distinct hash and file', () => {
    const s = plan();
    expect(s.cells.map((c) => c.title)).toEqual([
      'synth_count ft n=32 2 ep seed 0',
      'synth_count ft n=32 2 ep seed 1',
      'synth_count vpt_deep n=32 2 ep seed 0',
      'synth_count vpt_deep n=32 2 ep seed 1',
      'dsprites_location ft n=32 2 ep seed 0',
      'dsprites_location ft n=32 2 ep seed 1',
      'dsprites_location vpt_deep n=32 2 ep seed 0',
      'dsprites_location vpt_deep n=32 2 ep seed 1',
    ]);
    expect(new Set(s.cells.map((c) => c.hash)).size).toBe(8);
    expect(s.cells[0]!.fileName).toMatch(/^synth_count--ft--n32--e2--s0--[0-9a-f]{16}\.json$/);
    expect(s.cells[0]!.valSize).toBe(8);
    expect(s).toMatchObject({
      batch: 32,
      testSize: 500,
      imageSize: 0,
      backend: 'auto',
      protocol: { kind: 'quick' },
      model: { name: 'scenes_vit' }, // the page's default (train/dims.ts DEFAULT_BUNDLED_ID)
      data: { kind: 'procedural' },
    });
  });

  it('the paper protocol runs all seeds in one cell (they share its search) and hashes its grid', () => {
    const s = plan({ protocol: { kind: 'paper', grid: 'lr=0.5,0.05' }, seeds: 3 });
    expect(s.cells).toHaveLength(4);
    expect(s.cells[0]!.seeds).toEqual([0, 1, 2]);
    expect(s.cells[0]!.grid).toEqual({ lrs: [0.5, 0.05], wds: [0.01] });
    expect(s.cells[0]!.title).toBe('synth_count ft n=32 2 ep seeds 0,1,2');
    expect(plan({ protocol: { kind: 'paper', grid: 'lr=0.5' }, seeds: 3 }).cells[0]!.hash).not.toBe(s.cells[0]!.hash);
  });

  it('the hash covers what decides the numbers, and nothing else', () => {
    const h = plan().cells[0]!.hash;
    // Written out: a change to what the hash covers would re-run every stored cell; make it on purpose.
    const identity =
      '{"backend":"auto","batch":32,"data":"procedural","epochs":2,"imageSize":0,"method":"ft","model":"scenes_vit","protocol":{"kind":"quick"},"seeds":[0],"task":"synth_count","testSize":500,"trainSize":32,"v":1,"valSize":8}';
    expect(h).toBe(createHash('sha256').update(identity).digest('hex').slice(0, 16));
    expect(planSweep({ ...BASE, name: 'other name' }, '/elsewhere/t.json').cells[0]!.hash).toBe(h);
    expect(planSweep({ sizes: BASE.sizes, seeds: 2, methods: BASE.methods, tasks: BASE.tasks }, '/x.json').cells[0]!.hash).toBe(h);
    for (const change of [
      { batch: 16 },
      { testSize: 100 },
      { lr: 0.1 },
      { promptLength: 4 },
      { imageSize: 64 },
      { backend: 'wasm' },
      { model: 'random_tiny' },
      { seeds: [5, 1] },
      { sizes: [{ train: 32, epochs: 3 }] },
    ]) {
      expect(plan(change).cells[0]!.hash, JSON.stringify(change)).not.toBe(h);
    }
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
  });

  it('counts the images a cell trains and evaluates, for the cost estimate', () => {
    const q = plan({ testSize: 500 });
    expect(cellWork(q, q.cells[0]!, 500)).toEqual({ runs: 1, train: 2 * 32, forward: 2 * 8 + 500 });
    const p = plan({ protocol: { kind: 'paper', grid: 'lr=0.5,0.05' }, seeds: 3, testSize: 0 });
    // 2 search runs of 2 epochs on 32 (val 8 each epoch), 3 final runs of 2 epochs on 32 + 8, 3 test passes.
    expect(cellWork(p, p.cells[0]!, 1000)).toEqual({ runs: 5, train: 2 * 2 * 32 + 3 * 2 * 40, forward: 2 * 2 * 8 + 3 * 1000 });
  });

  it('resolves model and data paths against the sweep file', () => {
    const s = plan({ model: { path: '../models/m.safetensors' }, data: { url: 'https://example.org/vtab/' } });
    expect(s.model).toEqual({ path: '/models/m.safetensors' });
    expect(s.modelText).toBe('path:../models/m.safetensors');
    expect(s.data).toEqual({ url: 'https://example.org/vtab/' });
  });

  it('names every problem with its field and a fix', () => {
    expect(named({ tasks: ['synth_cnt'] }).message).toMatch(/at tasks\[0\] "synth_cnt" is not a task\. Did you mean synth_/);
    expect(named({ methods: ['ft', 'fft'] }).message).toContain('at methods[1] must be one of linear, ft, vpt_shallow, vpt_deep, mixed, ft_then_pt');
    expect(named({ seeds: [1, 1] }).message).toContain('at seeds must NOT have duplicate items');
    expect(named({ seeds: 0 }).message).toContain('at seeds must be >= 1');
    expect(named({ model: { paht: 'x' } }).message).toContain("at model must have required property 'path'");
    expect(named({ model: 'vit_b17' }).message).toContain('"vit_b17" is not a model name. Use one of vit_b16');
    expect(named({ sizes: [{ train: 32 }] }).message).toContain("at sizes[0] must have required property 'epochs'");
    expect(
      named({
        sizes: [
          { train: 32, epochs: 2 },
          { train: 32, epochs: 2 },
        ],
      }).message,
    ).toContain('repeats train size 32');
    expect(named({ protocol: { kind: 'paper', grid: 'lr=a' } }).message).toContain('at protocol.grid "a" is not a valid learning rate');
    expect(named({ protocol: { kind: 'paper' }, lr: 0.1 }).message).toContain('the paper protocol searches the learning rate');
    expect(named({ protocol: { kind: 'paper' }, seeds: [0, 2] }).message).toContain('the paper protocol runs up to 10 consecutive seeds');
    expect(named({ tasks: ['dtd'] }).message).toContain('dtd is a VTAB-1k task whose images come from files');
    expect(named({ tasks: ['dtd'], data: { path: 'vtab' } }).message).toContain(
      'at sizes[0].train is 32, but VTAB-1k tasks (dtd) train on 400 to 20,000 images',
    );
    expect(named({ data: { url: 'ftp://x' } }).message).toContain('at data.url must match pattern');
    expect(named({ extra: 1 }).message).toContain('at the top level has an unknown field "extra"');
    expect(named({ tasks: [] }).message).toContain('at tasks must NOT have fewer than 1 items');
  });

  it('a missing file and a file that is not JSON are named errors', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'lab-sweep-'));
    await expect(loadSweep(join(dir, 'none.json'))).rejects.toThrow(/cannot be read: there is no such file/);
    writeFileSync(join(dir, 'bad.json'), '{"tasks": [');
    await expect(loadSweep(join(dir, 'bad.json'))).rejects.toThrow(/is not valid JSON/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(BASE));
    expect((await loadSweep(join(dir, 'ok.json'), { model: 'https://example.org/m.safetensors', data: 'procedural' })).model).toEqual({
      url: 'https://example.org/m.safetensors',
    });
  });

  it('the small sweep that CI runs is valid', async () => {
    const s = await loadSweep('e2e/sweep/small.sweep.json');
    expect(s.cells).toHaveLength(8);
    expect(s.model).toHaveProperty('path', join(process.cwd(), 'test/fixtures/timm_tiny_model.safetensors'));
  });
});

describe('sweep results', () => {
  const cell = (): Cell => plan().cells[0]!;
  const result = (c: Cell, testAcc = 12.5): StudyFile & { sweep: NonNullable<StudyFile['sweep']> } => ({
    model: 'tiny',
    rows: [
      { taskId: c.taskId, method: c.method, trainSize: c.trainSize, seed: c.seeds[0]!, testAcc, valAcc: 10, epochs: c.epochs, seconds: 3, trainableParams: 5 },
    ],
    frechet: {},
    sweep: {
      version: 1,
      sweep: 's',
      hash: c.hash,
      title: c.title,
      backend: 'wasm',
      seconds: 3,
      finishedAt: '',
      curves: [{ seed: 0, epochs: [{ epoch: 1, trainLoss: 2, trainAcc: 10, valAcc: 10 }] }],
    },
  });

  it('a stored result resumes its cell only when it is whole and has the same hash', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'lab-sweep-'));
    const c = cell();
    expect(await readCellResult(dir, c)).toBeNull();
    await writeCellResult(dir, c, result(c));
    expect(readdirSync(dir)).toEqual([c.fileName]); // no temporary file left
    expect((await readCellResult<StudyFile>(dir, c))?.rows[0]?.testAcc).toBe(12.5);
    writeFileSync(join(dir, c.fileName), readFileSync(join(dir, c.fileName), 'utf8').slice(0, 50)); // cut short
    expect(await readCellResult(dir, c)).toBeNull();
    await writeCellResult(dir, c, { ...result(c), sweep: { ...result(c).sweep, hash: '0000000000000000' } });
    expect(await readCellResult(dir, c)).toBeNull();
  });

  it('--table reads a results folder and a Playwright report alike; a cell met twice counts once', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'lab-sweep-'));
    const cells = plan().cells.slice(0, 2);
    for (const c of cells) await writeCellResult(join(dir, 'r'), c, result(c));
    const attach = (c: Cell) => ({ name: 'sweep-cell', contentType: 'application/json', body: Buffer.from(JSON.stringify(result(c))).toString('base64') });
    const report = {
      config: {},
      suites: [
        {
          title: 'sweep.spec.ts',
          specs: [],
          suites: [{ specs: cells.map((c) => ({ title: c.title, tests: [{ results: [{ attachments: [attach(c)] }] }] })) }],
        },
      ],
    };
    writeFileSync(join(dir, 'merged.json'), JSON.stringify(report));
    const fromFolder = mergeStudyFiles(await readStudySources([join(dir, 'r')], '--table'));
    const fromReport = mergeStudyFiles(await readStudySources([join(dir, 'merged.json')], '--table'));
    expect(fromReport).toEqual(fromFolder);
    expect(fromFolder.merged.rows).toHaveLength(2);
    const both = mergeStudyFiles(await readStudySources([join(dir, 'r'), join(dir, 'merged.json')], '--table'));
    expect(both.merged.rows).toHaveLength(2);
    expect(both.conflicts).toEqual([]);
    const c = cells[0]!;
    expect(mergeStudyFiles([result(c), result(c, 50)]).conflicts[0]).toContain('has two different results');
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ config: {}, suites: [] }));
    await expect(readStudySources([join(dir, 'empty.json')], '--table')).rejects.toThrow(/no sweep results in it/);
    const bad = { config: {}, suites: [{ specs: [{ title: 't', tests: [{ results: [{ attachments: [{ name: 'sweep-cell', body: 42 }] }] }] }] }] };
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    await expect(readStudySources([join(dir, 'bad.json')], '--table')).rejects.toThrow(
      'at suites[0].specs[0].tests[0].results[0].attachments[0].body: must be a string (the attachment',
    );
  });
});

describe('study results files, checked by their schema', () => {
  const problem = (json: unknown) => {
    try {
      asStudyFile(json, '"r.json"', '--table');
    } catch (e) {
      expect((e as LabError).code).toBe('config/invalid');
      return (e as LabError).message;
    }
    throw new Error(`no error for ${JSON.stringify(json)}`);
  };
  const row = { taskId: 'synth_count', method: 'ft', trainSize: 8, testAcc: 50 };

  it('names where a file is not what the study writes, and the fix', () => {
    expect(problem([])).toBe(
      `--table "r.json" is not a study results file (it needs "rows" of runs with a known taskId, method, trainSize and testAcc; at the top level: must be object). Give --table a file written by npm run study -- --out, a sweep's results folder, or a sweep's merged Playwright JSON report.`,
    );
    expect(problem({ rows: [row, { ...row, taskId: '__proto__' }] })).toContain("at rows[1].taskId: must be one of the lab's task ids");
    expect(problem({ rows: [{ ...row, method: 'constructor' }] })).toContain("at rows[0].method: must be one of the lab's method ids");
    expect(problem({ rows: [{ ...row, testAcc: null }] })).toContain('at rows[0].testAcc: must be a number (the test accuracy)');
    expect(problem({ rows: [], frechet: { 'no\u001btask': 1 } })).toContain(`at frechet: the key "no\\x1btask" must be one of the lab's task ids`);
    expect(problem({ rows: [], paper: [{ taskId: 'synth_count', method: 'ft', final: [] }] })).toBe(
      `--table "r.json" has a "paper" entry that is not a list of paper-protocol results (taskId, method, search, final; at paper[0]: needs 'search'). Give --table a file written by npm run study -- --protocol paper --out.`,
    );
  });

  it('keeps what a study wrote, less the distances it could not compute (JSON has no NaN)', () => {
    const f = asStudyFile({ model: 'm', rows: [row], frechet: { synth_count: 2.5, dtd: null } }, '"r.json"', '--table');
    expect(f).toEqual({ model: 'm', rows: [row], paper: undefined, frechet: { synth_count: 2.5 }, sweep: undefined });
  });
});

describe('npm run sweep', () => {
  const sweepCli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/sweep.ts', ...args], { encoding: 'utf8' });

  it('--list says which cells have results; a missing model file is one named error before anything runs', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'lab-sweep-'));
    const s = await loadSweep('e2e/sweep/small.sweep.json');
    await writeCellResult(dir, s.cells[2]!, {
      sweep: { version: 1, sweep: 'small', hash: s.cells[2]!.hash, title: s.cells[2]!.title, backend: 'wasm', seconds: 1, finishedAt: '', curves: [] },
    });
    const list = sweepCli(['e2e/sweep/small.sweep.json', '--results', dir, '--list']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stderr).toContain('8 cells (quick protocol), 1 already in');
    expect(list.stdout.split('\n').filter((l) => l.startsWith('done'))).toEqual([`done     ${s.cells[2]!.hash}  ${s.cells[2]!.title}`]);
    const missing = sweepCli(['e2e/sweep/small.sweep.json', '--model', 'nope.safetensors', '--list']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^error \[config\/invalid\]: The sweep's model ".*nope\.safetensors" does not exist \(from --model\)/);
    const shard = sweepCli(['e2e/sweep/small.sweep.json', '--shard', '0/2']);
    expect(shard.status).toBe(2);
    expect(shard.stderr).toContain('--shard must be i/n with 1 <= i <= n');
  });
});

describe('running the sweep on many machines', () => {
  it('the Kubernetes Indexed Job maps JOB_COMPLETION_INDEX to Playwright shard index + 1 of SHARDS = completions', () => {
    const job = parse(readFileSync('deploy/k8s/sweep-job.yaml', 'utf8')) as {
      spec: { completionMode: string; completions: number; template: { spec: { containers: { env: { name: string; value: string }[]; args: string[] }[] } } };
    };
    expect(job.spec.completionMode).toBe('Indexed');
    const c = job.spec.template.spec.containers[0]!;
    expect(Number(c.env.find((e) => e.name === 'SHARDS')?.value)).toBe(job.spec.completions);
    const script = c.args.join('\n');
    expect(script).toContain('shard=$((JOB_COMPLETION_INDEX + 1))');
    expect(script).toMatch(/npm run sweep -- \S+ --shard "\$shard\/\$SHARDS"/);
    expect(script).toMatch(/--results \/results\/\S+/);
    // Tried: the pod's script, with the sweep itself replaced by echo, for every index of the Job.
    const shards = Array.from(
      { length: job.spec.completions },
      (_, i) =>
        execFileSync('bash', ['-c', script.replace('exec npm run sweep --', 'echo')], {
          env: { ...process.env, JOB_COMPLETION_INDEX: String(i), SHARDS: String(job.spec.completions) },
          encoding: 'utf8',
        }).match(/--shard (\S+)/)?.[1],
    );
    expect(shards).toEqual(Array.from({ length: 8 }, (_, i) => `${i + 1}/8`));
  });

  it('the workflow runs one shard per matrix job, uploads blob reports and merges them into the table', () => {
    const wf = parse(readFileSync('.github/workflows/sweep.yml', 'utf8')) as {
      jobs: Record<string, { steps: { run?: string; uses?: string; with?: Record<string, unknown> }[]; strategy?: { matrix: { shard: string } } }>;
    };
    expect(wf.jobs.shard!.strategy!.matrix.shard).toContain('fromJSON(needs.plan.outputs.shards)');
    const runs = (job: string) => wf.jobs[job]!.steps.map((s) => s.run ?? '').join('\n');
    expect(runs('shard')).toContain('npm run sweep -- "$SWEEP" "${args[@]}"');
    expect(runs('shard')).toContain('--blob blob-report');
    expect(wf.jobs.shard!.steps.some((s) => s.uses?.startsWith('actions/upload-artifact') && s.with?.name === 'blob-report-${{ matrix.shard }}')).toBe(true);
    expect(runs('merge')).toContain('npx playwright merge-reports --reporter json all-blob-reports > merged-report.json');
    expect(runs('merge')).toContain('study -- --table merged-report.json');

    // Tried: the plan step's script makes the matrix, and refuses a bad count.
    const plan = wf.jobs.plan!.steps.find((s) => s.run?.includes('GITHUB_OUTPUT'))!.run!;
    const out = join(mkdtempSync(join(os.tmpdir(), 'lab-wf-')), 'output');
    execFileSync('bash', ['-c', plan], { env: { ...process.env, SHARDS: '3', GITHUB_OUTPUT: out } });
    expect(readFileSync(out, 'utf8')).toBe('count=3\nshards=[1,2,3]\n');
    expect(() => execFileSync('bash', ['-c', plan], { env: { ...process.env, SHARDS: '0', GITHUB_OUTPUT: out }, stdio: 'pipe' })).toThrow(
      /shards must be a whole number from 1 to 256/,
    );
    // ... and each shard's script passes its shard and the optional model and data on.
    const shard = wf.jobs.shard!.steps.find((s) => s.run?.includes('npm run sweep'))!.run!.replace('npm run sweep --', 'echo');
    const env = { ...process.env, SWEEP: 'f.json', SHARD: '2/4', MODEL: 'https://x/m.safetensors', DATA: '' };
    expect(execFileSync('bash', ['-c', shard], { env, encoding: 'utf8' }).trim()).toBe(
      'f.json --shard 2/4 --results sweep-results --blob blob-report --model https://x/m.safetensors',
    );
  });
});

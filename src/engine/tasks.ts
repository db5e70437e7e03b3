/**
 * The engine's jobs that are not runs: the golden-file check, benchmarks, the WebGPU kernel check
 * and Fréchet distances. Each answers with one event carrying the request's id; a failure is
 * thrown, and the engine reports it as an error for that request.
 */
import type { BackendChoice } from '../backend/select';
import { splitGaussian } from '../analysis/features';
import { frechetDistance } from '../analysis/frechet';
import { matmulRows, profileBenchCase, runBenchCase, type BenchProfile, type BenchRow } from '../bench/bench';
import { pretrainingReference } from '../data/sceneObjective';
import { pretrainObjectiveOf } from '../train/dims';
import { LabError } from '../domain/errors';
import type { BackendName } from '../domain/run';
import { formatKernelCheck, runKernelCheck } from '../kernels/webgpu/check';
import { PRESETS } from '../model/config';
import { disposeParams } from '../model/params';
import { trainDataFromSplits } from '../data/fromSplits';
import { loadModel, openSplits, type RunHost } from '../train/session';
import { describeTrainedParams } from '../train/export';
import { getTask } from '../data/catalog';
import { LIST_NAMES, openVtabTask } from '../data/vtab';
import { formatReport, verifyGolden } from '../verify/golden';
import { readAll } from '../weights/formats/archive';
import { parseSafetensors } from '../weights/formats/safetensors';
import { loadCheckpoint } from '../weights/load';
import type { Command, EngineEvent } from './protocol';

export interface TaskContext {
  ensureBackend(override: BackendName | null, wasmThreads?: number): Promise<BackendChoice>;
  run: RunHost;
  emit(e: EngineEvent): void;
}

/** The commands that are tasks: short work queued before waiting runs. */
export type TaskCommand = Extract<Command, { type: 'verify' | 'bench' | 'kernel-check' | 'frechet' }>;

export async function runTask(c: TaskCommand, ctx: TaskContext): Promise<void> {
  switch (c.type) {
    case 'verify':
      return verify(c, ctx);
    case 'bench':
      return bench(c, ctx);
    case 'kernel-check':
      return kernelCheck(c, ctx);
    case 'frechet':
      return frechet(c, ctx);
  }
}

async function verify(c: Extract<Command, { type: 'verify' }>, ctx: TaskContext): Promise<void> {
  await ctx.ensureBackend(c.backend ?? null);
  const ckpt = await loadCheckpoint(new Uint8Array(await c.weights.arrayBuffer()), { name: c.weightsName });
  const golden = readAll(parseSafetensors(new Uint8Array(await c.golden.arrayBuffer()), 'golden'));
  const report = await verifyGolden(ckpt, golden);
  ctx.emit({ type: 'verify-result', requestId: c.requestId, report, lines: formatReport(report) });
}

async function bench(c: Extract<Command, { type: 'bench' }>, ctx: TaskContext): Promise<void> {
  const choice = await ctx.ensureBackend(c.backend ?? null, c.threads);
  const rows: BenchRow[] = [];
  const profiles: BenchProfile[] = [];
  for (const bc of c.cases) {
    const preset = PRESETS[bc.preset as keyof typeof PRESETS];
    if (!preset) throw new LabError('config/invalid', `Unknown preset '${bc.preset}'.`);
    const cfg = bc.imageSize ? { ...preset, imageSize: bc.imageSize } : preset;
    const benchCase = { preset: bc.preset, cfg, mode: bc.mode, batch: bc.batch, promptLength: bc.promptLength, recompute: bc.recompute };
    const row = await runBenchCase(benchCase, { host: 'chromium', warmup: c.warmup, runs: c.runs, kernels: c.kernels, yardstick: !!c.matmul });
    rows.push(row);
    if (c.profile)
      profiles.push({
        title: `chromium ${row.backend}${row.threads ? ` ${row.threads} thread(s)` : ''} ${bc.preset} ${bc.mode} batch ${bc.batch}`,
        ...(await profileBenchCase(benchCase, c.kernels)),
      });
  }
  // The plain 2-D product at the same thread count, for the steps' GFLOP/s to be compared with.
  if (c.matmul) rows.push(...(await matmulRows('chromium', c.runs)));
  ctx.emit({ type: 'bench-result', requestId: c.requestId, rows, adapter: choice.adapter, profiles });
}

/** The lab's WebGPU kernels against stock tfjs (src/kernels/webgpu/check.ts). */
async function kernelCheck(c: Extract<Command, { type: 'kernel-check' }>, ctx: TaskContext): Promise<void> {
  const choice = await ctx.ensureBackend(c.backend ?? 'webgpu');
  const rows = await runKernelCheck({ full: c.full, timing: c.timing, reps: c.reps, only: c.only });
  ctx.emit({
    type: 'kernel-check-result',
    requestId: c.requestId,
    rows,
    lines: formatKernelCheck(rows),
    pass: rows.length > 0 && rows.every((r) => r.ok),
    adapter: choice.adapter,
  });
}

/** Fréchet distance of each task's CLS features from a reference set's. */
async function frechet(c: Extract<Command, { type: 'frechet' }>, ctx: TaskContext): Promise<void> {
  await ctx.ensureBackend(null);
  const model = await loadModel(c.model, { host: ctx.run, imageSize: c.imageSize || undefined });
  try {
    const adapt = (s: Awaited<ReturnType<typeof openSplits>>) =>
      trainDataFromSplits(s, { imageSize: model.cfg.imageSize, normalization: { mean: model.cfg.mean, std: model.cfg.std } });
    const splitsOf = (taskId: string, data: typeof c.data) =>
      openSplits({ taskId, data, trainSize: 800, valSize: 200, testSize: c.count, seed: c.seed }, { host: ctx.run });
    const pretraining = c.reference.kind === 'pretraining';
    const refSplits =
      c.reference.kind === 'pretraining'
        ? pretrainingReference(pretrainObjectiveOf(c.model), { count: c.count, seed: c.seed })
        : await splitsOf(c.taskIds[0], c.reference);
    const ref = await splitGaussian(model, adapt(refSplits).test, c.count);
    const distances: { taskId: string; distance: number }[] = [];
    for (const taskId of c.taskIds) {
      const g = await splitGaussian(model, adapt(await splitsOf(taskId, c.data)).test, c.count);
      distances.push({ taskId, distance: frechetDistance(ref, g) });
    }
    ctx.emit({
      type: 'frechet-result',
      requestId: c.requestId,
      distances,
      reference: pretraining ? "the bundled model's pretraining data" : 'your reference set',
    });
  } finally {
    disposeParams(model.params);
  }
}

/**
 * Above this size a picked checkpoint is not read twice (now and at Start): the check would hold
 * the whole file and its mapped tensors (about twice its size) while the user is still choosing.
 */
const INSPECT_MAX_BYTES = 128 * 2 ** 20;

/**
 * A picked checkpoint or data source, checked when it is picked, with the same readers and the
 * same named errors as a run: a checkpoint read and mapped to the canonical layout (every tensor
 * finite), or a data source's task folder, its list files and every listed image present. Images
 * are not decoded here (a run does that, and stops or skips at a bad one).
 */
export async function inspectPicked(c: Extract<Command, { type: 'inspect' }>, host: RunHost): Promise<{ text: string; warnings: string[] }> {
  if (c.model) {
    const size = c.model.kind === 'file' ? c.model.file.size : 0;
    if (size > INSPECT_MAX_BYTES)
      return { text: `${(size / 2 ** 20).toFixed(0)} MiB: too large to read twice, so it is checked when the run starts.`, warnings: [] };
    const ckpt = await host.loadCheckpoint(c.model, {});
    let n = 0;
    for (const t of ckpt.tensors.values()) n += t.data.length;
    ckpt.tensors.clear();
    const cfg = ckpt.config;
    return {
      text: `${ckpt.layout} layout: ${cfg.numLayers} blocks of width ${cfg.hiddenSize}, ${cfg.numHeads} heads, ${cfg.imageSize} px in patches of ${cfg.patchSize}, ${(n / 1e6).toFixed(2)} M parameters`,
      warnings: ckpt.ignoredKeys.length ? [`${ckpt.ignoredKeys.length} tensor(s) not used by the lab (e.g. ${ckpt.ignoredKeys[0]})`] : [],
    };
  }
  if (c.importParams) return { text: describeTrainedParams(new Uint8Array(await c.importParams.file.arrayBuffer()), c.importParams.name), warnings: [] };
  if (!c.data) throw new LabError('config/invalid', 'Nothing to check: no checkpoint and no data were sent.');
  const task = getTask(c.taskId);
  if (task.source !== 'vtab') return { text: `${task.name} generates its own images: the picked data is not used.`, warnings: [] };
  const vtab = await openVtabTask(await host.openSource(c.data), task, { skipBad: c.skipBad, decoder: host.decoder });
  const counts = LIST_NAMES.filter((n) => vtab.lists[n]).map((n) => `${n} ${vtab.lists[n]!.length}`);
  const warnings = [...vtab.warnings];
  if (vtab.skipped.length) warnings.push(`${vtab.skipped.length} listed image(s) will be skipped (first: ${vtab.skipped[0]!.reason})`);
  return {
    text: `${task.name} in ${vtab.root || 'the top folder'}: ${counts.join(', ')} images listed${vtab.skipped.length ? '' : ', every one present'}`,
    warnings,
  };
}

/**
 * The engine on WebGPU through Dawn in Node, for GPU machines with no browser (the workspace's
 * GPU recipe, shared/gpu/README.md beside this repo and not part of it: `bash
 * <shared>/gpu/prepare.sh src/cli/gpu-bench.ts`, then `OUT=dir bash .gpu/run.sh [args]` on the
 * GPU machine). Also `npm run bench -- --hosts dawn`.
 *
 * Args: [--presets vit_b16,...] [--modes forward,ft,vpt_deep] [--batch 32] [--runs 5]
 *       [--kernels lab,stock] [--prompts 50] [--profile]
 * Writes $OUT/gpu-bench.json (or ./gpu-bench.json) and prints the table.
 */
import './dawn/globals';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PRESETS, type PresetName } from '../model/config';
import { formatBenchTable, profileBenchCase, runBenchCase, type BenchMode, type BenchRow } from '../bench/bench';
import { withKernels, type KernelChoice } from '../bench/kernels';
import { registerKernelOverrides } from '../model/ops';
import { webgpuKernelOverrides } from '../kernels/webgpu';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const ok = await tf.setBackend('webgpu');
  if (!ok) throw new Error('No WebGPU adapter through Dawn (is a Vulkan driver installed? set VK_ICD_FILENAMES).');
  await tf.ready();
  registerKernelOverrides('webgpu', webgpuKernelOverrides());
  const presets = arg('presets', 'vit_b16').split(',') as PresetName[];
  const modes = arg('modes', 'forward,ft,vpt_deep').split(',') as BenchMode[];
  const kernels = arg('kernels', 'lab,stock').split(',') as KernelChoice[];
  const batch = Number(arg('batch', '32'));
  const runs = Number(arg('runs', '5'));
  const prompts = Number(arg('prompts', '50'));
  const adapterInfo = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  const adapter = adapterInfo ? `${adapterInfo.vendor ?? ''} ${adapterInfo.architecture ?? ''}`.trim() : 'unknown adapter';
  const rows: BenchRow[] = [];
  const profiles: unknown[] = [];
  for (const preset of presets) {
    for (const mode of modes) {
      for (const k of kernels) {
        const c = { preset, cfg: PRESETS[preset], mode, batch, promptLength: prompts };
        const row = await withKernels(k, () => runBenchCase(c, { host: 'node+dawn', warmup: 2, runs }));
        rows.push({ ...row, backend: `webgpu [${adapter}]${k === 'stock' ? ' (stock tfjs)' : ''}` });
        console.error(`${preset} ${mode} ${k}: ${row.medianMs.toFixed(1)} ms, ${row.imagesPerSec.toFixed(1)} img/s, ${(row.gflops / 1000).toFixed(2)} TFLOP/s`);
        if (process.argv.includes('--profile')) profiles.push({ preset, mode, kernelChoice: k, ...(await withKernels(k, () => profileBenchCase(c))) });
      }
    }
  }
  console.log(formatBenchTable(rows));
  const out = path.join(process.env.OUT ?? '.', 'gpu-bench.json');
  writeFileSync(out, JSON.stringify({ adapter, date: new Date().toISOString(), rows, profiles }, null, 2));
  console.error(`wrote ${out}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  },
);

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
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PRESETS, type PresetName } from '../model/config';
import { formatBenchTable, profileBenchCase, runBenchCase, type BenchMode, type BenchRow, type KernelChoice } from '../bench/bench';
import { intArg, listArg, parseArgs, runMain } from './args';
import { startBackend } from './backend';

const USAGE = `usage: gpu-bench [--presets vit_b16,...] [--modes forward,ft,vpt_deep] [--batch 32] [--runs 5]
                 [--kernels lab,stock] [--prompts 50] [--profile]   (writes $OUT/gpu-bench.json)`;

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['presets', 'modes', 'kernels', 'batch', 'runs', 'prompts'], flags: ['profile'], positionals: false });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  const presets: PresetName[] = listArg(args, 'presets', Object.keys(PRESETS) as PresetName[], ['vit_b16']);
  const modes: BenchMode[] = listArg(args, 'modes', ['forward', 'ft', 'vpt_deep'] as const, ['forward', 'ft', 'vpt_deep']);
  const kernels: KernelChoice[] = listArg(args, 'kernels', ['lab', 'stock'] as const, ['lab', 'stock']);
  const batch = intArg(args, 'batch', 32, 1, 4096);
  const runs = intArg(args, 'runs', 5, 1, 1000);
  const prompts = intArg(args, 'prompts', 50, 0, 1000);
  const { adapter: info } = await startBackend('webgpu');
  const adapter = `${info!.vendor} ${info!.architecture}${info!.software ? ' software' : ''}`;
  const rows: BenchRow[] = [];
  const profiles: unknown[] = [];
  for (const preset of presets) {
    for (const mode of modes) {
      for (const k of kernels) {
        const c = { preset, cfg: PRESETS[preset], mode, batch, promptLength: prompts };
        const row = await runBenchCase(c, { host: 'node+dawn', warmup: 2, runs, kernels: k });
        rows.push({ ...row, backend: `webgpu [${adapter}]${k === 'stock' ? ' (stock tfjs)' : ''}` });
        console.error(`${preset} ${mode} ${k}: ${row.medianMs.toFixed(1)} ms, ${row.imagesPerSec.toFixed(1)} img/s, ${(row.gflops / 1000).toFixed(2)} TFLOP/s`);
        if (args.flags.has('profile')) profiles.push({ preset, mode, kernelChoice: k, ...(await profileBenchCase(c, k)) });
      }
    }
  }
  console.log(formatBenchTable(rows));
  const out = path.join(process.env.OUT ?? '.', 'gpu-bench.json');
  writeFileSync(out, JSON.stringify({ adapter, date: new Date().toISOString(), rows, profiles }, null, 2));
  console.error(`wrote ${out}`);
  return 0;
}, USAGE);

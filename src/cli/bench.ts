/**
 * npm run bench [-- --full] [--hosts node,chromium] [--backends ...] [--kernels lab,stock] [--out bench.json]
 *
 * For each model preset × {forward, ft step, vpt_deep step} × backend: median step time after
 * warm-up, images/s, achieved GFLOP/s (analytical FLOPs, see src/bench/bench.ts), the tensor
 * memory peak inside a step and, on WASM, the heap's high-water mark. Node runs WASM and CPU in
 * this process; headless Chromium runs WASM, WebGPU and WebGL through the lab's own worker (the
 * page built and served by Vite's API in this process, so no server outlives the command).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend/node';
import { PRESETS, type PresetName } from '../model/config';
import { formatBenchTable, stepName, profileBenchCase, runBenchCase, type BenchMode, type BenchRow, type KernelChoice, type KernelShare } from '../bench/bench';
import { formatBreakdown } from '../bench/memprobe';
import { zipBench } from '../bench/zip';
import { REPO_ROOT } from '../train/host.node.js';
import { quoted } from '../domain/errors';
import { intArg, listArg, parseArgs, runMain, usageError } from './args';
import { checkWritable } from './files';
import { runChild } from './processes';
import { dawnEnvironment } from '../backend/vulkan';

const USAGE = `usage: npm run bench -- [options]

  --full                 add ViT-B/16 at 224 px (slow on a CPU: minutes per step on WASM)
  --hosts node,chromium,dawn  where to run (default node,chromium; chromium = headless Debian Chromium
                         via Playwright; dawn = Node with Dawn's WebGPU from the npm 'webgpu' package)
  --backends LIST        node: wasm,cpu; chromium: wasm,webgpu,webgl (default: wasm,cpu,webgpu)
  --kernels lab,stock    the engine's own kernels and/or plain tfjs ops (default lab,stock)
  --modes LIST           forward,ft,vpt_deep (default all three)
  --presets LIST         fixture_tiny,vit_ti16,vit_s16,vit_b16 (default: tiny and Ti, plus B with --full)
  --batch LIST           batch sizes, e.g. 1,2,4 (default 8)
  --recompute LIST       off,on: training steps without and/or with activation recomputation
                         (default off; both in one run give the memory saved and the time it costs)
  --runs N               measured steps per case, after 1 warm-up step (default 3)
  --profile              also print where one step's time goes, kernel by kernel (Node hosts)
  --memory               also print what was live at each case's memory peak, by kernel
  --zip                  instead: what reading images from a zip costs per image (the lab's zip reader,
                         inflate alone, JPEG decoding), in this process
  --out FILE             JSON results (default bench-results.json)

Default presets: the fixtures' tiny ViT (64 px) and ViT-Ti/16 (224 px); CPU and the software
WebGPU adapter only run the tiny one (they are 10–30x slower than WASM).`;

interface Plan {
  preset: PresetName;
  mode: BenchMode;
  batch: number;
  promptLength: number;
  recompute?: boolean;
}

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), { values: ['hosts', 'backends', 'kernels', 'modes', 'batch', 'runs', 'out', 'presets', 'recompute'], flags: ['full', 'profile', 'memory', 'zip'] });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.flags.has('zip')) {
    console.log('| per image | ms |\n|---|---:|');
    for (const r of await zipBench()) console.log(`| ${r.what} | ${r.msPerImage.toFixed(3)} |`);
    return 0;
  }
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const hosts = listArg(args, 'hosts', ['node', 'chromium', 'dawn'] as const, ['node', 'chromium']);
  const backends = listArg(args, 'backends', ['wasm', 'cpu', 'webgpu', 'webgl'] as const, ['wasm', 'cpu', 'webgpu']);
  const kernels: KernelChoice[] = listArg(args, 'kernels', ['lab', 'stock'] as const, ['lab', 'stock']);
  const modes: BenchMode[] = listArg(args, 'modes', ['forward', 'ft', 'vpt_deep'] as const, ['forward', 'ft', 'vpt_deep']);
  const batches = (args.values.get('batch') ?? '8').split(',').map((b) => {
    const n = Number(b);
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw usageError(`--batch takes integers from 1 to 1024, comma-separated, got ${quoted(b, 40)}.`);
    return n;
  });
  const recomputes = listArg(args, 'recompute', ['off', 'on'] as const, ['off']);
  const runs = intArg(args, 'runs', 3, 1, 100);
  const out = args.values.get('out') ?? 'bench-results.json';
  const presets: PresetName[] = listArg(args, 'presets', Object.keys(PRESETS) as PresetName[], ['fixture_tiny', 'vit_ti16', ...(args.flags.has('full') ? (['vit_b16'] as PresetName[]) : [])]);
  // A host that can run none of the chosen backends would print an empty table: say so instead.
  const runnable = { node: ['wasm', 'cpu'], chromium: ['wasm', 'webgpu', 'webgl'], dawn: ['webgpu'] } as const;
  for (const h of hosts) {
    if (h !== 'dawn' && !backends.some((b) => (runnable[h] as readonly string[]).includes(b))) throw usageError(`--hosts ${h} runs ${runnable[h].join(', ')}, none of which is in --backends ${backends.join(',')}.`);
  }
  await checkWritable(out, '--out');
  const plans: Plan[] = presets.flatMap((preset) =>
    modes.flatMap((mode) =>
      batches.flatMap((batch) =>
        (mode === 'forward' ? ['off'] : recomputes).map((r) => ({ preset, mode, batch, promptLength: preset === 'fixture_tiny' ? 4 : 50, ...(r === 'on' ? { recompute: true } : {}) })),
      ),
    ),
  );
  /** Slow backends (plain JS CPU, software WebGPU) only get the tiny model. */
  const fits = (backend: string, preset: PresetName) => preset === 'fixture_tiny' || backend === 'wasm' || backend === 'webgl';

  const rows: BenchRow[] = [];
  const profiles: { title: string; totalMs: number; kernels: KernelShare[] }[] = [];
  const kernelLabel = (k: KernelChoice, r: BenchRow): BenchRow => ({ ...r, backend: `${r.backend}${k === 'stock' ? ' (stock tfjs)' : ''}` });
  if (hosts.includes('node')) {
    for (const backend of backends.filter((b) => b === 'wasm' || b === 'cpu')) {
      await initNodeBackend(backend as 'wasm' | 'cpu');
      for (const p of plans.filter((p) => fits(backend, p.preset))) {
        for (const k of kernels) {
          const row = await runBenchCase({ ...p, cfg: PRESETS[p.preset] }, { host: 'node', warmup: 1, discardLeftovers: true, runs, kernels: k });
          if (args.flags.has('profile')) {
            const prof = await profileBenchCase({ ...p, cfg: PRESETS[p.preset] }, k);
            profiles.push({ title: `node ${backend}${k === 'stock' ? ' (stock tfjs)' : ''} ${p.preset} ${p.mode} batch ${p.batch}`, ...prof });
          }
          rows.push(kernelLabel(k, row));
          console.error(`node ${backend} ${k} ${p.preset} ${stepName(row)} batch ${p.batch}: ${describeRow(row)}`);
        }
      }
    }
    rows.push(...(await matmulRows(runs)));
  }
  if (hosts.includes('dawn')) rows.push(...(await dawnRows(plans, kernels, runs, fits)));
  if (hosts.includes('chromium')) {
    const browserBackends = backends.filter((b) => b === 'wasm' || b === 'webgpu' || b === 'webgl');
    if (browserBackends.length) rows.push(...(await chromiumRows(browserBackends, plans, kernels, runs, fits)));
  }
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`;
  console.log(`machine: ${machine}`);
  console.log(formatBenchTable(rows));
  if (args.flags.has('memory')) {
    for (const r of rows.filter((r) => r.atPeak)) console.log(`\n${r.host} ${r.backend} ${r.preset} ${stepName(r)} batch ${r.batch}: tensor peak ${(r.peakBytes / 1e6).toFixed(0)} MB${r.heapBytes ? `, heap ${(r.heapBytes / 1e6).toFixed(0)} MB` : ''}\n${formatBreakdown(r.atPeak!)}`);
  }
  for (const p of profiles) {
    console.log(`\n${p.title}: ${p.totalMs.toFixed(0)} ms of kernel time\n\n| kernel | calls | ms | share |\n|---|---:|---:|---:|`);
    for (const k of p.kernels.slice(0, 12)) console.log(`| ${k.kernel} | ${k.calls} | ${k.ms.toFixed(0)} | ${(100 * k.share).toFixed(1)} % |`);
  }
  await writeFile(out, JSON.stringify({ machine, date: new Date().toISOString(), rows, profiles }, null, 2));
  console.error(`wrote ${out}`);
  return 0;
}, USAGE);

/** The WASM backend's own plain and transposed 2-D matmul throughput: the ceiling to compare with. */
async function matmulRows(runs: number): Promise<BenchRow[]> {
  await initNodeBackend('wasm');
  const n = 512;
  const a = tf.randomNormal([n, n]), b = tf.randomNormal([n, n]);
  const rows: BenchRow[] = [];
  for (const [ta, tb, name] of [[false, false, 'matmul 512³'], [true, false, 'matmul 512³ (Aᵀ)'], [false, true, 'matmul 512³ (Bᵀ)']] as const) {
    const times: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b, ta, tb);
      await c.data();
      c.dispose();
      if (i > 0) times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const ms = times[Math.floor(times.length / 2)];
    rows.push({ host: 'node', backend: 'wasm', preset: name, mode: 'forward', batch: 1, imageSize: 0, medianMs: ms, imagesPerSec: NaN, gflops: (2 * n ** 3) / (ms / 1000) / 1e9, peakBytes: tf.memory().numBytes, runs });
  }
  tf.dispose([a, b]);
  return rows;
}

async function chromiumRows(backends: string[], plans: Plan[], kernels: KernelChoice[], runs: number, fits: (b: string, p: PresetName) => boolean): Promise<BenchRow[]> {
  const { chromium } = await import('@playwright/test');
  const vite = await import('vite');
  // Always build: a dist/ left from an earlier checkout would measure other code (5 s on 2 cores).
  console.error('building the lab (vite build) for the browser benchmarks...');
  await vite.build({ root: REPO_ROOT, logLevel: 'warn' });
  // Vite's preview server in this process, on a port the OS picks: it cannot outlive the command.
  const server = await vite.preview({ root: REPO_ROOT, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, open: false } });
  const rows: BenchRow[] = [];
  let browser: Awaited<ReturnType<typeof chromium.launch>> | null = null;
  try {
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('The preview server did not report its address.');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => '__engine' in window);
    for (const backend of backends) {
      for (const k of kernels) {
        const cases = plans.filter((p) => fits(backend, p.preset)).map((p) => ({ preset: p.preset, mode: p.mode, batch: p.batch, promptLength: p.promptLength, recompute: p.recompute }));
        try {
          const res = (await page.evaluate(
            ([backend, cases, runs, k]) =>
              (window as unknown as { __engine: { request(c: unknown): Promise<{ rows: BenchRow[]; adapter: string }> } }).__engine.request({
                type: 'bench',
                requestId: `bench-${backend}-${k}`,
                backend,
                cases,
                warmup: 1,
                runs,
                kernels: k,
              }),
            [backend, cases, runs, k] as const,
          )) as { rows: BenchRow[]; adapter: string };
          for (const r of res.rows) {
            const row: BenchRow = { ...r, backend: `${r.backend}${r.backend === 'webgpu' ? ` [${res.adapter}]` : ''}${k === 'stock' ? ' (stock tfjs)' : ''}` };
            rows.push(row);
            console.error(`chromium ${row.backend} ${row.preset} ${stepName(row)} batch ${row.batch}: ${describeRow(row)}`);
          }
          if (!res.rows.some((r) => r.backend === backend)) console.error(`chromium: asked for ${backend}, the lab ran ${res.rows[0]?.backend} (${res.adapter})`);
        } catch (e) {
          console.error(`chromium ${backend}: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    await browser?.close();
    await server.close();
  }
  return rows;
}

function describeRow(r: BenchRow): string {
  if (r.error) return `failed: ${r.error}`;
  const heap = r.heapBytes ? `, heap ${(r.heapBytes / 1e6).toFixed(0)} MB` : '';
  return `${r.medianMs.toFixed(1)} ms, ${r.imagesPerSec.toFixed(2)} img/s, ${r.gflops.toFixed(2)} GFLOP/s, tensor peak ${(r.peakBytes / 1e6).toFixed(0)} MB${heap}`;
}

/**
 * WebGPU through Dawn in a child process (Dawn must be on navigator.gpu before tfjs loads). With
 * no GPU driver, Chromium's SwiftShader Vulkan driver is used when present, and the rows say so.
 */
async function dawnRows(plans: Plan[], kernels: KernelChoice[], runs: number, fits: (b: string, p: PresetName) => boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // Vulkan as installed, else Chromium's SwiftShader (src/backend/vulkan.ts).
  const { env } = dawnEnvironment(process.env);
  const groups = new Map<string, Plan[]>();
  for (const p of plans.filter((p) => fits('webgpu', p.preset) && !p.recompute)) groups.set(`${p.preset}/${p.batch}/${p.promptLength}`, [...(groups.get(`${p.preset}/${p.batch}/${p.promptLength}`) ?? []), p]);
  for (const group of groups.values()) {
    const p0 = group[0];
    const out = path.join(os.tmpdir(), `dawn-${process.pid}-${p0.preset}`);
    await mkdir(out, { recursive: true });
    try {
      const argv = ['--import', 'tsx', 'src/cli/gpu-bench.ts', '--presets', p0.preset, '--modes', group.map((p) => p.mode).join(','), '--batch', String(p0.batch), '--runs', String(runs), '--kernels', kernels.join(','), '--prompts', String(p0.promptLength)];
      const code = await runChild(process.execPath, argv, { cwd: REPO_ROOT, env: { ...env, OUT: out } });
      if (code !== 0) throw new Error(`the Dawn benchmark exited with ${code}`);
      const res = JSON.parse(await readFile(path.join(out, 'gpu-bench.json'), 'utf8')) as { rows: BenchRow[] };
      rows.push(...res.rows);
    } catch (e) {
      console.error(`dawn: ${(e as Error).message}`);
    }
  }
  return rows;
}

/**
 * npm run bench [-- --full] [--hosts node,chromium] [--backends ...] [--kernels lab,stock] [--out bench.json]
 *
 * For each model preset × {forward, ft step, vpt_deep step} × backend: median step time after
 * warm-up, images/s, achieved GFLOP/s (analytical FLOPs, see src/bench/bench.ts), the tensor
 * memory peak inside a step and, on WASM, the heap's high-water mark. Node runs WASM and CPU in
 * this process and WebGPU through Dawn (in a child process when WASM or CPU run too: Vulkan's
 * environment is fixed when a process starts); headless Chromium runs WASM, WebGPU and WebGL
 * through the lab's own worker (the page built and served by Vite's API in this process, so no
 * server outlives the command).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initNodeBackend, nodeWasmThreading } from '../backend/node';
import { WASM_MAX_THREADS } from '../backend/threads';
import { PRESETS, type PresetName } from '../model/config';
import {
  formatBenchTable,
  formatThreadScaling,
  isPlainMatmul,
  matmulRows,
  MATMUL_N,
  stepName,
  profileBenchCase,
  runBenchCase,
  type BenchMode,
  type BenchProfile,
  type BenchRow,
  type KernelChoice,
} from '../bench/bench';
import { formatBreakdown } from '../bench/memprobe';
import { REPO_ROOT } from '../train/host.node.js';
import { quoted } from '../domain/errors';
import { intArg, listArg, parseArgs, runMain, usageError, type ParsedArgs } from './args';
import { startBackend } from './backend';
import { checkWritable, writeFileAtomicAsync } from './files';
import { runChild } from './processes';
import { selfArgv } from './self';
import { dawnEnvironment, findVulkan, vulkanReady } from '../backend/vulkan';

const USAGE = `usage: npm run bench -- [options]

  --full                 add ViT-B/16 at 224 px (slow on a CPU: minutes per step on WASM)
  --hosts node,chromium  where to run (default both; chromium = headless Debian Chromium via Playwright)
  --backends LIST        node: wasm,cpu,webgpu (WebGPU through Dawn: see the README's "WebGPU in Node");
                         chromium: wasm,webgpu,webgl (default: wasm,cpu,webgpu; Node's webgpu by
                         default only with a Vulkan driver, SwiftShader only when named here)
  --kernels lab,stock    the engine's own kernels and/or plain tfjs ops (default lab,stock)
  --modes LIST           forward,ft,vpt_deep,linear (default forward,ft,vpt_deep)
  --presets LIST         fixture_tiny,vit_ti16,vit_s16,vit_b16 (default: tiny and Ti, plus B with --full)
  --batch LIST           batch sizes, e.g. 1,2,4 (default 8)
  --recompute LIST       off,on: training steps without and/or with activation recomputation
                         (default off; both in one run give the memory saved and the time it costs)
  --runs N               measured steps per case, 1 to 100, after 1 warm-up step (default 3)
  --threads LIST         WASM threads, e.g. 1,2: every WASM case (and the plain matmul it is compared
                         with) at each count, then a scaling table: speed against 1 thread and GFLOP/s
                         as a fraction of the matmul's at the same count (default: one per logical
                         core, up to 8; 1 is tfjs' single-threaded SIMD build)
  --profile              also print where one step's time goes, kernel by kernel
  --memory               also print what was live at each case's memory peak, by kernel
  --zip                  instead: what reading images from a zip costs per image (the lab's zip reader,
                         inflate alone, JPEG decoding), in this process
  --out FILE             JSON results (default bench-results.json)

Default presets: the fixtures' tiny ViT (64 px) and ViT-Ti/16 (224 px); CPU and a software
WebGPU adapter only run the tiny one (they are 10–300x slower than WASM).`;

interface Plan {
  preset: PresetName;
  mode: BenchMode;
  batch: number;
  promptLength: number;
  recompute?: boolean;
}

runMain(async () => {
  const args = parseArgs(process.argv.slice(2), {
    values: ['hosts', 'backends', 'kernels', 'modes', 'batch', 'runs', 'out', 'presets', 'recompute', 'threads'],
    flags: ['full', 'profile', 'memory', 'zip'],
  });
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.flags.has('zip')) {
    console.log('| per image | ms |\n|---|---:|');
    // Loaded here: it compares with fflate, a development dependency the other benchmarks do not need.
    const { zipBench } = await import('../bench/zip');
    for (const r of await zipBench()) console.log(`| ${r.what} | ${r.msPerImage.toFixed(3)} |`);
    return 0;
  }
  if (args.positional.length) throw usageError(`Unexpected argument ${quoted(args.positional[0]!, 60)}.`);
  const hosts = listArg(args, 'hosts', ['node', 'chromium'] as const, ['node', 'chromium']);
  const backends = listArg(args, 'backends', ['wasm', 'cpu', 'webgpu', 'webgl'] as const, ['wasm', 'cpu', 'webgpu']);
  const kernels: KernelChoice[] = listArg(args, 'kernels', ['lab', 'stock'] as const, ['lab', 'stock']);
  const modes: BenchMode[] = listArg(args, 'modes', ['forward', 'ft', 'vpt_deep', 'linear'] as const, ['forward', 'ft', 'vpt_deep']);
  const batches = (args.values.get('batch') ?? '8').split(',').map((b) => {
    const n = /^\d{1,4}$/.test(b.trim()) ? Number(b) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw usageError(`--batch takes integers from 1 to 1024, comma-separated, got ${quoted(b, 40)}.`);
    return n;
  });
  const recomputes = listArg(args, 'recompute', ['off', 'on'] as const, ['off']);
  const runs = intArg(args, 'runs', 3, 1, 100);
  const threadCounts: (number | undefined)[] = args.values.has('threads')
    ? args.values
        .get('threads')!
        .split(',')
        .map((t) => {
          const n = /^\d{1,4}$/.test(t.trim()) ? Number(t) : NaN;
          if (!Number.isInteger(n) || n < 1 || n > WASM_MAX_THREADS)
            throw usageError(`--threads takes integers from 1 to ${WASM_MAX_THREADS}, comma-separated, got ${quoted(t, 40)}.`);
          return n;
        })
    : [undefined];
  const out = args.values.get('out') ?? 'bench-results.json';
  const presets: PresetName[] = listArg(args, 'presets', Object.keys(PRESETS) as PresetName[], [
    'fixture_tiny',
    'vit_ti16',
    ...(args.flags.has('full') ? (['vit_b16'] as PresetName[]) : []),
  ]);
  // A host that can run none of the chosen backends would print an empty table: say so instead.
  const runnable = { node: ['wasm', 'cpu', 'webgpu'], chromium: ['wasm', 'webgpu', 'webgl'] } as const;
  for (const h of hosts) {
    if (!backends.some((b) => (runnable[h] as readonly string[]).includes(b)))
      throw usageError(`--hosts ${h} runs ${runnable[h].join(', ')}, none of which is in --backends ${backends.join(',')}.`);
  }
  await checkWritable(out, '--out');
  const plans: Plan[] = presets.flatMap((preset) =>
    modes.flatMap((mode) =>
      batches.flatMap((batch) =>
        (mode === 'forward' ? ['off'] : recomputes).map((r) => ({
          preset,
          mode,
          batch,
          promptLength: preset === 'fixture_tiny' ? 4 : 50,
          ...(r === 'on' ? { recompute: true } : {}),
        })),
      ),
    ),
  );
  /** Slow backends (plain JS CPU, software WebGPU) only get the tiny model; Chromium's WebGPU adapter is not known up front. */
  const fits = (backend: string, preset: PresetName, hardwareGpu = false) =>
    preset === 'fixture_tiny' || backend === 'wasm' || backend === 'webgl' || (backend === 'webgpu' && hardwareGpu);

  const rows: BenchRow[] = [];
  const profiles: BenchProfile[] = [];
  const kernelLabel = (k: KernelChoice, r: BenchRow): BenchRow => ({ ...r, backend: `${r.backend}${k === 'stock' ? ' (stock tfjs)' : ''}` });
  if (hosts.includes('node')) {
    const cpuSide = backends.filter((b) => b === 'wasm' || b === 'cpu');
    // Node's WebGPU when asked for by name, or by default where a Vulkan driver is installed (not
    // Chromium's software one alone: 30-300x slower than WASM, and Chromium's host measures it).
    const gpu = backends.includes('webgpu') && (args.values.has('backends') || vulkanReady(findVulkan()));
    if (backends.includes('webgpu') && !gpu)
      console.error("node webgpu: skipped (no Vulkan driver here; --backends webgpu runs it on Chromium's software one)");
    /** Every case on the active backend, in this process; `note` goes into the profile titles and progress lines. */
    const measure = async (backend: string, label: string, hardwareGpu: boolean, note = '') => {
      for (const p of plans.filter((p) => fits(backend, p.preset, hardwareGpu))) {
        for (const k of kernels) {
          const row = {
            ...(await runBenchCase(
              { ...p, cfg: PRESETS[p.preset] },
              { host: 'node', warmup: 1, discardLeftovers: true, runs, kernels: k, yardstick: backend === 'wasm' },
            )),
            backend: label,
          };
          if (args.flags.has('profile')) {
            const prof = await profileBenchCase({ ...p, cfg: PRESETS[p.preset] }, k);
            profiles.push({ title: `node ${label}${k === 'stock' ? ' (stock tfjs)' : ''}${note} ${p.preset} ${p.mode} batch ${p.batch}`, ...prof });
          }
          rows.push(kernelLabel(k, row));
          console.error(`node ${label}${note} ${k} ${p.preset} ${stepName(row)} batch ${p.batch}: ${describeRow(row)}`);
        }
      }
    };
    if (gpu && cpuSide.length === 0) {
      // WebGPU alone: here (startBackend restarts the command on SwiftShader when it must).
      const { adapter } = await startBackend('webgpu', { kernels });
      await measure('webgpu', `webgpu [${adapter!.vendor} ${adapter!.architecture}${adapter!.software ? ', software' : ''}]`, !adapter!.software);
    }
    for (const backend of cpuSide) {
      // WASM at each thread count asked for, each with the plain matmul it is compared with; the CPU backend has no threads.
      for (const threads of backend === 'wasm' ? threadCounts : [undefined]) {
        await initNodeBackend(backend, { threads: threads ?? 'auto' });
        await measure(backend, backend, false, backend === 'wasm' ? ` ${nodeWasmThreading()?.threads} thread(s)` : '');
        if (backend === 'wasm') rows.push(...(await matmulRows('node', runs)));
      }
    }
    if (gpu && cpuSide.length) {
      const child = await dawnChild(args);
      rows.push(...child.rows);
      profiles.push(...child.profiles);
    }
  }
  if (hosts.includes('chromium')) {
    const browserBackends = backends.filter((b) => b === 'wasm' || b === 'webgpu' || b === 'webgl');
    if (browserBackends.length)
      rows.push(...(await chromiumRows(browserBackends, plans, kernels, runs, fits, threadCounts, args.flags.has('profile') ? profiles : null)));
  }
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`;
  console.log(`machine: ${machine}`);
  console.log(formatBenchTable(rows));
  const scaling = formatThreadScaling(rows);
  if (scaling)
    console.log(
      `\nWASM thread scaling (speed against 1 thread; GFLOP/s against the plain ${MATMUL_N}³ matmul at the same thread count, timed in bursts between the case's own steps):\n\n${scaling}`,
    );
  if (args.flags.has('memory')) {
    for (const r of rows.filter((r) => r.atPeak))
      console.log(
        `\n${r.host} ${r.backend} ${r.preset} ${stepName(r)} batch ${r.batch}: tensor peak ${(r.peakBytes / 1e6).toFixed(0)} MB${r.heapBytes ? `, heap ${(r.heapBytes / 1e6).toFixed(0)} MB` : ''}\n${formatBreakdown(r.atPeak!)}`,
      );
  }
  for (const p of profiles) {
    console.log(`\n${p.title}: ${p.totalMs.toFixed(0)} ms of kernel time\n\n| kernel | calls | ms | share |\n|---|---:|---:|---:|`);
    for (const k of p.kernels.slice(0, 12)) console.log(`| ${k.kernel} | ${k.calls} | ${k.ms.toFixed(0)} | ${(100 * k.share).toFixed(1)} % |`);
  }
  await writeFileAtomicAsync(out, JSON.stringify({ machine, date: new Date().toISOString(), rows, profiles }, null, 2), '--out');
  console.error(`wrote ${out}`);
  return 0;
}, USAGE);

async function chromiumRows(
  backends: string[],
  plans: Plan[],
  kernels: KernelChoice[],
  runs: number,
  fits: (b: string, p: PresetName) => boolean,
  threadCounts: (number | undefined)[],
  profiles: BenchProfile[] | null,
): Promise<BenchRow[]> {
  const { chromium } = await import('@playwright/test');
  const vite = await import('vite');
  // Always build: a dist/ left from an earlier checkout would measure other code.
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
      args: [
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => '__engine' in window);
    for (const backend of backends) {
      // WASM at each thread count asked for (the page is cross-origin isolated: the preview server
      // sends COOP/COEP); the GPU backends have none.
      for (const threads of backend === 'wasm' ? threadCounts : [undefined]) {
        for (const k of kernels) {
          const cases = plans
            .filter((p) => fits(backend, p.preset))
            .map((p) => ({ preset: p.preset, mode: p.mode, batch: p.batch, promptLength: p.promptLength, recompute: p.recompute }));
          try {
            const res = (await page.evaluate(
              ([request]) =>
                (
                  window as unknown as { __engine: { request(c: unknown): Promise<{ rows: BenchRow[]; adapter: string; profiles?: BenchProfile[] }> } }
                ).__engine.request(request),
              [
                {
                  type: 'bench',
                  requestId: `bench-${backend}-${k}-${threads ?? 'auto'}`,
                  backend,
                  cases,
                  warmup: 1,
                  runs,
                  kernels: k,
                  threads,
                  matmul: backend === 'wasm' && k === 'lab',
                  profile: !!profiles,
                },
              ] as const,
            )) as { rows: BenchRow[]; adapter: string; profiles?: BenchProfile[] };
            for (const r of res.rows) {
              const row: BenchRow = {
                ...r,
                backend: `${r.backend}${r.backend === 'webgpu' ? ` [${res.adapter}]` : ''}${k === 'stock' && !isPlainMatmul(r) ? ' (stock tfjs)' : ''}`,
              };
              rows.push(row);
              console.error(
                `chromium ${row.backend}${row.threads ? ` ${row.threads} thread(s)` : ''} ${row.preset} ${stepName(row)} batch ${row.batch}: ${describeRow(row)}`,
              );
            }
            profiles?.push(...(res.profiles ?? []).map((p) => ({ ...p, title: `${p.title}${k === 'stock' ? ' (stock tfjs)' : ''}` })));
            if (!res.rows.some((r) => r.backend === backend))
              console.error(`chromium: asked for ${backend}, the lab ran ${res.rows[0]?.backend} (${res.adapter})`);
            if (threads && !res.rows.some((r) => r.threads === threads))
              console.error(`chromium: asked for ${threads} WASM threads, the lab ran ${res.rows[0]?.threads} (${res.adapter})`);
          } catch (e) {
            console.error(`chromium ${backend}: ${(e as Error).message}`);
          }
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
 * Node's WebGPU cases in a child process: this same command with `--hosts node --backends
 * webgpu`, in Vulkan's environment (as installed, else Chromium's SwiftShader), since a process's
 * library path is fixed at its start. Its rows and profiles come back through a JSON file.
 */
async function dawnChild(args: ParsedArgs): Promise<{ rows: BenchRow[]; profiles: BenchProfile[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-dawn-'));
  const out = path.join(dir, 'rows.json');
  const override: Record<string, string> = { hosts: 'node', backends: 'webgpu', out };
  const argv = [
    ...[...args.values].filter(([k]) => !(k in override)).flatMap(([k, v]) => [`--${k}`, v]),
    ...[...args.flags].map((f) => `--${f}`),
    ...Object.entries(override).flatMap(([k, v]) => [`--${k}`, v]),
  ];
  try {
    const code = await runChild(process.execPath, selfArgv(argv), { env: dawnEnvironment(process.env).env });
    if (code !== 0) throw new Error(`it exited with ${code}`);
    return JSON.parse(await readFile(out, 'utf8'));
  } catch (e) {
    console.error(`node webgpu: ${(e as Error).message}`);
    return { rows: [], profiles: [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

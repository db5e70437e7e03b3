/**
 * `--backend webgpu` in Node through Dawn, run as a user runs the CLIs: the golden fixtures pass
 * with the lab's WebGPU kernels, and a 2-epoch training run gives WASM's losses within the WebGPU
 * tolerance. On a machine without a GPU, Dawn runs on Chromium's software Vulkan driver
 * (SwiftShader, 30-100x slower than WASM), so the shapes are the fixtures' tiny ViT; also where
 * Vulkan drivers are installed but give no adapter (Mesa's without a GPU), which a made-up driver
 * list reproduces on any machine. The GPU tests skip, saying so, only when no driver here gives an
 * adapter (neither an installed one nor Chromium's).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDawnEnvironment, SWIFTSHADER_ICDS } from '../backend/vulkan';
import { toleranceFor } from '../verify/golden';
import { FIXTURES } from '../weights/testutil';
import { type CliRun, errorLine, REPO, runCli } from './testutil';
import { parseSafetensors } from '../weights/formats/safetensors';
import { readAll } from '../weights/formats/archive';

// Where Dawn gives an adapter, found as the CLIs find it: the installed drivers, else SwiftShader
// (also when drivers are installed but give none, as Mesa's do on a machine without a GPU).
const dawn = await resolveDawnEnvironment(process.env);
const noDriver = !dawn.adapter;
const SKIP =
  "no Vulkan driver here gives an adapter (neither an installed one nor Chromium's SwiftShader at /usr/lib/chromium): install a driver, or Debian's chromium, to run the WebGPU tests";
if (noDriver) console.warn(`webgpu.test.ts: skipping the Dawn runs: ${SKIP}`);
else if (dawn.notice) console.warn(`webgpu.test.ts: ${dawn.notice}`);
const swiftshader = SWIFTSHADER_ICDS.find((f) => existsSync(f));

const dir = mkdtempSync(join(tmpdir(), 'webgpu-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = join(FIXTURES, 'hf_tiny_model.safetensors');
const golden = join(FIXTURES, 'hf_tiny_golden.safetensors');
/** SwiftShader compiles every shader on the CPU: a run takes tens of seconds on two busy cores. */
const SLOW = { timeoutMs: 400_000 };

/**
 * Dawn reports an invalid shader or pipeline on the console and carries on: the kernel's output is
 * then garbage, not an exception (tfjs' AddN with more inputs than WebGPU's 8 storage buffers did
 * this to gradient clipping). A run must print none.
 */
function expectNoGpuErrors(run: CliRun): void {
  expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/\bInvalid (ComputePipeline|BindGroup|CommandBuffer|ShaderModule)|While (calling|validating|encoding)/);
}

describe('npm run verify -- --backend webgpu', () => {
  it('passes the golden fixtures with the lab WebGPU kernels at the WebGPU tolerance', { timeout: 420_000 }, async (ctx) => {
    ctx.skip(noDriver, SKIP);
    // The environment as the user has it: with no driver installed, the CLI itself starts again
    // on SwiftShader (and says so).
    const run = await runCli('verify', ['--backend', 'webgpu', '--weights', model, '--golden', golden], SLOW);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expectNoGpuErrors(run);
    expect(run.stderr).toMatch(/webgpu: Dawn on .+, (software|hardware)/);
    if (dawn.software) expect(run.stderr).toContain('SwiftShader');
    expect(run.stderr).toMatch(/webgpu: memory budget WebGPU: .*buffers up to \d+ MiB/);
    expect(run.stdout).toMatch(new RegExp(`verify: \\d+ tensors, worst .* \\(tolerance ${toleranceFor('webgpu').toExponential(0)} on webgpu\\), PASS`));
    // Every one of the lab's four kernels took calls (none silently fell back to stock tfjs).
    const calls = /lab WebGPU kernel calls: matmul (\d+), attention (\d+), LayerNorm (\d+), GELU (\d+)/.exec(run.stdout);
    expect(calls, run.stdout.slice(-1000)).not.toBeNull();
    for (const n of calls!.slice(1)) expect(Number(n)).toBeGreaterThan(0);
  });
});

describe('--backend webgpu where the installed drivers give no adapter', () => {
  it('runs again on SwiftShader, says why, and passes the golden fixtures', { timeout: 420_000 }, async (ctx) => {
    ctx.skip(!swiftshader || noDriver, SKIP);
    // A driver list whose one manifest names a library that is not there, and a Vulkan loader
    // (Chromium's, as if libvulkan1 were installed): the loader finds the driver and no device, as
    // it finds Mesa's lavapipe/Intel/Radeon on a machine without a GPU.
    const fake = join(dir, 'fake_icd.json');
    writeFileSync(fake, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: join(dir, 'libvulkan_fake.so'), api_version: '1.3.0' } }));
    const run = await runCli('verify', ['--backend', 'webgpu', '--weights', model, '--golden', golden], {
      ...SLOW,
      env: { VK_ICD_FILENAMES: fake, VK_DRIVER_FILES: fake, LD_LIBRARY_PATH: dirname(swiftshader!) },
    });
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expectNoGpuErrors(run);
    expect(run.stderr).toContain(`Vulkan found the driver ${fake} but none gave an adapter`);
    expect(run.stderr).toMatch(/running again on Chromium's software Vulkan driver \(SwiftShader, .+vk_swiftshader_icd\.json\)/);
    expect(run.stderr).toMatch(/webgpu: Dawn on .+, software/);
    expect(run.stdout).toMatch(/verify: \d+ tensors, worst .* \(tolerance \S+ on webgpu\), PASS/);
  });
});

describe('npm run train -- --backend webgpu', () => {
  it('trains 2 epochs with the same losses as WASM, within the WebGPU tolerance', { timeout: 420_000 }, async (ctx) => {
    ctx.skip(noDriver, SKIP);
    const args = [
      '--model',
      model,
      '--task',
      'dsprites_location',
      '--method',
      'ft',
      '--epochs',
      '2',
      '--train-size',
      '16',
      '--val-size',
      '8',
      '--test-size',
      '8',
      '--batch',
      '8',
      '--seed',
      '3',
    ];
    const out = (b: string) => join(dir, `train-${b}.json`);
    const wasm = await runCli('train', [...args, '--backend', 'wasm', '--out', out('wasm')], SLOW);
    expect(wasm.code, wasm.stderr.slice(-2000)).toBe(0);
    // Dawn's environment given up front (no restart), as the GPU package's run.sh does.
    const gpu = await runCli('train', [...args, '--backend', 'webgpu', '--gpu-memory', '3', '--out', out('webgpu')], {
      ...SLOW,
      env: dawn.env as Record<string, string>,
    });
    expect(gpu.code, gpu.stderr.slice(-3000)).toBe(0);
    expect(gpu.stderr).not.toContain('running again');
    expectNoGpuErrors(gpu);
    // The planner's budget is the device's (3 GiB given) and the adapter's buffer limit, printed before the run.
    expect(gpu.stderr).toMatch(/webgpu: memory budget WebGPU: 3072 MiB of device memory \(--gpu-memory\), buffers up to \d+ MiB/);
    expect(gpu.stderr).toMatch(/memory: about .* of 3\.00 GiB \(webgpu\)/);
    type Result = { backend: string; epochs: { trainLoss: number }[] };
    const [a, b] = [out('wasm'), out('webgpu')].map((f) => JSON.parse(readFileSync(f, 'utf8')) as Result);
    expect([a.backend, b.backend]).toEqual(['wasm', 'webgpu']);
    expect(b.epochs.length).toBe(2);
    const tol = toleranceFor('webgpu');
    b.epochs.forEach((e, i) => {
      const want = a.epochs[i]!.trainLoss;
      expect(Number.isFinite(e.trainLoss)).toBe(true);
      expect(Math.abs(e.trainLoss - want), `epoch ${i + 1}: webgpu ${e.trainLoss} vs wasm ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));
    });
    // The losses moved: two epochs of training happened on both backends, not one value twice.
    expect(a.epochs[0]!.trainLoss).not.toBe(a.epochs[1]!.trainLoss);
  });
});

describe('npm run pretrain -- --backend webgpu', () => {
  it('3 steps with gradient clipping: no GPU errors, and the weights WASM gets', { timeout: 420_000 }, async (ctx) => {
    ctx.skip(noDriver, SKIP);
    const args = [
      '--steps',
      '3',
      '--batch',
      '4',
      '--width',
      '16',
      '--depth',
      '1',
      '--heads',
      '1',
      '--mlp',
      '32',
      '--eval-size',
      '8',
      '--val-size',
      '0',
      '--clip',
      '1',
    ];
    const outDir = (b: string) => join(dir, `pretrain-${b}`);
    const wasm = await runCli('pretrain', [...args, '--out-dir', outDir('wasm')], SLOW);
    expect(wasm.code, wasm.stderr.slice(-2000)).toBe(0);
    const gpu = await runCli('pretrain', [...args, '--backend', 'webgpu', '--out-dir', outDir('webgpu')], { ...SLOW, env: dawn.env as Record<string, string> });
    expect(gpu.code, gpu.stderr.slice(-3000)).toBe(0);
    expectNoGpuErrors(gpu);
    const weights = (b: string) => readAll(parseSafetensors(new Uint8Array(readFileSync(join(outDir(b), 'tiny_pretrained.safetensors'))), b));
    const [a, b] = [weights('wasm'), weights('webgpu')];
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    // AdamW turns a gradient's sign into a step of about lr (5e-4): the WebGPU tolerance bounds it.
    for (const [name, t] of a) {
      const u = b.get(name)!;
      let err = 0,
        peak = 0;
      t.data.forEach((x, i) => {
        err = Math.max(err, Math.abs(x - u.data[i]!));
        peak = Math.max(peak, Math.abs(x));
      });
      expect(err, name).toBeLessThanOrEqual(toleranceFor('webgpu') * Math.max(1, peak));
    }
  });
});

describe('--backend webgpu without an adapter, and WASM without Dawn', () => {
  it('names the missing Vulkan driver and what to install, exit 1', { timeout: 120_000 }, async () => {
    // A driver path that does not exist: the loader (if any) finds no driver, Dawn no adapter.
    const run = await runCli('verify', ['--backend', 'webgpu', '--weights', model, '--golden', golden], {
      env: { VK_ICD_FILENAMES: join(dir, 'none.json'), VK_DRIVER_FILES: join(dir, 'none.json') },
    });
    const line = errorLine(run);
    expect(run.code, run.stderr.slice(-2000)).toBe(1);
    expect(line).toContain('error [backend/unavailable]: No WebGPU adapter');
    expect(line).toMatch(/Vulkan (driver|loader)/);
    expect(line).toContain('VK_ICD_FILENAMES');
    expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  });

  it('--gpu-memory off WebGPU is a usage error (exit 2)', async () => {
    const run = await runCli('train', ['--model', model, '--task', 'dsprites_location', '--method', 'ft', '--gpu-memory', '8']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--gpu-memory is the GPU's memory for --backend webgpu; this run is on wasm.");
  });

  it('--threads off WASM is a usage error (exit 2)', async () => {
    const run = await runCli('verify', ['--backend', 'webgpu', '--threads', '2', '--weights', model, '--golden', golden]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--threads sets WASM\'s threads; this run is on "webgpu".');
  });

  it("a WASM run never loads Dawn's native module", { timeout: 120_000 }, async () => {
    const file = join(dir, 'addons-wasm');
    const run = await runCli('verify', ['--weights', model, '--golden', golden], {
      env: { NODE_OPTIONS: `--require ${join(REPO, 'test/support/native-modules.cjs')}`, NATIVE_MODULES_FILE: file },
    });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain('dawn.node');
    // The probe sees Dawn when it is loaded (so the assertion above can fail).
    const probe = join(dir, 'addons-webgpu');
    const gpu = await runCli('verify', ['--backend', 'webgpu', '--weights', model, '--golden', golden], {
      env: {
        NODE_OPTIONS: `--require ${join(REPO, 'test/support/native-modules.cjs')}`,
        NATIVE_MODULES_FILE: probe,
        VK_ICD_FILENAMES: join(dir, 'none.json'),
        VK_DRIVER_FILES: join(dir, 'none.json'),
      },
    });
    expect(gpu.code).toBe(1);
    expect(readFileSync(probe, 'utf8')).toContain('dawn.node');
  });
});

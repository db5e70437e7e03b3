/**
 * The GPU package (scripts/gpu/prepare.sh): every tool bundled into one entry that runs with no
 * node_modules beside it. Built with --bundle-only (the bundle, tfjs' .wasm files and Dawn,
 * without the Node binary and Vulkan packages a GPU machine also gets) into a temp directory with
 * no node_modules above it, and run from there as `node .gpu/lab/entry.mjs <command> ...`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../weights/testutil';
import { REPO } from './testutil';

const dir = mkdtempSync(join(tmpdir(), 'gpu-package-'));
const entry = join(dir, '.gpu', 'lab', 'entry.mjs');
beforeAll(() => {
  execFileSync('bash', ['scripts/gpu/prepare.sh', '--out', join(dir, '.gpu'), '--bundle-only'], { cwd: REPO, stdio: 'pipe' });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [entry, ...args], { cwd: dir, timeout: 120_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

const model = join(FIXTURES, 'hf_tiny_model.safetensors');
const golden = join(FIXTURES, 'hf_tiny_golden.safetensors');

describe('the GPU package: one entry for every tool', () => {
  it('lists the commands, and refuses an unknown one with exit 2', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    for (const c of ['verify', 'train', 'study', 'pretrain', 'bench', 'data']) expect(none.stdout).toContain(`  ${c} `);
    const bad = await run(['trian']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command 'trian'");
    const help = await run(['train', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--backend <b>');
  });

  it(
    'verify passes on WASM with no node_modules, on one thread and on two (the .wasm files and the threaded build travel with the bundle)',
    { timeout: 240_000 },
    async () => {
      for (const threads of ['1', '2']) {
        const r = await run(['verify', '--weights', model, '--golden', golden, '--threads', threads]);
        expect(r.code, r.stderr.slice(-2000)).toBe(0);
        expect(r.stderr).toContain(`WASM runs on ${threads} thread${threads === '1' ? '' : 's'}, as asked`);
        expect(r.stdout).toMatch(/verify: \d+ tensors, worst .* \(tolerance 1e-4 on wasm\), PASS/);
      }
    },
  );

  it('loads Dawn from the package for --backend webgpu (here without a driver: the named error)', { timeout: 120_000 }, async () => {
    const none = join(dir, 'none.json');
    const r = await run(['verify', '--backend', 'webgpu', '--weights', model, '--golden', golden], { VK_ICD_FILENAMES: none, VK_DRIVER_FILES: none });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error [backend/unavailable]: No WebGPU adapter');
    expect(r.stderr).not.toContain('could not be loaded'); // Dawn itself was found and loaded
  });
});

/**
 * The lab's own WebGPU kernels (src/kernels/webgpu) in the page's worker, on the webgpu backend
 * (SwiftShader here): each kernel against the stock tfjs path on random inputs, forward and every
 * gradient, at the WebGPU tolerance (1e-3 of max(1, max|stock|)); then the golden fixture
 * verification with the kernels active (they are installed whenever the backend is webgpu).
 */
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { readFileSync } from 'node:fs';

const fixtures = path.resolve(process.cwd(), '../shared/fixtures');

interface CheckResult {
  rows: { kernel: string; shape: string; output: string; maxAbsError: number; scale: number; ok: boolean }[];
  lines: string[];
  pass: boolean;
  adapter: string;
}

async function engine(page: Page): Promise<void> {
  await page.goto('/');
  await page.waitForFunction(() => '__engine' in window);
}

test('WebGPU kernels match stock tfjs: forward and every gradient (fixture and ViT shapes)', async ({ page }) => {
  test.setTimeout(180_000);
  await engine(page);
  const res = (await page.evaluate(() =>
    (window as unknown as { __engine: { request(c: unknown): Promise<unknown> } }).__engine.request({ type: 'kernel-check', requestId: 'kc', backend: 'webgpu', full: true }),
  )) as CheckResult;
  console.log(`adapter: ${res.adapter}\n${res.lines.join('\n')}`);
  // Every kernel family, forward and each of its gradients, was compared.
  for (const k of ['matmul', 'layerNorm', 'gelu', 'bias+gelu', 'attention']) expect(res.rows.some((r) => r.kernel === k)).toBe(true);
  for (const g of ['grad x', 'grad W', 'grad b', 'grad gamma', 'grad beta', 'grad q', 'grad k', 'grad v']) expect(res.rows.some((r) => r.output === g)).toBe(true);
  expect(res.rows.some((r) => r.kernel === 'attention' && r.shape.includes('197,64'))).toBe(true);
  expect(res.rows.filter((r) => !r.ok)).toEqual([]);
  expect(res.pass).toBe(true);
});

for (const [weights, golden] of [
  ['hf_tiny_model.safetensors', 'hf_tiny_golden.safetensors'],
  ['timm_tiny_google.npz', 'timm_tiny_golden.safetensors'],
]) {
  test(`golden fixtures pass on WebGPU with the lab kernels active: ${weights}`, async ({ page }) => {
    test.setTimeout(240_000);
    await engine(page);
    const w = [...readFileSync(path.join(fixtures, weights))];
    const g = [...readFileSync(path.join(fixtures, golden))];
    const res = (await page.evaluate(
      async ([w, g, name]) => {
        const api = (window as unknown as { __engine: { request(c: unknown): Promise<unknown> } }).__engine;
        return api.request({ type: 'verify', requestId: 'v', weights: new Blob([new Uint8Array(w)]), weightsName: name, golden: new Blob([new Uint8Array(g)]), backend: 'webgpu' });
      },
      [w, g, weights] as const,
    )) as { report: { backend: string; pass: boolean; tolerance: number }; lines: string[] };
    console.log(res.lines.slice(-3).join('\n'));
    expect(res.report.backend).toBe('webgpu');
    expect(res.report.tolerance).toBe(1e-3);
    expect(res.lines.join('\n')).toMatch(/grad\/.*ok/);
    expect(res.report.pass).toBe(true);
  });
}

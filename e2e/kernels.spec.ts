/**
 * The lab's own WebGPU kernels (src/kernels/webgpu) in the page's worker, on the webgpu backend
 * (SwiftShader here): each kernel against the stock tfjs path on random inputs, forward and every
 * gradient, at the WebGPU tolerance (1e-3 of max(1, max|stock|)); then the golden fixture
 * verification with the kernels active (registered for the webgpu backend by backend/init.ts;
 * engine.spec.ts checks the other fixture the same way).
 */
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { FIXTURES as fixtures } from './pages/LabPage';

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
  test.setTimeout(450_000); // SwiftShader runs every shader on the CPU: minutes on a small, busy machine
  await engine(page);
  const res = (await page.evaluate(() =>
    (window as unknown as { __engine: { request(c: unknown): Promise<unknown> } }).__engine.request({
      type: 'kernel-check',
      requestId: 'kc',
      backend: 'webgpu',
      full: true,
    }),
  )) as CheckResult;
  console.log(`adapter: ${res.adapter}\n${res.lines.join('\n')}`);
  // Every kernel family, forward and each of its gradients, was compared.
  for (const k of ['matmul', 'layerNorm', 'gelu', 'bias+gelu', 'attention']) expect(res.rows.some((r) => r.kernel === k)).toBe(true);
  for (const g of ['grad x', 'grad W', 'grad b', 'grad gamma', 'grad beta', 'grad q', 'grad k', 'grad v'])
    expect(res.rows.some((r) => r.output === g)).toBe(true);
  expect(res.rows.some((r) => r.kernel === 'attention' && r.shape.includes('197,64'))).toBe(true);
  expect(res.rows.filter((r) => !r.ok)).toEqual([]);
  expect(res.pass).toBe(true);
});

test('golden fixture verification passes on WebGPU with the lab kernels active', async ({ page }) => {
  test.setTimeout(450_000);
  await engine(page);
  // Same page flow as engine.spec.ts: the verify command on the webgpu backend.
  await page.getByTestId('engine.check').locator('summary').click();
  await page.getByTestId('engine.weights').setInputFiles(path.join(fixtures, 'hf_tiny_model.safetensors'));
  await page.getByTestId('engine.golden').setInputFiles(path.join(fixtures, 'hf_tiny_golden.safetensors'));
  await page.getByTestId('engine.backend').selectOption('webgpu');
  await page.getByTestId('engine.run').click();
  const verdict = page.getByTestId('engine.verdict');
  await expect(verdict).toBeVisible({ timeout: 400_000 });
  await expect(verdict).toHaveAttribute('data-backend', 'webgpu');
  const lines = await page.getByTestId('engine.lines').innerText();
  console.log(lines.split('\n').slice(-1)[0]);
  expect(lines).toMatch(/grad\/.*ok/);
  expect(lines).toMatch(/verify: \d+ tensors, worst .*, PASS/);
  // In the same worker, the model's ops are routed to the lab kernels (not the stock path).
  const wiring = (await page.evaluate(() =>
    (window as unknown as { __engine: { request(c: unknown): Promise<unknown> } }).__engine.request({
      type: 'kernel-check',
      requestId: 'w',
      backend: 'webgpu',
      only: ['none'],
    }),
  )) as CheckResult;
  expect(wiring.rows.filter((r) => r.kernel === 'wiring').map((r) => r.ok)).toEqual([true, true, true, true]);
});

/**
 * The engine in the real browser: load a fixture through the page's file inputs, run forward and
 * backward on WebGPU (SwiftShader here, headless), and compare with the golden file at the
 * WebGPU tolerance. Also: the page reports which backend it chose, and why.
 */
import { expect, test } from '@playwright/test';
import path from 'node:path';

import { FIXTURES as fixtures } from './pages/LabPage';

for (const [weights, golden] of [
  ['hf_tiny_model.safetensors', 'hf_tiny_golden.safetensors'],
  ['timm_tiny_google.npz', 'timm_tiny_golden.safetensors'],
]) {
  test(`WebGPU forward + backward match the golden file: ${weights}`, async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto('/');
    const check = page.getByTestId('engine.check');
    await check.locator('summary').click();
    await page.getByTestId('engine.weights').setInputFiles(path.join(fixtures, weights));
    await page.getByTestId('engine.golden').setInputFiles(path.join(fixtures, golden));
    await page.getByTestId('engine.backend').selectOption('webgpu');
    await page.getByTestId('engine.run').click();
    const verdict = page.getByTestId('engine.verdict');
    await expect(verdict).toBeVisible({ timeout: 240_000 });
    await expect(verdict).toHaveAttribute('data-backend', 'webgpu');
    const lines = await page.getByTestId('engine.lines').innerText();
    expect(lines).toMatch(/verify: \d+ tensors, worst .*, PASS/);
    // Backward really ran: weight gradients are among the compared tensors.
    expect(lines).toMatch(/grad\/.*ok/);
    await expect(verdict).toHaveAttribute('data-pass', 'true');
  });
}

test('the page says which backend it chose and why', async ({ page }) => {
  await page.goto('/');
  const check = page.getByTestId('engine.check');
  await check.locator('summary').click();
  // Any engine command starts the worker, which probes the host and reports its choice.
  await page.getByTestId('engine.weights').setInputFiles(path.join(fixtures, 'timm_tiny_model.safetensors'));
  await page.getByTestId('engine.golden').setInputFiles(path.join(fixtures, 'timm_tiny_golden.safetensors'));
  await page.getByTestId('engine.run').click();
  const badge = page.getByTestId('run.backend');
  await expect(badge).toContainText(/WEBGPU|WEBGL|WASM|CPU/, { timeout: 120_000 });
  // With only a software (SwiftShader) WebGPU adapter, the lab prefers WASM and says so.
  const title = await badge.locator('.badge').getAttribute('title');
  expect(title ?? '').toMatch(/\w+/);
  await expect(page.getByTestId('engine.verdict')).toHaveAttribute('data-pass', 'true', { timeout: 120_000 });
});

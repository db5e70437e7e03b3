/**
 * The page shows the memory plan before Start, from the setup alone: the bundled model fits at
 * its batch; ViT-B/16 FT at batch 32 on WASM runs in micro-batches with the batch kept by
 * accumulation; a setup that cannot fit one image says so, with the error the run would give.
 */
import { expect, test } from '@playwright/test';
import { LabPage } from './pages/LabPage';

test('memory estimate before Start', async ({ page }) => {
  const lab = new LabPage(page);
  await lab.goto({ trainSize: 64, batch: 32, backend: 'wasm' });
  const memory = lab.id('setup.memory');
  await expect(memory).toHaveAttribute('data-state', 'fits');
  await expect(memory).toContainText('WASM heap');
  await expect(memory.getByTestId('setup.memory.row').first()).toHaveAttribute('data-micro-batch', '32');

  await lab.goto({ model: 'random:vit_b16', methods: 'ft', trainSize: 64, batch: 32, backend: 'wasm' });
  await expect(memory).toHaveAttribute('data-state', 'fits');
  const row = memory.getByTestId('setup.memory.row').first();
  const micro = Number(await row.getAttribute('data-micro-batch'));
  expect(micro).toBeGreaterThanOrEqual(1);
  expect(micro).toBeLessThan(32);
  await expect(row).toContainText('batch 32 kept through gradient accumulation');

  await lab.goto({ model: 'random:vit_b16', methods: 'ft', res: 1024, trainSize: 64, batch: 8, backend: 'wasm' });
  await expect(memory).toHaveAttribute('data-state', 'does-not-fit');
  await expect(memory).toContainText('Even one image per step does not fit');
  await page.screenshot({ path: 'test-results/memory-does-not-fit.png' });
});

import { defineConfig } from '@playwright/test';

/** Debian's Chromium; Playwright's own browser download cannot run on these machines. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The preview server's port. E2E_PORT lets several checkouts on one machine run their e2e suites
 * at once without one reusing another's server (and so testing the other's build).
 */
export const e2ePort = Number(process.env.E2E_PORT ?? 4173);
export const e2eOrigin = `http://127.0.0.1:${e2ePort}`;

export default defineConfig({
  testDir: 'e2e',
  timeout: 600_000,
  expect: { timeout: 30_000 },
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: e2eOrigin,
    launchOptions: {
      executablePath: chromiumPath,
      args: [
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--use-angle=swiftshader',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
  projects: [
    // The lab's own end-to-end tests.
    { name: 'lab', testIgnore: /\/e2e\/sweep\// },
    // The study as one test per cell (npm run sweep -- <sweep file>; README, "The full study on
    // many machines"): every test of the file is its own unit, so --shard spreads single cells.
    { name: 'sweep', testDir: 'e2e/sweep', fullyParallel: true, outputDir: 'test-results/sweep' },
  ],
  // npm run sweep serves the page itself (src/cli/sweep.ts) and says so in SWEEP_SERVER.
  webServer: process.env.SWEEP_SERVER
    ? undefined
    : {
        command: `npx vite preview --host 127.0.0.1 --port ${e2ePort} --strictPort`,
        url: e2eOrigin,
        reuseExistingServer: !process.env.CI,
        timeout: 60_000,
      },
});

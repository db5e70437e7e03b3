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
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${e2ePort} --strictPort`,
    url: e2eOrigin,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});

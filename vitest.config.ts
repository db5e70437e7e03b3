import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Timeouts only catch hangs: a 2-core CI machine under load took 120 s for the overfit test.
    // tfjs keeps one global engine per process; files run in separate forks.
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';

/** Browser tests: Debian's Chromium driven by playwright-core against a real listening server. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One browser at a time: the machine has two cores.
    fileParallelism: false,
  },
});

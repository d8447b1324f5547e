import { defineConfig } from 'vitest/config';

// Real servers and child processes on a slow shared 2-core machine: generous timeouts, two files at
// a time at most.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
  },
});

import { defineConfig } from 'vitest/config';

// E2E tests start real servers, the 1C emulator, SQLite files and Chromium: generous timeouts, one file at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});

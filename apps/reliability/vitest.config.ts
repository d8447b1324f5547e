import { defineConfig } from 'vitest/config';

// Every test spawns real processes (server, redis-server, the 1C emulator) and some measure time:
// one file at a time, generous but bounded timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});

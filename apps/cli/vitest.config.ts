import { defineConfig } from 'vitest/config';

// Integration tests spawn the built CLI and real Redis servers: generous timeouts for a slow shared machine.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000, fileParallelism: false },
});

import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createStore } from '../src/create-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl } from './support/redis-admin.js';
import { storeContractTests } from './support/store-contract.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

// The L1 decorator must not change what the contract promises: run the same tests through it, with
// an L1 matching every key so every read path goes through the cache.
const everything = { max: 1000, maxStaleMs: 1000, match: () => true };

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
  await cleanupTempDirs();
});

storeContractTests('L1 over sqlite', {
  open: async () => createStore(`sqlite://${join(await tempDir(), 'l1.db')}`, { l1: everything }),
  sweepCountsRecords: true,
});

storeContractTests('L1 over redis', {
  open: async () => createStore(await freshDbUrl(server.url), { l1: everything }),
  sweepCountsRecords: false,
});

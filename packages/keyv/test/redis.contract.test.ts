import { afterAll, beforeAll } from 'vitest';
import { RedisStore } from '../src/redis/redis-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl } from './support/redis-admin.js';
import { storeContractTests } from './support/store-contract.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

storeContractTests('redis', {
  open: async () => RedisStore.open({ url: await freshDbUrl(server.url) }),
  sweepCountsRecords: false,
});

import { runConformanceSuite, runStoreSuite } from '@oauth-cache/core/conformance';
import { afterAll, beforeAll } from 'vitest';
import { createStore } from '../src/create-store.js';
import { RedisStore } from '../src/redis/redis-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl, redisRawDump } from './support/redis-admin.js';

let server: RedisServerHandle;
const urls = new WeakMap<object, string>();

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

runStoreSuite({
  name: 'redis',
  open: async () => {
    const url = await freshDbUrl(server.url);
    const store = await RedisStore.open({ url });
    urls.set(store, url);
    return store;
  },
  openPeer: async (store) => RedisStore.open({ url: urls.get(store)! }),
  // Redis expires records itself (sweep only trims indexes) and has no staged import.
  capabilities: { bulkLoad: false, sweepCountsRecords: false, remoteDelete: true },
});

runConformanceSuite({
  name: 'redis',
  shared: true,
  createStore: async () => {
    const url = await freshDbUrl(server.url);
    const store = await createStore(url);
    urls.set(store, url);
    return store;
  },
  rawDump: async (store) => redisRawDump(urls.get(store)!),
});

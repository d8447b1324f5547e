import { join } from 'node:path';
import { runConformanceSuite } from '@oauth-cache/core/conformance';
import { afterAll, beforeAll } from 'vitest';
import { createStore } from '../src/create-store.js';
import type { L1Store } from '../src/l1/l1-store.js';
import type { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl, redisRawDump } from './support/redis-admin.js';
import { sqliteRawDump } from './support/sqlite-raw.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

// The whole cache through the L1 (default pattern: access-token records under `oc:`).
let server: RedisServerHandle;
const urls = new WeakMap<object, string>();

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
  await cleanupTempDirs();
});

runConformanceSuite({
  name: 'redis + L1',
  shared: true,
  createStore: async () => {
    const url = await freshDbUrl(server.url);
    const store = await createStore(url, { l1: { max: 1000, maxStaleMs: 1000 } });
    urls.set(store, url);
    return store;
  },
  rawDump: async (store) => redisRawDump(urls.get(store)!),
});

runConformanceSuite({
  name: 'sqlite + L1',
  shared: true,
  createStore: async () =>
    createStore(`sqlite://${join(await tempDir(), 'l1.db')}`, { l1: { max: 1000, maxStaleMs: 1000 } }),
  rawDump: async (store) => sqliteRawDump(((store as L1Store).inner as SqliteStore).path),
});

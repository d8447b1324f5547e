import { join } from 'node:path';
import { runConformanceSuite, runStoreSuite } from '@oauth-cache/core/conformance';
import { afterAll, beforeAll } from 'vitest';
import { createStore } from '../src/create-store.js';
import type { L1Store } from '../src/l1/l1-store.js';
import type { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl, redisRawDump } from './support/redis-admin.js';
import { sqliteRawDump } from './support/sqlite-raw.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

let server: RedisServerHandle;
const urls = new WeakMap<object, string>();
const sqlitePath = (store: object) => ((store as L1Store).inner as SqliteStore).path;

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
  await cleanupTempDirs();
});

// The L1 decorator must not change what the contract promises: the store suite runs through it
// with an L1 matching every key, so every read path goes through the in-process cache.
const everything = { max: 1000, maxStaleMs: 1000, match: () => true };
const openRedis = async (l1: typeof everything | { max: number; maxStaleMs: number }) => {
  const url = await freshDbUrl(server.url);
  const store = await createStore(url, { l1 });
  urls.set(store, url);
  return store;
};

runStoreSuite({
  name: 'L1 over sqlite',
  open: async () => createStore(`sqlite://${join(await tempDir(), 'l1.db')}`, { l1: everything }),
  openPeer: async (store) => createStore(`sqlite://${sqlitePath(store)}`, { l1: everything }),
  capabilities: { bulkLoad: false, holdsInProcess: true },
});

runStoreSuite({
  name: 'L1 over redis',
  open: () => openRedis(everything),
  openPeer: async (store) => createStore(urls.get(store)!, { l1: everything }),
  capabilities: { bulkLoad: false, sweepCountsRecords: false, remoteDelete: true, holdsInProcess: true },
});

// The whole cache through the L1 (default pattern: access-token records under `oc:`).
runConformanceSuite({
  name: 'redis + L1',
  shared: true,
  createStore: () => openRedis({ max: 1000, maxStaleMs: 1000 }),
  rawDump: async (store) => redisRawDump(urls.get(store)!),
});

runConformanceSuite({
  name: 'sqlite + L1',
  shared: true,
  createStore: async () =>
    createStore(`sqlite://${join(await tempDir(), 'l1.db')}`, { l1: { max: 1000, maxStaleMs: 1000 } }),
  rawDump: async (store) => sqliteRawDump(sqlitePath(store)),
});

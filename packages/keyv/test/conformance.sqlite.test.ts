import { join } from 'node:path';
import { runConformanceSuite, runStoreSuite } from '@oauth-cache/core/conformance';
import { afterAll } from 'vitest';
import { createStore } from '../src/create-store.js';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { sqliteRawDump } from './support/sqlite-raw.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

afterAll(cleanupTempDirs);

runStoreSuite({
  name: 'sqlite',
  open: async () => SqliteStore.open({ path: join(await tempDir(), 'cache.db') }),
  // A second connection to the same file, as another process would open.
  openPeer: async (store) => SqliteStore.open({ path: (store as SqliteStore).path }),
});

runConformanceSuite({
  name: 'sqlite',
  shared: true,
  createStore: async () => createStore(`sqlite://${join(await tempDir(), 'conformance.db')}`),
  rawDump: async (store) => sqliteRawDump((store as SqliteStore).path),
});

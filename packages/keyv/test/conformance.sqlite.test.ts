import { join } from 'node:path';
import { runConformanceSuite } from '@oauth-cache/core/conformance';
import { afterAll } from 'vitest';
import { createStore } from '../src/create-store.js';
import type { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { sqliteRawDump } from './support/sqlite-raw.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

afterAll(cleanupTempDirs);

runConformanceSuite({
  name: 'sqlite',
  shared: true,
  createStore: async () => createStore(`sqlite://${join(await tempDir(), 'conformance.db')}`),
  rawDump: async (store) => sqliteRawDump((store as SqliteStore).path),
});

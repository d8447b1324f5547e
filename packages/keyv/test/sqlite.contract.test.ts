import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { storeContractTests } from './support/store-contract.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

afterAll(cleanupTempDirs);

storeContractTests('sqlite', {
  open: async () => SqliteStore.open({ path: join(await tempDir(), 'cache.db') }),
  sweepCountsRecords: true,
});

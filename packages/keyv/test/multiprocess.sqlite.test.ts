import { join } from 'node:path';
import { afterAll, afterEach, describe, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';
import {
  expectCommitRace,
  expectIndexCapRace,
  expectSetIfAbsentRace,
  stopWorkers,
} from './support/two-process-races.js';

afterEach(stopWorkers);
afterAll(cleanupTempDirs);

describe('SQLite shared by two processes', () => {
  it('commit: of two processes committing against the same present record, exactly one wins (200 records)', async () => {
    const path = join(await tempDir(), 'commit.db');
    const seed = await SqliteStore.open({ path });
    try {
      await expectCommitRace('sqlite', `sqlite://${path}`, seed, 200);
    } finally {
      await seed.close();
    }
  });

  it('set-if-absent (commit requiring absent): each of 300 keys is written by exactly one process', async () => {
    const path = join(await tempDir(), 'add.db');
    await expectSetIfAbsentRace('sqlite', `sqlite://${path}`, 300, () => SqliteStore.open({ path }));
  });

  it('index cap holds with two processes adding: 10 kept, every other member evicted exactly once', async () => {
    const path = join(await tempDir(), 'cap.db');
    await expectIndexCapRace(`sqlite://${path}`, 150, () => SqliteStore.open({ path }));
  });
});

import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';
import {
  expectAddRace,
  expectIndexCapRace,
  expectTakeRace,
  stopWorkers,
} from './support/two-process-races.js';

afterEach(stopWorkers);
afterAll(cleanupTempDirs);

describe('SQLite shared by two processes', () => {
  it('take: each of 300 keys is won by exactly one process', async () => {
    const path = join(await tempDir(), 'take.db');
    const seed = await SqliteStore.open({ path });
    await expectTakeRace('sqlite', `sqlite://${path}`, seed, 300);
    expect(await seed.get('oc:t:0')).toBeUndefined();
    await seed.close();
  });

  it('add: each of 300 keys is written by exactly one process', async () => {
    const path = join(await tempDir(), 'add.db');
    await expectAddRace(`sqlite://${path}`, 300);
  });

  it('index cap holds with two processes adding: 10 kept, every other member evicted exactly once', async () => {
    const path = join(await tempDir(), 'cap.db');
    await expectIndexCapRace(`sqlite://${path}`, 150, () => SqliteStore.open({ path }));
  });
});

/**
 * The SQLite store holds sealed 1C passwords and token digests: the folders it creates are 0700
 * and the database file (with its -wal and -shm companions) 0600, whatever the process umask.
 */
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/create-store.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

afterAll(async () => {
  await cleanupTempDirs();
});

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('SQLite file modes', () => {
  it('creates missing folders 0700 and the database, -wal and -shm files 0600', async () => {
    const root = await tempDir();
    const path = join(root, 'state', 'nested', 'cache.sqlite');
    const previous = process.umask(0o022);
    try {
      const store = await createStore(`sqlite://${path}`);
      await store.set('oc:k', 'v', 60_000);
      expect(await store.get('oc:k')).toBe('v');
      expect(modeOf(join(root, 'state'))).toBe(0o700);
      expect(modeOf(join(root, 'state', 'nested'))).toBe(0o700);
      expect(modeOf(path)).toBe(0o600);
      // WAL mode is on while the store is open: the companions exist and follow the file's mode.
      expect(modeOf(`${path}-wal`)).toBe(0o600);
      expect(modeOf(`${path}-shm`)).toBe(0o600);
      await store.close();
    } finally {
      process.umask(previous);
    }
  });

  it('leaves the mode of an existing database file to its operator', async () => {
    const root = await tempDir();
    const path = join(root, 'existing.sqlite');
    writeFileSync(path, '');
    chmodSync(path, 0o640);
    const store = await createStore(`sqlite://${path}`);
    await store.set('oc:k', 'v', 60_000);
    expect(modeOf(path)).toBe(0o640);
    await store.close();
  });
});

import { join } from 'node:path';
import { type CacheStore, MemoryStore } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../src/lock.js';
import { RedisStore } from '../src/redis/redis-store.js';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl } from './support/redis-admin.js';
import { cleanupTempDirs, sleep, tempDir } from './support/temp.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
  await cleanupTempDirs();
});

/** N workers on separate connections each run a critical section under the lock: never two at once. */
async function mutualExclusion(stores: CacheStore[]): Promise<number> {
  let inside = 0;
  let maxInside = 0;
  let entered = 0;
  await Promise.all(
    stores.flatMap((store) =>
      Array.from({ length: 5 }, async () => {
        const lock = await acquireLock(store, 'oc:lock:refresh:u', 10_000, {
          waitMs: 20_000,
          retryDelayMs: 5,
        });
        expect(lock).not.toBeNull();
        inside += 1;
        entered += 1;
        maxInside = Math.max(maxInside, inside);
        await sleep(10);
        inside -= 1;
        await lock!.release();
      }),
    ),
  );
  expect(entered).toBe(stores.length * 5);
  return maxInside;
}

describe('acquireLock across connections', () => {
  it('SQLite: three connections to one file, one holder at a time', async () => {
    const path = join(await tempDir(), 'lock.db');
    const stores = await Promise.all([0, 1, 2].map(() => SqliteStore.open({ path })));
    expect(await mutualExclusion(stores)).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('Redis: three connections, one holder at a time', async () => {
    const url = await freshDbUrl(server.url);
    const stores = await Promise.all([0, 1, 2].map(() => RedisStore.open({ url })));
    expect(await mutualExclusion(stores)).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('a store without a native lock (memory) falls back to add + compare-and-delete', async () => {
    const store = new MemoryStore();
    const held = await acquireLock(store, 'oc:lock:m', 10_000);
    expect(held).not.toBeNull();
    expect(await acquireLock(store, 'oc:lock:m', 10_000)).toBeNull();
    await held!.release();
    expect(await acquireLock(store, 'oc:lock:m', 10_000)).not.toBeNull();
  });
});

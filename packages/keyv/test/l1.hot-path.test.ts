import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type CacheStore, createTokenCache, type TokenCache } from '@oauth-cache/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { L1Store } from '../src/l1/l1-store.js';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { counted } from './support/counted-reads.js';
import { cleanupTempDirs, sleep, tempDir } from './support/temp.js';

const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close().catch(() => undefined)));
});
afterAll(cleanupTempDirs);

const record = (n: number) => ({ v: 1, kind: 'access', exp: Date.now() + 60_000, body: { n } });

describe('L1Store: misses of one loop turn are read together', () => {
  it('20 concurrent misses of distinct keys cost one getMany; each gets its own value', async () => {
    const { store: inner, reads } = counted(await SqliteStore.open({ path: join(await tempDir(), 'b.db') }));
    const l1 = await L1Store.wrap(inner, { maxStaleMs: 60_000 });
    closing.push(l1);
    for (let i = 0; i < 20; i++) await l1.set(`oc:at:k${i}`, record(i), 60_000);
    const values = await Promise.all(Array.from({ length: 20 }, (_, i) => l1.get(`oc:at:k${i}`)));
    for (const [i, value] of values.entries()) expect(value).toMatchObject({ body: { n: i } });
    expect(reads).toEqual({ getManyWithExpiry: 1 });
    // Then held: no more reads.
    expect(await l1.get('oc:at:k7')).toBe(values[7]);
    expect(reads).toEqual({ getManyWithExpiry: 1 });
    // A lone miss is read alone, a missing key stays a miss (never cached).
    expect(await l1.get('oc:at:absent')).toBeUndefined();
    expect(reads).toEqual({ getManyWithExpiry: 1, getWithExpiry: 1 });
  });

  it('a delete while misses wait for their batch: the next get sees the delete', async () => {
    const l1 = await L1Store.wrap(await SqliteStore.open({ path: join(await tempDir(), 'd.db') }), {
      maxStaleMs: 60_000,
    });
    closing.push(l1);
    await l1.set('oc:at:a', record(1), 60_000);
    await l1.set('oc:at:b', record(2), 60_000);
    const waiting = Promise.all([l1.get('oc:at:a'), l1.get('oc:at:b')]);
    await l1.delete('oc:at:a');
    await waiting;
    expect(await l1.get('oc:at:a')).toBeUndefined();
    expect(await l1.get('oc:at:b')).toMatchObject({ body: { n: 2 } });
  });
});

describe('validation memo over an L1 on a shared SQLite file (maximum)', () => {
  const secret = randomBytes(32);
  const encryptionKeys = [{ kid: 'k1', key: randomBytes(32) }];
  async function cacheOn(path: string, maxStaleMs: number): Promise<TokenCache> {
    const store: CacheStore = await L1Store.wrap(await SqliteStore.open({ path }), { maxStaleMs });
    const cache = createTokenCache({
      store,
      environment: 'test',
      securityLevel: 'maximum',
      secret,
      encryptionKeys,
      autoCleanup: false,
    });
    closing.push(cache);
    return cache;
  }

  it('a revocation by another process is seen within maxStaleMs, memo or not; in this process at once', async () => {
    const path = join(await tempDir(), 'shared.db');
    const maxStaleMs = 200;
    const a = await cacheOn(path, maxStaleMs);
    const b = await cacheOn(path, maxStaleMs);
    const token = randomBytes(32).toString('base64url');
    await a.storeToken({ userId: 'ivanov', accessToken: token, userData: { password: 'p@ss' } });
    // Validated over and over across L1 refills: the memo is warm.
    for (let i = 0; i < 3; i++) {
      expect(await a.validateAccessToken(token)).toMatchObject({ userId: 'ivanov' });
      await sleep(maxStaleMs + 50);
    }
    expect(await b.revokeToken(token)).toBe(true);
    // SQLite tells no one: A may answer from its L1 until maxStaleMs has passed, never after.
    await sleep(maxStaleMs + 100);
    expect(await a.validateAccessToken(token)).toBeNull();

    const second = randomBytes(32).toString('base64url');
    await a.storeToken({ userId: 'petrov', accessToken: second });
    expect(await a.validateAccessToken(second)).toMatchObject({ userId: 'petrov' });
    expect(await a.validateAccessToken(second)).toMatchObject({ userId: 'petrov' });
    expect(await a.revokeToken(second)).toBe(true);
    expect(await a.validateAccessToken(second)).toBeNull();
  });
});

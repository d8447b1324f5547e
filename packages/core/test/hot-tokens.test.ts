import { describe, expect, it } from 'vitest';
import { createTokenCache, type Held, MemoryStore } from '../src/index.js';

/** A memory store counting the reads the validation path makes. */
function countingStore() {
  const store = new MemoryStore();
  const calls = { get: 0, getWithGrant: 0, hold: 0, stillHolds: 0 };
  const { get, getWithGrant, hold, stillHolds } = store;
  store.get = (key) => {
    calls.get += 1;
    return get.call(store, key);
  };
  store.getWithGrant = (key, prefix) => {
    calls.getWithGrant += 1;
    return getWithGrant.call(store, key, prefix);
  };
  store.hold = (key) => {
    calls.hold += 1;
    return hold.call(store, key);
  };
  store.stillHolds = (held) => {
    calls.stillHolds += 1;
    return stillHolds.call(store, held);
  };
  const reset = () => {
    for (const k of Object.keys(calls) as Array<keyof typeof calls>) calls[k] = 0;
  };
  return { store, calls, reset };
}

/** The handle of the one access-token record in `store`. */
async function accessHandle(store: MemoryStore): Promise<Held> {
  const keys: string[] = [];
  for await (const entry of store.entries('oc:at:')) keys.push(entry.key);
  expect(keys).toHaveLength(1);
  return store.hold(keys[0]!)!;
}

const TOKEN = 'hot-token-0123456789abcdef';

describe.each(['production', 'test'] as const)('hot tokens (%s preset)', (environment) => {
  /** A cache on a counting memory store, with TOKEN stored for ivanov and validated once. */
  async function hotCache(extra: { refreshToken?: string } = {}) {
    const counting = countingStore();
    const cache = createTokenCache({
      store: counting.store,
      environment,
      autoCleanup: false,
      ...(environment === 'production'
        ? {
            secret: Buffer.alloc(32, 7).toString('base64'),
            encryptionKeys: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
          }
        : {}),
    });
    const info = await cache.storeToken({
      userId: 'ivanov',
      accessToken: TOKEN,
      userData: { p: 1 },
      ...extra,
    });
    const first = await cache.validateAccessToken(TOKEN);
    expect(first).toMatchObject({ valid: true, userId: 'ivanov', userData: { p: 1 } });
    return { ...counting, cache, info, first };
  }

  it('a token validated lately is confirmed from the store handles, without a lookup', async () => {
    const { cache, calls, reset, first } = await hotCache();
    reset();
    expect(await cache.validateAccessToken(TOKEN)).toEqual(first);
    expect(calls).toEqual({ get: 0, getWithGrant: 0, hold: 0, stillHolds: 2 }); // record and grant
    await cache.close();
  });

  it('a revoked hot token is refused at once, and what it opened leaves memory with its record', async () => {
    const { cache, store } = await hotCache();
    const held = await accessHandle(store);
    expect(held.derived).toMatchObject({ kind: 'access', body: { ud: { p: 1 } } });
    expect(await cache.revokeToken(TOKEN)).toBe(true);
    expect(store.stillHolds(held)).toBe(false);
    expect(held.derived).toBeUndefined();
    expect(await cache.validateAccessToken(TOKEN)).toBeNull();
    await cache.close();
  });

  it('a hot token whose grant is revoked is refused at once', async () => {
    const { cache, info } = await hotCache({ refreshToken: 'hot-refresh-0123456789abcdef' });
    expect(await cache.validateAccessToken(TOKEN)).not.toBeNull();
    await cache.revokeFamily(info.familyId);
    expect(await cache.validateAccessToken(TOKEN)).toBeNull();
    await cache.close();
  });

  it('a record replaced under a hot token is read and opened again', async () => {
    const { cache, store, calls, reset } = await hotCache();
    const held = await accessHandle(store);
    // The same token stored again (a new grant): the old handle no longer holds.
    await cache.storeToken({ userId: 'petrov', accessToken: TOKEN, userData: { p: 2 } });
    expect(store.stillHolds(held)).toBe(false);
    reset();
    expect(await cache.validateAccessToken(TOKEN)).toMatchObject({ userId: 'petrov', userData: { p: 2 } });
    expect(calls.hold).toBe(2); // read again: the record and its grant
    await cache.close();
  });
});

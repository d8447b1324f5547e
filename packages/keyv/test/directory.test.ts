import { join } from 'node:path';
import { type CacheStore, createTokenCache, type SecurityEvent, type TokenCache } from '@oauth-cache/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/create-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl } from './support/redis-admin.js';
import { cleanupTempDirs, sleep, tempDir } from './support/temp.js';

// The operator directory over the shared stores, as the server runs it: real SQLite files and a
// real redis-server, the L1 tier with pub/sub invalidation between two instances.

const SECRET = Buffer.alloc(32, 3).toString('base64');
const KEYS = `k1:${Buffer.alloc(32, 4).toString('base64')}`;
const PASSWORD = '1C-password-never-shown';
const actor = { operator: 'console', address: '127.0.0.1' };

let server: RedisServerHandle;
const caches: TokenCache[] = [];

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.close().catch(() => undefined)));
});
afterAll(async () => {
  await server?.stop();
  await cleanupTempDirs();
});

function cacheOn(store: CacheStore, securityLevel: 'enhanced' | 'maximum' = 'enhanced') {
  const cache = createTokenCache({
    store,
    environment: 'test',
    securityLevel,
    secret: SECRET,
    encryptionKeys: KEYS,
    maxTokens: 10_000,
    maxGrantsPerUser: 10,
    autoCleanup: false,
  });
  caches.push(cache);
  return cache;
}

const stores: Array<[string, () => Promise<CacheStore>]> = [
  ['sqlite', async () => createStore(`sqlite://${join(await tempDir(), 'directory.db')}`)],
  ['redis', async () => createStore(await freshDbUrl(server.url))],
];

describe.each(stores)('GrantDirectory on %s', (_name, open) => {
  it('lists, pages, details and revokes a grant, a session and a user', async () => {
    const cache = cacheOn(await open());
    const events: SecurityEvent[] = [];
    cache.events.on('security', (e) => events.push(e));
    const session = await cache.createSession('ivanov');
    const g1 = await cache.storeToken({
      userId: 'ivanov',
      accessToken: 'iv-at-1',
      refreshToken: 'iv-rt-1',
      clientId: 'claude',
      scopes: ['mcp'],
      sessionId: session.id,
      userData: { password: PASSWORD },
    });
    const g2 = await cache.storeToken({ userId: 'ivanov', accessToken: 'iv-at-2', refreshToken: 'iv-rt-2' });
    await cache.storeToken({ userId: 'petrov', accessToken: 'pe-at-1', userData: { password: PASSWORD } });
    for (let i = 0; i < 5; i++) await cache.storeToken({ userId: `user-${i}`, accessToken: `u-at-${i}` });

    const d = cache.directory;
    const all = await d.listUsers();
    expect(all.total).toBe(7);
    expect(all.users).toHaveLength(7);
    expect(all.users.find((u) => u.userId === 'ivanov')).toMatchObject({ grants: 2, sessions: 1 });
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await d.listUsers(cursor ? { limit: 3, cursor } : { limit: 3 });
      paged.push(...page.users.map((u) => u.userHash));
      cursor = page.next;
    } while (cursor !== undefined);
    expect(paged).toEqual(all.users.map((u) => u.userHash));

    const iv = d.userHashOf('ivanov');
    const detail = (await d.getUser(iv))!;
    expect(detail.user).toMatchObject({ userId: 'ivanov', grants: 2, sessions: 1 });
    const grant1 = detail.grants.find((g) => g.id === g1.familyId)!;
    expect(grant1).toMatchObject({ clientId: 'claude', scopes: ['mcp'], liveTokens: 2, rotations: 0 });
    expect(grant1.sessionRef).toBe(detail.sessions[0]!.ref);
    const json = JSON.stringify([all, detail]);
    for (const secret of [PASSWORD, session.id, 'iv-at-1', g1.accessTokenId!, g1.refreshTokenId!]) {
      expect(json).not.toContain(secret);
    }

    expect(await d.revokeGrant(iv, g2.familyId, actor)).toBe(2);
    expect(await cache.validateAccessToken('iv-at-2')).toBeNull();
    expect(await cache.validateAccessToken('iv-at-1')).not.toBeNull();
    expect(await d.revokeSession(iv, grant1.sessionRef!, actor)).toBe(true);
    expect(await cache.validateAccessToken('iv-at-1')).toBeNull();
    expect(await cache.getSession(session.id)).toBeNull();
    expect(await d.getUser(iv)).toBeNull();

    const pe = d.userHashOf('petrov');
    expect(await d.revokeUser(pe, actor)).toBe(1);
    expect(await cache.validateAccessToken('pe-at-1')).toBeNull();
    expect(await cache.validateAccessToken('u-at-0')).not.toBeNull();
    expect((await d.listUsers()).users.map((u) => u.userHash)).not.toContain(pe);
    expect(events.filter((e) => e.type === 'operator_revoked').map((e) => e.reason)).toEqual([
      'grant',
      'session',
      'user',
    ]);
    await expect(d.listUsers({ cursor: 'bad!' })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('GrantDirectory on redis with the L1 tier, two instances', () => {
  it("a grant revoked through A's directory is refused by B within 100 ms; the other grant validates", async () => {
    const url = await freshDbUrl(server.url);
    const l1 = { max: 1000, maxStaleMs: 1000 };
    const a = cacheOn(await createStore(url, { l1 }), 'maximum');
    const b = cacheOn(await createStore(url, { l1 }), 'maximum');
    const revoked = await a.storeToken({
      userId: 'ivanov',
      accessToken: 'l1-at-1',
      refreshToken: 'l1-rt-1',
      userData: { password: PASSWORD },
    });
    await a.storeToken({ userId: 'ivanov', accessToken: 'l1-at-2', refreshToken: 'l1-rt-2' });
    // B holds both access tokens in its L1.
    for (let i = 0; i < 3; i++) {
      expect(await b.validateAccessToken('l1-at-1')).not.toBeNull();
      expect(await b.validateAccessToken('l1-at-2')).not.toBeNull();
    }
    const uh = a.directory.userHashOf('ivanov');
    expect((await a.directory.getUser(uh))!.grants).toHaveLength(2);

    const started = performance.now();
    expect(await a.directory.revokeGrant(uh, revoked.familyId, actor)).toBe(2);
    let refusedAfter = Number.POSITIVE_INFINITY;
    while (performance.now() - started < 1000) {
      if ((await b.validateAccessToken('l1-at-1')) === null) {
        refusedAfter = performance.now() - started;
        break;
      }
      await sleep(5);
    }
    console.log(
      `B refused the revoked grant's access token ${refusedAfter.toFixed(1)} ms after A's revokeGrant`,
    );
    expect(refusedAfter).toBeLessThan(100);
    expect((await b.validateAccessToken('l1-at-2'))?.userId).toBe('ivanov');
    expect((await b.directory.getUser(uh))!.grants).toHaveLength(1);
  });
});

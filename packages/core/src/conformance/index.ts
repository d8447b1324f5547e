/**
 * The store conformance suite: every behaviour of the cache, run against one store. Each store
 * package runs it with a few lines (keyv's and Auth.js's shared adapter suites work this way):
 *
 * ```ts
 * import { runConformanceSuite } from '@oauth-cache/core/conformance';
 * runConformanceSuite({ name: 'sqlite', createStore: () => createStore(`sqlite://${tmpFile()}`), rawDump });
 * ```
 *
 * `rawDump` reads the backend directly (SQL rows, Redis SCAN + GET) and returns everything as text,
 * so the suite can check that no raw token or password ever landed in the store.
 *
 * Requires vitest (an optional peer dependency of this package).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidGrantError } from '../errors.js';
import type { CacheStore } from '../store/contract.js';
import { createTokenCache, type TokenCache, type TokenCacheOptions } from '../token-cache.js';

/** What a store package hands to {@link runConformanceSuite}. */
export interface ConformanceOptions {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty store (a new file, a flushed database...). */
  createStore: () => Promise<CacheStore>;
  /** Every key and value in the backend as raw text, read without going through the store class. */
  rawDump?: (store: CacheStore) => Promise<string>;
  /** Whether the store is shared across processes (enables nothing extra here; documented intent). */
  shared?: boolean;
}

const SECRET = Buffer.alloc(32, 7).toString('base64');
const KEYS = `k2:${Buffer.alloc(32, 2).toString('base64')},k1:${Buffer.alloc(32, 1).toString('base64')}`;

/** A controllable clock: tests move time instead of sleeping. */
function clock() {
  let t = Date.now();
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Register the whole suite with vitest. */
export function runConformanceSuite(options: ConformanceOptions): void {
  describe(`store conformance: ${options.name}`, () => {
    let store: CacheStore;
    const caches: TokenCache[] = [];
    const open = (extra: Omit<TokenCacheOptions, 'store'> = {}) => {
      const cache = createTokenCache({
        store,
        environment: 'test',
        secret: SECRET,
        encryptionKeys: KEYS,
        autoCleanup: false,
        reuseLeewayMs: 0,
        ...extra,
      });
      caches.push(cache);
      return cache;
    };

    beforeEach(async () => {
      store = await options.createStore();
    });
    afterEach(async () => {
      caches.length = 0;
      await store.close();
    });

    describe('store contract', () => {
      it('get/set/delete round-trips JSON and reports missing keys as undefined', async () => {
        await store.set('t:a', { n: 1, s: 'x', l: [1, 2] }, 60_000);
        expect(await store.get('t:a')).toEqual({ n: 1, s: 'x', l: [1, 2] });
        expect(await store.get('t:missing')).toBeUndefined();
        expect(await store.getMany(['t:a', 't:missing'])).toEqual([{ n: 1, s: 'x', l: [1, 2] }, undefined]);
        expect(await store.delete('t:a', 't:missing')).toBe(1);
        expect(await store.get('t:a')).toBeUndefined();
      });

      it('expires values after their TTL', async () => {
        await store.set('t:short', { v: 1 }, 150);
        await new Promise((r) => setTimeout(r, 400));
        expect(await store.get('t:short')).toBeUndefined();
      });

      it('add writes only when absent, and exactly one of many concurrent adds wins', async () => {
        expect(await store.add('t:nx', { who: 0 }, 60_000)).toBe(true);
        expect(await store.add('t:nx', { who: 1 }, 60_000)).toBe(false);
        expect(await store.get('t:nx')).toEqual({ who: 0 });
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.add('t:race', { i }, 60_000)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('take hands a value to exactly one of many concurrent callers', async () => {
        await store.set('t:once', { v: 'x' }, 60_000);
        const results = await Promise.all(Array.from({ length: 20 }, () => store.take('t:once')));
        expect(results.filter((r) => r !== undefined)).toEqual([{ v: 'x' }]);
        expect(await store.get('t:once')).toBeUndefined();
      });

      it('indexes add, re-score, range, count, evict beyond the cap and drop expired members', async () => {
        const now = Date.now();
        await store.indexAdd('t:ix', 'a', now + 10_000, { now });
        await store.indexAdd('t:ix', 'b', now + 20_000, { now });
        await store.indexAdd('t:ix', 'c', now + 30_000, { now });
        await store.indexAdd('t:ix', 'a', now + 40_000, { now });
        expect((await store.indexRange('t:ix', now)).map((e) => e.member)).toEqual(['b', 'c', 'a']);
        expect(await store.indexCount('t:ix', now)).toBe(3);
        const evicted = await store.indexAdd('t:ix', 'd', now + 50_000, { now, cap: 2 });
        expect(evicted.sort()).toEqual(['b', 'c']);
        expect((await store.indexRange('t:ix', now)).map((e) => e.member)).toEqual(['a', 'd']);
        expect(await store.indexCount('t:ix', now + 45_000)).toBe(1);
        await store.indexRemove('t:ix', ['a']);
        expect((await store.indexRange('t:ix', now)).map((e) => e.member)).toEqual(['d']);
        await store.indexDelete('t:ix');
        expect(await store.indexCount('t:ix', now)).toBe(0);
      });

      it('never evicts the member just added (unless the cap is 0)', async () => {
        const now = Date.now();
        await store.indexAdd('t:new', 'old', now + 50_000, { now });
        const evicted = await store.indexAdd('t:new', 'young', now + 10_000, { now, cap: 1 });
        expect(evicted).toEqual(['old']);
        expect((await store.indexRange('t:new', now)).map((e) => e.member)).toEqual(['young']);
      });

      it('keepGreater only raises a score', async () => {
        const now = Date.now();
        await store.indexAdd('t:gt', 'u', now + 50_000, { now });
        await store.indexAdd('t:gt', 'u', now + 10_000, { now, keepGreater: true });
        expect((await store.indexRange('t:gt', now))[0]!.score).toBe(now + 50_000);
        await store.indexAdd('t:gt', 'u', now + 90_000, { now, keepGreater: true });
        expect((await store.indexRange('t:gt', now))[0]!.score).toBe(now + 90_000);
      });

      it('keeps the cap under concurrent adds', async () => {
        const now = Date.now();
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            store.indexAdd('t:cap', `m${i}`, now + 1000 + i, { now, cap: 5 }),
          ),
        );
        expect(await store.indexCount('t:cap', now)).toBe(5);
      });

      it('lists live entries by prefix and sweeps expired ones', async () => {
        await store.set('t:e:1', { v: 1 }, 60_000);
        await store.set('t:e:2', { v: 2 }, 60_000);
        await store.set('t:f:1', { v: 3 }, 60_000);
        await store.set('t:e:old', { v: 4 }, 100);
        await new Promise((r) => setTimeout(r, 300));
        const seen: string[] = [];
        for await (const entry of store.entries('t:e:')) seen.push(entry.key);
        expect(seen.sort()).toEqual(['t:e:1', 't:e:2']);
        await store.sweep(Date.now());
        expect(await store.get('t:e:old')).toBeUndefined();
        expect(await store.get('t:e:1')).toEqual({ v: 1 });
      });

      it('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('tokens', () => {
      it('stores and validates a token with all its metadata', async () => {
        const cache = open();
        const info = await cache.storeToken({
          userId: 'ivanov',
          accessToken: 'access-1',
          refreshToken: 'refresh-1',
          tokenType: 'Bearer',
          expiresIn: 600,
          scopes: ['mcp'],
          clientId: 'client-a',
          resource: 'https://mcp.example/mcp',
          userData: { login: 'ivanov', password: 'Пароль123' },
        });
        const v = await cache.validateAccessToken('access-1');
        expect(v).toMatchObject({
          valid: true,
          userId: 'ivanov',
          clientId: 'client-a',
          scopes: ['mcp'],
          resource: 'https://mcp.example/mcp',
          tokenType: 'Bearer',
          familyId: info.familyId,
          userData: { login: 'ivanov', password: 'Пароль123' },
          needsRefresh: false,
        });
        expect(v!.expiresIn).toBeGreaterThan(590);
        expect(v!.expiresIn).toBeLessThanOrEqual(600);
        expect(await cache.validateAccessToken('refresh-1')).toBeNull();
        expect(await cache.validateAccessToken('unknown')).toBeNull();
        expect(await cache.validateAccessToken('')).toBeNull();
      });

      it('keeps several tokens per user (several devices): storing one never replaces another', async () => {
        const cache = open();
        await cache.storeToken({ userId: 'u', accessToken: 'laptop', clientId: 'c1' });
        await cache.storeToken({ userId: 'u', accessToken: 'phone', clientId: 'c2' });
        expect(await cache.validateAccessToken('laptop')).not.toBeNull();
        expect(await cache.validateAccessToken('phone')).not.toBeNull();
        const listed = await cache.getTokensForUser('u');
        expect(listed.map((t) => t.clientId).sort()).toEqual(['c1', 'c2']);
        expect(JSON.stringify(listed)).not.toContain('laptop');
      });

      it('rejects expired tokens and flags needsRefresh inside the threshold', async () => {
        const c = clock();
        const cache = open({ now: c.now, refreshThreshold: 300 });
        await cache.storeToken({ userId: 'u', accessToken: 'short', expiresIn: 600 });
        expect((await cache.validateAccessToken('short'))!.needsRefresh).toBe(false);
        c.advance(301_000);
        expect((await cache.validateAccessToken('short'))!.needsRefresh).toBe(true);
        c.advance(300_000);
        expect(await cache.validateAccessToken('short')).toBeNull();
        expect((await cache.stats()).tokens.expired).toBe(1);
      });

      it('stores a batch of tokens (migrations) that validate like single ones', async () => {
        const cache = open({ maxTokens: 1000 });
        const infos = await cache.storeTokens(
          Array.from({ length: 50 }, (_, i) => ({
            userId: `user${i % 7}`,
            accessToken: `batch-a${i}`,
            refreshToken: `batch-r${i}`,
            userData: { login: `user${i % 7}`, password: 'p' },
          })),
        );
        expect(infos).toHaveLength(50);
        for (let i = 0; i < 50; i += 7) {
          expect((await cache.validateAccessToken(`batch-a${i}`))!.userId).toBe(`user${i % 7}`);
        }
        expect((await cache.getTokensForUser('user0')).length).toBe(16);
        await expect(cache.rotateRefreshToken('batch-r3')).resolves.toBeDefined();
        expect((await cache.stats()).summary.totalUsers).toBe(7);
      });

      it('revokes one token, and all tokens of a user', async () => {
        const cache = open();
        await cache.storeToken({ userId: 'u', accessToken: 'a1', refreshToken: 'r1' });
        await cache.storeToken({ userId: 'u', accessToken: 'a2' });
        await cache.storeToken({ userId: 'other', accessToken: 'b1' });
        expect(await cache.revokeToken('a1')).toBe(true);
        expect(await cache.revokeToken('a1')).toBe(false);
        expect(await cache.validateAccessToken('a1')).toBeNull();
        expect(await cache.validateAccessToken('a2')).not.toBeNull();
        expect(await cache.revokeUserTokens('u')).toBeGreaterThanOrEqual(2);
        expect(await cache.validateAccessToken('a2')).toBeNull();
        expect(await cache.inspectRefreshToken('r1')).toBeNull();
        expect(await cache.validateAccessToken('b1')).not.toBeNull();
        expect(await cache.getTokensForUser('u')).toEqual([]);
      });

      it('revoking a refresh token revokes its family (RFC 7009)', async () => {
        const cache = open();
        await cache.storeToken({ userId: 'u', accessToken: 'a', refreshToken: 'r' });
        expect(await cache.revokeToken('r')).toBe(true);
        expect(await cache.validateAccessToken('a')).toBeNull();
      });

      it('refuses input that can never be valid with a clear error that does not echo the token', async () => {
        const cache = open();
        await expect(cache.storeToken({ userId: '', accessToken: 'x' })).rejects.toThrow(/userId/);
        await expect(cache.storeToken({ userId: 'u' })).rejects.toThrow(/accessToken or a refreshToken/);
        const long = 's'.repeat(5000);
        await expect(cache.storeToken({ userId: 'u', accessToken: long })).rejects.toThrow(/longer than/);
        await expect(
          cache.storeToken({ userId: 'u', accessToken: 'secret-tok', expiresIn: -1 }),
        ).rejects.toThrow(/positive/);
        await expect(
          cache.storeToken({ userId: 'u', accessToken: 'secret-tok', expiresIn: -1 }),
        ).rejects.not.toThrow(/secret-tok/);
        expect(await cache.validateAccessToken(long)).toBeNull();
      });
    });

    describe('nothing raw at rest', () => {
      for (const level of ['basic', 'enhanced', 'maximum'] as const) {
        it(`keys records by digest; ${level === 'basic' ? 'tokens' : 'tokens and 1C passwords'} never appear raw (${level})`, async () => {
          const cache = open({ securityLevel: level });
          const access = 'RAW-ACCESS-TOKEN-4f1c2b';
          const refresh = 'RAW-REFRESH-TOKEN-9a8b7c';
          const password = 'S3cret-Пароль-1c';
          await cache.storeToken({
            userId: 'ivanov',
            accessToken: access,
            refreshToken: refresh,
            userData: { login: 'ivanov', password },
            retrievable: true,
          });
          const session = await cache.createSession('ivanov', { note: password });
          await cache.rotateRefreshToken(refresh);
          const seen: string[] = [];
          for await (const e of store.entries(cache.config.prefix))
            seen.push(e.key + JSON.stringify(e.value));
          const text = seen.join('\n') + (options.rawDump ? await options.rawDump(store) : '');
          expect(text).not.toContain(access);
          expect(text).not.toContain(refresh);
          expect(text).not.toContain(session.id);
          if (level !== 'basic') expect(text).not.toContain(password);
          if (level === 'maximum') expect(text).not.toContain('ivanov');
          expect((await cache.validateAccessToken(access))!.userData).toEqual({ login: 'ivanov', password });
        });
      }

      it('opens records sealed under an older key after rotation; new records use the newest key', async () => {
        const k1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
        const k2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`;
        const before = open({ securityLevel: 'maximum', encryptionKeys: k1 });
        await before.storeToken({ userId: 'u', accessToken: 'old', userData: { p: 1 } });
        const after = open({ securityLevel: 'maximum', encryptionKeys: `${k2},${k1}` });
        expect((await after.validateAccessToken('old'))!.userData).toEqual({ p: 1 });
        await after.storeToken({ userId: 'u', accessToken: 'new', userData: { p: 2 } });
        const raw: string[] = [];
        for await (const e of store.entries(after.config.prefix)) raw.push(JSON.stringify(e.value));
        expect(raw.some((r) => r.includes('"v1.k2.'))).toBe(true);
        const onlyOld = open({ securityLevel: 'maximum', encryptionKeys: k1 });
        expect(await onlyOld.validateAccessToken('new')).toBeNull();
        expect(await onlyOld.validateAccessToken('old')).not.toBeNull();
      });

      it('a different secret finds nothing (digest keys)', async () => {
        const a = open();
        await a.storeToken({ userId: 'u', accessToken: 'tok' });
        const b = open({ secret: Buffer.alloc(32, 9).toString('base64') });
        expect(await b.validateAccessToken('tok')).toBeNull();
      });

      it('maximum reports every rejection as a security event', async () => {
        const cache = open({ securityLevel: 'maximum' });
        const events: string[] = [];
        cache.events.on('security', (e) => events.push(`${e.type}:${e.reason}`));
        await cache.validateAccessToken('nope');
        await cache.validateAccessToken('');
        expect(events).toEqual(['token_rejected:miss', 'token_rejected:malformed']);
        expect(JSON.stringify(events)).not.toContain('nope');
      });
    });

    describe('refresh tokens and families', () => {
      it('rotates: the old refresh token is consumed, the next pair is in the same family', async () => {
        const cache = open();
        const first = await cache.storeToken({
          userId: 'u',
          accessToken: 'a0',
          refreshToken: 'r0',
          clientId: 'c',
          scopes: ['mcp'],
          userData: { login: 'u', password: 'p' },
        });
        const rotated = await cache.rotateRefreshToken('r0', { clientId: 'c' });
        expect(rotated.info.familyId).toBe(first.familyId);
        expect(rotated.previous.userId).toBe('u');
        const v = await cache.validateAccessToken(rotated.tokens.accessToken);
        expect(v).toMatchObject({ userId: 'u', clientId: 'c', scopes: ['mcp'], familyId: first.familyId });
        expect(v!.userData).toEqual({ login: 'u', password: 'p' });
        expect(await cache.inspectRefreshToken('r0')).toBeNull();
        expect(await cache.inspectRefreshToken(rotated.tokens.refreshToken!)).not.toBeNull();
        expect(await cache.validateAccessToken('a0')).not.toBeNull();
      });

      it('a consumed refresh token presented again revokes the whole family and reports reuse_detected', async () => {
        const cache = open();
        const events: string[] = [];
        cache.events.on('security', (e) => events.push(e.type));
        await cache.storeToken({ userId: 'u', accessToken: 'a0', refreshToken: 'r0' });
        const next = await cache.rotateRefreshToken('r0');
        const err = await cache.rotateRefreshToken('r0').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvalidGrantError);
        expect((err as InvalidGrantError).reason).toBe('reused');
        expect(events).toContain('reuse_detected');
        expect(await cache.validateAccessToken('a0')).toBeNull();
        expect(await cache.validateAccessToken(next.tokens.accessToken)).toBeNull();
        expect(await cache.inspectRefreshToken(next.tokens.refreshToken!)).toBeNull();
        await expect(cache.rotateRefreshToken(next.tokens.refreshToken!)).rejects.toBeInstanceOf(
          InvalidGrantError,
        );
        expect((await cache.stats()).security.reuseDetected).toBe(1);
      });

      it('within the reuse leeway a second presentation is a race: refused, family kept', async () => {
        const cache = open({ reuseLeewayMs: 60_000 });
        await cache.storeToken({ userId: 'u', accessToken: 'a0', refreshToken: 'r0' });
        const next = await cache.rotateRefreshToken('r0');
        const err = (await cache.rotateRefreshToken('r0').catch((e: unknown) => e)) as InvalidGrantError;
        expect(err.reason).toBe('race');
        expect(await cache.validateAccessToken(next.tokens.accessToken)).not.toBeNull();
      });

      it('concurrent rotation of one refresh token: exactly one caller wins, the family survives', async () => {
        const cache = open({ reuseLeewayMs: 60_000 });
        await cache.storeToken({ userId: 'u', accessToken: 'a0', refreshToken: 'r0' });
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, () => cache.rotateRefreshToken('r0')),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidGrantError);
        const winner = (
          won[0] as PromiseFulfilledResult<Awaited<ReturnType<TokenCache['rotateRefreshToken']>>>
        ).value;
        expect(await cache.validateAccessToken(winner.tokens.accessToken)).not.toBeNull();
      });

      it('refuses a refresh token presented by another client without consuming it', async () => {
        const cache = open();
        await cache.storeToken({ userId: 'u', refreshToken: 'r0', clientId: 'good' });
        const err = (await cache
          .rotateRefreshToken('r0', { clientId: 'evil' })
          .catch((e: unknown) => e)) as InvalidGrantError;
        expect(err.reason).toBe('mismatch');
        await expect(cache.rotateRefreshToken('r0', { clientId: 'good' })).resolves.toBeDefined();
      });

      it('unknown refresh tokens are invalid_grant', async () => {
        const cache = open();
        const err = (await cache
          .rotateRefreshToken('never-issued')
          .catch((e: unknown) => e)) as InvalidGrantError;
        expect(err.code).toBe('invalid_grant');
        expect(err.reason).toBe('unknown');
        expect(err.message).not.toContain('never-issued');
      });

      it('revokeFamily removes every token of the grant', async () => {
        const cache = open();
        const { familyId } = await cache.storeToken({ userId: 'u', accessToken: 'a0', refreshToken: 'r0' });
        const next = await cache.rotateRefreshToken('r0');
        expect(await cache.revokeFamily(familyId)).toBeGreaterThanOrEqual(2);
        expect(await cache.validateAccessToken('a0')).toBeNull();
        expect(await cache.validateAccessToken(next.tokens.accessToken)).toBeNull();
      });
    });

    describe('proactive refresh', () => {
      it('getFreshToken returns the stored token while fresh, refreshes once near expiry for concurrent callers', async () => {
        const c = clock();
        const cache = open({ now: c.now, refreshThreshold: 300 });
        await cache.storeToken({
          userId: 'u',
          accessToken: 'a0',
          refreshToken: 'r0',
          expiresIn: 600,
          retrievable: true,
        });
        let calls = 0;
        const refresher = async ({ refreshToken }: { refreshToken: string | undefined }) => {
          calls++;
          expect(refreshToken).toBe('r0');
          await new Promise((r) => setTimeout(r, 50));
          return { accessToken: `a${calls}`, refreshToken: `r${calls}`, expiresIn: 3600 };
        };
        expect(await cache.getFreshToken('u', refresher)).toMatchObject({
          accessToken: 'a0',
          refreshed: false,
        });
        c.advance(400_000);
        const results = await Promise.all(
          Array.from({ length: 5 }, () => cache.getFreshToken('u', refresher)),
        );
        expect(calls).toBe(1);
        expect(new Set(results.map((r) => r.accessToken))).toEqual(new Set(['a1']));
        expect(await cache.validateAccessToken('a1')).not.toBeNull();
        expect(await cache.getFreshToken('u', refresher)).toMatchObject({
          accessToken: 'a1',
          refreshed: false,
        });
        expect(calls).toBe(1);
      });
    });

    describe('sessions', () => {
      it('creates, reads, touches (sliding) and revokes sessions', async () => {
        const c = clock();
        const cache = open({
          now: c.now,
          sessionTimeout: 600,
          sessionAbsoluteTimeout: 1000,
          touchInterval: 0,
        });
        const s = await cache.createSession('u', { device: 'laptop' });
        expect(await cache.getSession(s.id)).toMatchObject({ userId: 'u', data: { device: 'laptop' } });
        c.advance(500_000);
        const touched = await cache.touchSession(s.id);
        expect(touched!.expiresAt).toBe(Math.min(c.now() + 600_000, s.absoluteExpiresAt));
        c.advance(400_000);
        expect(await cache.getSession(s.id)).not.toBeNull();
        c.advance(150_000);
        expect(await cache.touchSession(s.id)).toBeNull();
        const s2 = await cache.createSession('u');
        expect(await cache.revokeSession(s2.id)).toBe(true);
        expect(await cache.getSession(s2.id)).toBeNull();
        expect(await cache.revokeSession(s2.id)).toBe(false);
      });

      it('expires idle sessions', async () => {
        const c = clock();
        const cache = open({ now: c.now, sessionTimeout: 600 });
        const s = await cache.createSession('u');
        c.advance(601_000);
        expect(await cache.getSession(s.id)).toBeNull();
      });

      it('keeps at most maxSessionsPerUser, evicting the least recently active', async () => {
        const c = clock();
        const cache = open({ now: c.now, maxSessionsPerUser: 3, touchInterval: 0 });
        const sessions = [];
        for (let i = 0; i < 3; i++) {
          sessions.push(await cache.createSession('u', { i }));
          c.advance(1000);
        }
        await cache.touchSession(sessions[0]!.id);
        c.advance(1000);
        const fourth = await cache.createSession('u', { i: 3 });
        expect(await cache.getSession(sessions[1]!.id)).toBeNull();
        expect(await cache.getSession(sessions[0]!.id)).not.toBeNull();
        expect(await cache.getSession(fourth.id)).not.toBeNull();
        expect(await cache.getSessionsForUser('u')).toHaveLength(3);
        const other = await cache.createSession('v');
        expect(await cache.getSession(other.id)).not.toBeNull();
        expect((await cache.stats()).sessions.evicted).toBe(1);
      });

      it('tokens bound to a session die with it', async () => {
        const cache = open();
        const s = await cache.createSession('u');
        await cache.storeToken({
          userId: 'u',
          accessToken: 'bound',
          refreshToken: 'rbound',
          sessionId: s.id,
        });
        await cache.storeToken({ userId: 'u', accessToken: 'free' });
        expect((await cache.validateAccessToken('bound'))!.sessionId).toBe(s.id);
        await cache.revokeSession(s.id);
        expect(await cache.validateAccessToken('bound')).toBeNull();
        expect(await cache.inspectRefreshToken('rbound')).toBeNull();
        expect(await cache.validateAccessToken('free')).not.toBeNull();
      });

      it('a token bound to a session that timed out is refused', async () => {
        const c = clock();
        const cache = open({ now: c.now, sessionTimeout: 600, tokenTtl: 3600 });
        const s = await cache.createSession('u');
        await cache.storeToken({ userId: 'u', accessToken: 'bound', sessionId: s.id, expiresIn: 3600 });
        c.advance(700_000);
        expect(await cache.validateAccessToken('bound')).toBeNull();
      });
    });

    describe('limits, cleanup, stats', () => {
      it('enforces maxTokens without blocking: the soonest-expiring tokens are evicted', async () => {
        const cache = open({ maxTokens: 5 });
        for (let i = 0; i < 12; i++)
          await cache.storeToken({ userId: `u${i % 3}`, accessToken: `t${i}`, expiresIn: 100 + i });
        const alive = [];
        for (let i = 0; i < 12; i++) if (await cache.validateAccessToken(`t${i}`)) alive.push(i);
        expect(alive).toEqual([7, 8, 9, 10, 11]);
        const stats = await cache.stats();
        expect(stats.summary.totalActiveTokens).toBe(5);
        expect(stats.tokens.evicted).toBe(7);
      });

      it('judges maxTokens of a batch (storeTokens) with the whole batch in', async () => {
        const cache = open({ maxTokens: 5 });
        await cache.storeTokens(
          Array.from({ length: 12 }, (_, i) => ({
            userId: `u${i % 3}`,
            accessToken: `b${i}`,
            expiresIn: 100 + i,
          })),
        );
        const alive = [];
        for (let i = 0; i < 12; i++) if (await cache.validateAccessToken(`b${i}`)) alive.push(i);
        expect(alive).toEqual([7, 8, 9, 10, 11]);
        expect((await cache.stats()).tokens.evicted).toBe(7);
      });

      it('enforces maxSessions globally', async () => {
        const cache = open({ maxSessions: 4 });
        const ids = [];
        for (let i = 0; i < 7; i++) ids.push((await cache.createSession(`user${i}`)).id);
        expect((await cache.stats()).summary.totalActiveSessions).toBe(4);
      });

      it('purges expired records and counts them', async () => {
        const cache = open();
        await cache.storeToken({ userId: 'u', accessToken: 'soon', expiresIn: 0.2 });
        await cache.storeToken({ userId: 'u', accessToken: 'later', expiresIn: 600 });
        await new Promise((r) => setTimeout(r, 500));
        const removed = await cache.purgeExpired();
        expect(removed).toBeGreaterThanOrEqual(0);
        expect(await cache.validateAccessToken('later')).not.toBeNull();
        expect((await cache.stats()).cleanup.runs).toBe(1);
      });

      it('reports stats whose counters never go negative', async () => {
        const cache = open();
        await cache.storeToken({ userId: 'u', accessToken: 'a' });
        await cache.storeToken({ userId: 'v', accessToken: 'b' });
        await cache.validateAccessToken('a');
        await cache.validateAccessToken('missing');
        await cache.revokeToken('a');
        await cache.revokeToken('a');
        await cache.revokeUserTokens('nobody');
        const s = await cache.stats();
        expect(s.summary).toEqual({
          totalActiveTokens: 1,
          totalActiveSessions: 0,
          totalUsers: 2,
          cacheHitRate: 50,
        });
        const numbers = JSON.stringify(s).match(/-\d/g);
        expect(numbers).toBeNull();
        expect(s.tokens).toMatchObject({ validations: 2, hits: 1, misses: 1, revoked: 1, stored: 2 });
        expect(s.store.kind).toBe(store.kind);
      });

      it('emits an operation event for every call', async () => {
        const cache = open();
        const ops: string[] = [];
        cache.events.on('operation', (e) => ops.push(`${e.subject}.${e.operation}.${e.result}`));
        await cache.storeToken({ userId: 'u', accessToken: 'a' });
        await cache.validateAccessToken('a');
        await cache.validateAccessToken('zzz');
        const s = await cache.createSession('u');
        await cache.getSession(s.id);
        expect(ops).toEqual([
          'token.store.ok',
          'token.validate.hit',
          'token.validate.miss',
          'session.create.ok',
          'session.get.hit',
        ]);
      });
    });

    describe('export and import', () => {
      /** A second cache on a fresh store with the same secret and keys, under its own prefix. */
      const importTarget = async (prefix: string) =>
        createTokenCache({
          store: await options.createStore(),
          environment: 'test',
          secret: SECRET,
          encryptionKeys: KEYS,
          autoCleanup: false,
          prefix,
        });

      it('exports every live record and imports it idempotently into another cache on the same keys', async () => {
        const source = open();
        await source.storeToken({
          userId: 'u',
          accessToken: 'a',
          refreshToken: 'r',
          userData: { password: 'p' },
        });
        await source.createSession('u');
        const records = [];
        for await (const r of source.exportRecords()) records.push(r);
        expect(records.map((r) => r.key.split(':')[0]).sort()).toEqual(['at', 'rt', 's']);
        const target = await importTarget('other:');
        try {
          expect(await target.importRecords(records)).toEqual(records.map(() => 'written'));
          for (const r of records) expect(await target.importRecord(r)).toBe('kept');
          expect(await target.importRecord({ ...records[0]!, expiresAt: Date.now() - 1 })).toBe('expired');
          await expect(
            target.importRecord({ key: 'zz:1', value: {}, expiresAt: Date.now() + 1000 }),
          ).rejects.toThrow(/known key/);
          expect((await target.validateAccessToken('a'))!.userData).toEqual({ password: 'p' });
          expect(await target.getTokensForUser('u')).toHaveLength(2);
          await expect(target.rotateRefreshToken('r')).resolves.toBeDefined();
        } finally {
          await target.close();
        }
      });

      it('importRecords with assumeAbsent writes without reading what is stored (the caller vouches for it)', async () => {
        const source = open();
        await source.storeToken({
          userId: 'u',
          accessToken: 'a',
          userData: { password: 'p' },
          expiresIn: 600,
        });
        const exported = [];
        for await (const r of source.exportRecords()) exported.push(r);
        const record = exported[0];
        const target = await importTarget('absent:');
        try {
          expect(await target.importRecords([record!], { assumeAbsent: true })).toEqual(['written']);
          expect((await target.validateAccessToken('a'))!.userData).toEqual({ password: 'p' });
          expect(await target.getTokensForUser('u')).toHaveLength(1);
          // The record is there now: the checked import keeps it; assumeAbsent writes it again, even
          // with a shorter expiry (which is why only a caller that knows the key is absent may ask).
          const shorter = { ...record!, expiresAt: record!.expiresAt - 60_000 };
          expect(await target.importRecords([shorter])).toEqual(['kept']);
          expect(await target.importRecords([shorter], { assumeAbsent: true })).toEqual(['written']);
          expect((await target.validateAccessToken('a'))!.userData).toEqual({ password: 'p' });
          expect(
            await target.importRecords([{ ...record!, expiresAt: Date.now() - 1 }], { assumeAbsent: true }),
          ).toEqual(['expired']);
        } finally {
          await target.close();
        }
      });
    });
  });
}

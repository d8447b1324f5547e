/**
 * The shared suites every store runs, each with a few lines (keyv's `@keyv/test-suite` and Auth.js's
 * adapter suite work this way):
 *
 * - {@link runStoreSuite}: the store-level suite, the executable form of the contract in
 *   `store/contract.ts` (records, indexes, commit, listing and sweep, optional capabilities).
 * - {@link runConformanceSuite}: every behaviour of the cache (tokens, nothing raw at rest, refresh,
 *   sessions, limits, export/import) run through `createTokenCache` over one store.
 *
 * ```ts
 * import { runConformanceSuite, runStoreSuite } from '@oauth-cache/core/conformance';
 * runStoreSuite({ name: 'sqlite', open: () => SqliteStore.open({ path: tmpFile() }) });
 * runConformanceSuite({ name: 'sqlite', createStore: () => createStore(`sqlite://${tmpFile()}`), rawDump });
 * ```
 *
 * `rawDump` reads the backend directly (SQL rows, Redis SCAN + GET) and returns everything as text,
 * so the suite can check that no raw token or password ever landed in the store.
 *
 * Requires vitest (an optional peer dependency of this package).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CapacityError, InvalidGrantError } from '../errors.js';
import { legacyFamilyId } from '../records/keys.js';
import type { CacheStore } from '../store/contract.js';
import { createTokenCache, type TokenCache, type TokenCacheOptions } from '../token-cache.js';
import { grantRecordTests } from './grant-records.js';

export { runStoreSuite, type StoreCapabilities, type StoreSuiteOptions } from './store-suite/index.js';

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
        const cache = open({ maxTokens: 1000, maxGrantsPerUser: 10 });
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

      for (const level of ['enhanced', 'maximum'] as const) {
        it(`the store plus every server key open no 1C password${level === 'maximum' ? ' and no login' : ''} (${level})`, async () => {
          const cache = open({ securityLevel: level });
          const password = 'Leaked-Пароль-77';
          const login = 'leak-login-sidorov';
          const first = {
            accessToken: 'LEAK-ACCESS-0123456789abcdef',
            refreshToken: 'LEAK-REFRESH-0123456789abcdef',
          };
          await cache.storeToken({ userId: login, ...first, userData: { login, password } });
          const rotated = await cache.rotateRefreshToken(first.refreshToken);
          // The attacker: the same secret and keys, every record the store holds.
          const attacker = open({ securityLevel: level });
          const opened: string[] = [];
          for await (const record of attacker.exportRecords()) {
            opened.push(JSON.stringify(attacker.readStoredRecord(record.key, record.value) ?? null));
          }
          expect(opened.length).toBeGreaterThanOrEqual(3);
          const text = opened.join('\n') + (options.rawDump ? await options.rawDump(store) : '');
          expect(text).not.toContain(password);
          if (level === 'maximum') expect(text).not.toContain(login);
          else expect(text).toContain(login);
          // Whoever presents a token opens its record.
          for (const token of [first.accessToken, rotated.tokens.accessToken]) {
            expect((await cache.validateAccessToken(token))?.userData).toEqual({ login, password });
          }
          expect((await cache.inspectRefreshToken(rotated.tokens.refreshToken!))?.userId).toBe(login);
          // Having opened them for their holders, the same process still shows the server-key view
          // to callers without the token.
          for await (const record of cache.exportRecords()) {
            const view = JSON.stringify(cache.readStoredRecord(record.key, record.value) ?? null);
            expect(view).not.toContain(password);
            if (level === 'maximum') expect(view).not.toContain(login);
          }
          expect(await cache.getTokensForUser(login)).toHaveLength(3);
          expect(await cache.revokeUserTokens(login)).toBeGreaterThanOrEqual(3);
          expect(await cache.validateAccessToken(first.accessToken)).toBeNull();
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

    describe('grant records', () => {
      grantRecordTests({ store: () => store, open });
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

      describe('retry-safe rotation (RFC 9700 §4.14.2)', () => {
        type Rotated = Awaited<ReturnType<TokenCache['rotateRefreshToken']>>;
        const password = 'Retry-Пароль-7';
        const grant = async (cache: TokenCache) =>
          cache.storeToken({
            userId: 'ivanov',
            accessToken: 'a0',
            refreshToken: 'r0',
            clientId: 'c',
            scopes: ['mcp'],
            userData: { login: 'ivanov', password },
          });
        const reasonOf = async (promise: Promise<unknown>) =>
          ((await promise.catch((e: unknown) => e)) as InvalidGrantError).reason;

        it('a lost response: the same client presenting the token again within the leeway gets a working pair, the missed one is revoked', async () => {
          const cache = open({ reuseLeewayMs: 60_000, securityLevel: 'maximum' });
          const events: Array<{ type: string; clientAddress?: string }> = [];
          cache.events.on('security', (e) => events.push(e));
          const { familyId } = await grant(cache);
          const missed = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          const retried = await cache.rotateRefreshToken('r0', { clientId: 'c', clientAddress: '192.0.2.1' });
          expect(retried.info.familyId).toBe(familyId);
          expect(retried.previous).toMatchObject({ userId: 'ivanov', clientId: 'c', scopes: ['mcp'] });
          expect(await cache.validateAccessToken(missed.tokens.accessToken)).toBeNull();
          expect(await cache.inspectRefreshToken(missed.tokens.refreshToken!)).toBeNull();
          const v = await cache.validateAccessToken(retried.tokens.accessToken);
          expect(v).toMatchObject({ userId: 'ivanov', clientId: 'c', scopes: ['mcp'], familyId });
          expect(v!.userData).toEqual({ login: 'ivanov', password });
          expect(events).toContainEqual(
            expect.objectContaining({ type: 'refresh_retry', clientAddress: '192.0.2.1' }),
          );
          // Lost twice: the second retry replaces the first retry's pair; the leeway still counts
          // from the rotation.
          const again = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          expect(await cache.validateAccessToken(retried.tokens.accessToken)).toBeNull();
          expect(await cache.validateAccessToken(again.tokens.accessToken)).not.toBeNull();
          await expect(
            cache.rotateRefreshToken(again.tokens.refreshToken!, { clientId: 'c' }),
          ).resolves.toBeDefined();
          expect((await cache.stats()).security.reuseDetected).toBe(0);
          // The retry record keeps the metadata, never a raw token or the 1C password in the clear.
          const seen: string[] = [];
          for await (const e of store.entries(cache.config.prefix))
            seen.push(e.key + JSON.stringify(e.value));
          const text = seen.join('\n') + (options.rawDump ? await options.rawDump(store) : '');
          for (const raw of [missed.tokens.refreshToken!, retried.tokens.accessToken, password, 'ivanov'])
            expect(text).not.toContain(raw);
        });

        it('a retry after the new pair was used (its refresh token rotated) is reuse: the whole grant is revoked', async () => {
          const cache = open({ reuseLeewayMs: 60_000 });
          const events: Array<{ type: string; clientAddress?: string; reason?: string }> = [];
          cache.events.on('security', (e) => events.push(e));
          await grant(cache);
          const first = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          const second = await cache.rotateRefreshToken(first.tokens.refreshToken!, { clientId: 'c' });
          expect(
            await reasonOf(cache.rotateRefreshToken('r0', { clientId: 'c', clientAddress: '198.51.100.4' })),
          ).toBe('reused');
          expect(await cache.validateAccessToken(second.tokens.accessToken)).toBeNull();
          expect(await cache.inspectRefreshToken(second.tokens.refreshToken!)).toBeNull();
          expect(await cache.validateAccessToken('a0')).toBeNull();
          expect(events).toContainEqual(
            expect.objectContaining({
              type: 'reuse_detected',
              clientAddress: '198.51.100.4',
              reason: 'new_pair_used',
            }),
          );
        });

        it('a consumed token presented by another client is reuse even within the leeway', async () => {
          const cache = open({ reuseLeewayMs: 60_000 });
          const events: Array<{ type: string; clientId?: string; clientAddress?: string; reason?: string }> =
            [];
          cache.events.on('security', (e) => events.push(e));
          await grant(cache);
          const first = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          expect(
            await reasonOf(
              cache.rotateRefreshToken('r0', { clientId: 'evil', clientAddress: '203.0.113.9' }),
            ),
          ).toBe('reused');
          expect(await cache.validateAccessToken(first.tokens.accessToken)).toBeNull();
          expect(
            await reasonOf(cache.rotateRefreshToken(first.tokens.refreshToken!, { clientId: 'c' })),
          ).not.toBe(undefined);
          expect(events).toContainEqual(
            expect.objectContaining({
              type: 'reuse_detected',
              clientId: 'evil',
              clientAddress: '203.0.113.9',
              reason: 'other_client',
            }),
          );
          expect((await cache.stats()).security.reuseDetected).toBe(1);
        });

        it('after the leeway a presentation is reuse, even from the same client', async () => {
          const c = clock();
          const cache = open({ now: c.now, reuseLeewayMs: 2000 });
          await grant(cache);
          const first = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          c.advance(2000);
          expect(await reasonOf(cache.rotateRefreshToken('r0', { clientId: 'c' }))).toBe('reused');
          expect(await cache.validateAccessToken(first.tokens.accessToken)).toBeNull();
        });

        it('the refresh token a retry replaced (never delivered) is reuse when presented', async () => {
          const cache = open({ reuseLeewayMs: 60_000 });
          await grant(cache);
          const missed = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          const retried = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          expect(
            await reasonOf(cache.rotateRefreshToken(missed.tokens.refreshToken!, { clientId: 'c' })),
          ).toBe('reused');
          expect(await cache.validateAccessToken(retried.tokens.accessToken)).toBeNull();
        });

        it('of two presentations that both found the token live, the first to commit wins; the other is a race: refused, family kept', async () => {
          const cache = open({ reuseLeewayMs: 60_000 });
          await grant(cache);
          let release = () => {};
          const issuing = new Promise<void>((resolve) => {
            release = resolve;
          });
          let entered = () => {};
          const inIssue = new Promise<void>((resolve) => {
            entered = resolve;
          });
          const slow = cache.rotateRefreshToken('r0', {
            clientId: 'c',
            issue: async () => {
              entered();
              await issuing;
              return { accessToken: 'a1', refreshToken: 'r1' };
            },
          });
          await inIssue;
          const fast = await cache.rotateRefreshToken('r0', { clientId: 'c' });
          release();
          expect(await reasonOf(slow)).toBe('race');
          // The slow one's pair was never written; the winner's works and rotates on.
          expect(await cache.validateAccessToken('a1')).toBeNull();
          expect(await cache.validateAccessToken(fast.tokens.accessToken)).not.toBeNull();
          await expect(
            cache.rotateRefreshToken(fast.tokens.refreshToken ?? '', { clientId: 'c' }),
          ).resolves.toBeDefined();
        });

        it('concurrent presentations (first rotation or retries): exactly one working pair remains', async () => {
          const cache = open({ reuseLeewayMs: 60_000 });
          await grant(cache);
          const rotateMany = () =>
            Promise.allSettled(
              Array.from({ length: 10 }, () => cache.rotateRefreshToken('r0', { clientId: 'c' })),
            );
          // First the live token, then (its rotation done) the consumed one: retries.
          for (let round = 0; round < 2; round++) {
            const results = await rotateMany();
            const won = results.filter((r): r is PromiseFulfilledResult<Rotated> => r.status === 'fulfilled');
            expect(won.length).toBeGreaterThanOrEqual(1);
            for (const r of results)
              if (r.status === 'rejected') {
                expect(r.reason).toBeInstanceOf(InvalidGrantError);
                expect(['race', 'unknown']).toContain((r.reason as InvalidGrantError).reason);
              }
            const working = [];
            for (const w of won)
              if (await cache.validateAccessToken(w.value.tokens.accessToken)) working.push(w.value);
            expect(working).toHaveLength(1);
          }
          expect((await cache.stats()).security.reuseDetected).toBe(0);
        });
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
      it('a legacy grant (named after its one imported token) is revoked, listed and rotated like any other', async () => {
        const cache = open();
        const familyId = legacyFamilyId('refresh', cache.digest('legacy-refresh'));
        await cache.storeTokens(
          [
            {
              userId: 'u',
              refreshToken: 'legacy-refresh',
              familyId,
              userData: { login: 'u', password: 'p' },
            },
          ],
          { evict: false },
        );
        const user = cache.directory.userHashOf('u');
        const listed = await cache.directory.getUser(user);
        expect(listed?.grants).toMatchObject([{ id: familyId, liveTokens: 1 }]);
        const next = await cache.rotateRefreshToken('legacy-refresh');
        expect(next.info.familyId).toBe(familyId);
        expect(await cache.validateAccessToken(next.tokens.accessToken)).not.toBeNull();
        expect(await cache.directory.revokeGrant(user, familyId, { operator: 'ops' })).toBe(2);
        expect(await cache.validateAccessToken(next.tokens.accessToken)).toBeNull();
        expect(await cache.inspectRefreshToken(next.tokens.refreshToken!)).toBeNull();
      });

      it("a family id naming another grant's token does not reach that token", async () => {
        const cache = open();
        await cache.storeToken({ userId: 'v', accessToken: 'not-legacy' });
        const named = legacyFamilyId('access', cache.digest('not-legacy'));
        await cache.storeToken({ userId: 'w', accessToken: 'w-token', familyId: named });
        expect(await cache.revokeFamily(named)).toBe(1);
        expect(await cache.validateAccessToken('w-token')).toBeNull();
        expect(await cache.validateAccessToken('not-legacy')).not.toBeNull();
        expect((await cache.directory.getUser(cache.directory.userHashOf('w')))?.grants ?? []).toEqual([]);
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
      it('refuses a token beyond maxTokens with CapacityError, evicting nothing', async () => {
        const cache = open({ maxTokens: 5 });
        const events: string[] = [];
        cache.events.on('security', (e) => events.push(e.type));
        for (let i = 0; i < 5; i++)
          await cache.storeToken({ userId: `u${i}`, accessToken: `t${i}`, expiresIn: 100 + i });
        const err = await cache
          .storeToken({ userId: 'late', accessToken: 'late-token', expiresIn: 9999 })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CapacityError);
        expect(err).toMatchObject({ code: 'capacity_reached', limit: 'MAX_TOKEN_CACHE_SIZE' });
        expect((err as CapacityError).retryAfterSeconds).toBeGreaterThan(0);
        expect((err as Error).message).not.toContain('late-token');
        for (let i = 0; i < 5; i++) expect(await cache.validateAccessToken(`t${i}`)).not.toBeNull();
        expect(await cache.validateAccessToken('late-token')).toBeNull();
        expect(await cache.getTokensForUser('late')).toEqual([]);
        expect(events).toEqual(['capacity_reached']);
        const stats = await cache.stats();
        expect(stats.summary.totalActiveTokens).toBe(5);
        expect(stats.tokens).toMatchObject({ refused: 1, evicted: 0, stored: 5 });
        // Room again once a token goes: the next issuance is accepted.
        await cache.revokeToken('t0');
        await expect(cache.storeToken({ userId: 'late', accessToken: 'late-token' })).resolves.toBeDefined();
      });

      it("one user's logins never take another user's tokens (global cap 20, 100 logins)", async () => {
        const cache = open({ maxTokens: 20, maxGrantsPerUser: 1000 });
        await cache.storeToken({ userId: 'victim', accessToken: 'victim-a', refreshToken: 'victim-r' });
        let refused = 0;
        for (let i = 0; i < 100; i++) {
          try {
            await cache.storeToken({ userId: 'hammer', accessToken: `h-a${i}`, refreshToken: `h-r${i}` });
          } catch (error) {
            expect(error).toBeInstanceOf(CapacityError);
            refused++;
          }
        }
        expect(refused).toBe(91);
        expect(await cache.validateAccessToken('victim-a')).not.toBeNull();
        expect(await cache.inspectRefreshToken('victim-r')).not.toBeNull();
        await expect(
          cache.storeToken({ userId: 'newcomer', accessToken: 'n-a', refreshToken: 'n-r' }),
        ).rejects.toBeInstanceOf(CapacityError);
        expect((await cache.stats()).tokens).toMatchObject({ refused: 92, evicted: 0, active: 20 });
      });

      it('with the default per-user cap, 100 logins of one user keep 5 grants and leave room for others', async () => {
        const c = clock();
        const cache = open({ now: c.now, maxTokens: 20 });
        expect(cache.config.maxGrantsPerUser).toBe(5);
        await cache.storeToken({ userId: 'victim', accessToken: 'victim-a', refreshToken: 'victim-r' });
        for (let i = 0; i < 100; i++) {
          c.advance(1);
          await cache.storeToken({ userId: 'hammer', accessToken: `h-a${i}`, refreshToken: `h-r${i}` });
        }
        const families = new Set((await cache.getTokensForUser('hammer')).map((t) => t.familyId));
        expect(families.size).toBe(5);
        for (let i = 95; i < 100; i++) expect(await cache.validateAccessToken(`h-a${i}`)).not.toBeNull();
        expect(await cache.validateAccessToken('h-a94')).toBeNull();
        expect(await cache.validateAccessToken('victim-a')).not.toBeNull();
        expect(await cache.inspectRefreshToken('victim-r')).not.toBeNull();
        await expect(cache.storeToken({ userId: 'other', accessToken: 'o-a' })).resolves.toBeDefined();
        expect((await cache.stats()).tokens).toMatchObject({ refused: 0, evicted: 190, active: 13 });
      });

      it('refuses a rotation on a full cache before consuming the refresh token', async () => {
        const cache = open({ maxTokens: 4 });
        await cache.storeToken({ userId: 'u', accessToken: 'a0', refreshToken: 'r0' });
        await cache.storeToken({ userId: 'v', accessToken: 'b0', refreshToken: 'b-r0' });
        await expect(cache.rotateRefreshToken('r0')).rejects.toBeInstanceOf(CapacityError);
        expect(await cache.inspectRefreshToken('r0')).not.toBeNull();
        await cache.revokeToken('b0');
        const rotated = await cache.rotateRefreshToken('r0');
        expect(await cache.validateAccessToken(rotated.tokens.accessToken)).not.toBeNull();
        expect(await cache.inspectRefreshToken('b-r0')).not.toBeNull();
      });

      it('a batch that does not fit maxTokens is refused whole; a migration batch (evict: false) judges no cap', async () => {
        const cache = open({ maxTokens: 5, maxGrantsPerUser: 2 });
        const batch = (tag: string) =>
          Array.from({ length: 6 }, (_, i) => ({
            userId: 'u',
            accessToken: `${tag}${i}`,
            expiresIn: 100 + i,
          }));
        await expect(cache.storeTokens(batch('b'))).rejects.toBeInstanceOf(CapacityError);
        for (let i = 0; i < 6; i++) expect(await cache.validateAccessToken(`b${i}`)).toBeNull();
        await cache.storeTokens(batch('m'), { evict: false });
        for (let i = 0; i < 6; i++) expect(await cache.validateAccessToken(`m${i}`)).not.toBeNull();
        expect((await cache.stats()).tokens).toMatchObject({ refused: 1, evicted: 0, active: 6 });
      });

      it('a judged batch leaves each of its users maxGrantsPerUser grants, the oldest revoked', async () => {
        const c = clock();
        const cache = open({ now: c.now, maxGrantsPerUser: 2 });
        await cache.storeToken({ userId: 'u', accessToken: 'before' });
        await cache.storeToken({ userId: 'v', accessToken: 'other-user' });
        c.advance(1000);
        // Distinct lifetimes: a store without writeBatch stores one by one, and grants issued in the
        // same millisecond are then told apart by their expiry.
        await cache.storeTokens(
          ['x0', 'x1', 'x2'].map((accessToken, i) => ({
            userId: 'u',
            accessToken,
            expiresIn: 100 * (i + 1),
          })),
        );
        const alive = [];
        for (const t of ['before', 'x0', 'x1', 'x2']) if (await cache.validateAccessToken(t)) alive.push(t);
        expect(alive).toEqual(['x1', 'x2']);
        expect(await cache.validateAccessToken('other-user')).not.toBeNull();
      });

      it("maxGrantsPerUser revokes only the user's own least recently issued grant", async () => {
        const c = clock();
        const cache = open({ now: c.now, maxGrantsPerUser: 3 });
        const revoked: string[] = [];
        cache.events.on('security', (e) => {
          if (e.type === 'family_revoked') revoked.push(`${e.familyId}:${e.reason}`);
        });
        const grants = [];
        for (let i = 0; i < 3; i++) {
          grants.push(await cache.storeToken({ userId: 'u', accessToken: `a${i}`, refreshToken: `r${i}` }));
          await cache.storeToken({ userId: 'v', accessToken: `v-a${i}`, refreshToken: `v-r${i}` });
          c.advance(1000);
        }
        // Rotation stays in its grant (not a new one) and makes grant 0 the most recently issued.
        const rotated = await cache.rotateRefreshToken('r0');
        expect(rotated.info.familyId).toBe(grants[0]!.familyId);
        c.advance(1000);
        // Storing into an existing grant (explicit familyId) is not a new grant either.
        await cache.storeToken({ userId: 'u', accessToken: 'a2-extra', familyId: grants[2]!.familyId });
        expect(revoked).toEqual([]);
        c.advance(1000);
        const fourth = await cache.storeToken({ userId: 'u', accessToken: 'a3', refreshToken: 'r3' });
        expect(revoked).toEqual([`${grants[1]!.familyId}:grant_cap`]);
        expect(await cache.validateAccessToken('a1')).toBeNull();
        expect(await cache.inspectRefreshToken('r1')).toBeNull();
        for (const t of [rotated.tokens.accessToken, 'a0', 'a2', 'a2-extra', 'a3'])
          expect(await cache.validateAccessToken(t)).not.toBeNull();
        for (let i = 0; i < 3; i++) {
          expect(await cache.validateAccessToken(`v-a${i}`)).not.toBeNull();
          expect(await cache.inspectRefreshToken(`v-r${i}`)).not.toBeNull();
        }
        const families = new Set((await cache.getTokensForUser('u')).map((t) => t.familyId));
        expect(families).toEqual(new Set([grants[0]!.familyId, grants[2]!.familyId, fourth.familyId]));
        // A revoked grant's refresh token cannot come back through rotation.
        await expect(cache.rotateRefreshToken('r1')).rejects.toBeInstanceOf(InvalidGrantError);
        expect((await cache.stats()).tokens.evicted).toBe(2);
      });

      it('a full cache still lets a user at their grant cap log in: their own oldest grant makes room', async () => {
        const c = clock();
        const cache = open({ now: c.now, maxTokens: 6, maxGrantsPerUser: 2 });
        await cache.storeToken({ userId: 'u', accessToken: 'u-a0', refreshToken: 'u-r0' });
        c.advance(1000);
        await cache.storeToken({ userId: 'u', accessToken: 'u-a1', refreshToken: 'u-r1' });
        await cache.storeToken({ userId: 'v', accessToken: 'v-a0', refreshToken: 'v-r0' });
        await expect(cache.storeToken({ userId: 'w', accessToken: 'w-a0' })).rejects.toBeInstanceOf(
          CapacityError,
        );
        c.advance(1000);
        await cache.storeToken({ userId: 'u', accessToken: 'u-a2', refreshToken: 'u-r2' });
        expect(await cache.validateAccessToken('u-a0')).toBeNull();
        for (const t of ['u-a1', 'u-a2', 'v-a0']) expect(await cache.validateAccessToken(t)).not.toBeNull();
        // Nothing of a refused issuance is revoked either: the user keeps the grants they had.
        await expect(
          cache.storeToken({ userId: 'v', accessToken: 'v-a1', refreshToken: 'v-r1', expiresIn: 60 }),
        ).rejects.toBeInstanceOf(CapacityError);
        expect(await cache.validateAccessToken('v-a0')).not.toBeNull();
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
        expect(records.map((r) => r.key.split(':')[0]).sort()).toEqual(['at', 'g', 'rt', 's']);
        // The grant first: its tokens' indexes are rebuilt from it.
        expect(records[0]!.key).toMatch(/^g:/);
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
        const [grant, record] = exported;
        expect([grant?.key.slice(0, 2), record?.key.slice(0, 3)]).toEqual(['g:', 'at:']);
        const target = await importTarget('absent:');
        try {
          // A token whose grant has not been imported cannot have its indexes rebuilt: refused.
          await expect(target.importRecords([record!], { assumeAbsent: true })).rejects.toThrow(
            /links to a grant not imported/,
          );
          expect(await target.validateAccessToken('a')).toBeNull();
          expect(await target.importRecords([grant!, record!], { assumeAbsent: true })).toEqual([
            'written',
            'written',
          ]);
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

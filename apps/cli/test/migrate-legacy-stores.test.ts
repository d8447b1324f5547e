import { join } from 'node:path';
import { InvalidGrantError, type TokenCache } from '@oauth-cache/core';
import { type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isExpiredEntry,
  legacyLogin,
  legacyPassword,
  legacyToken,
  writeLegacyDump,
} from '../src/testing/index.js';
import { openServerCache, runCli, serverEnv, tempDir } from './helpers/cli.js';
import { redisCommandCalls, redisDump, sqliteBytes } from './helpers/raw-scan.js';

const ACCESS = 1200;
const REFRESH = 600;
const EXPIRED_EVERY = 7;
const SEED = 'stores';
const USERS = 50;

const live = (n: number) => n - Math.floor(n / EXPIRED_EVERY);

describe.each(['sqlite', 'redis'] as const)('migrate a generated legacy dump into %s', (kind) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let redis: RedisServerHandle | undefined;
  let url: string;
  let dump: string;
  let cache: TokenCache;
  const env = serverEnv();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    dump = join(dir, 'dump.json');
    await writeLegacyDump(dump, {
      access: ACCESS,
      refresh: REFRESH,
      expiredEvery: EXPIRED_EVERY,
      seed: SEED,
      users: USERS,
    });
    if (kind === 'redis') {
      redis = await startRedisServer();
      url = redis.url;
    } else url = `sqlite://${join(dir, 'target.db')}`;
  });
  afterAll(async () => {
    await cache?.close();
    await redis?.stop();
    await cleanup();
  });

  it('migrates every live entry with exact counts (exit 0)', async () => {
    const before = kind === 'redis' ? await redisCommandCalls(url) : {};
    const res = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', url, '--json', '--batch-size', '100'],
      env,
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      ok: true,
      migratedAccess: live(ACCESS),
      migratedRefresh: live(REFRESH),
      skippedExpired: Math.floor(ACCESS / EXPIRED_EVERY) + Math.floor(REFRESH / EXPIRED_EVERY),
      alreadyPresent: 0,
      errors: 0,
    });
    if (kind === 'redis') {
      // The target held nothing: no presence check was read (a re-run below reads them).
      expect((await redisCommandCalls(url)).mget ?? 0).toBe(before.mget ?? 0);
    }
    cache = await openServerCache(url, env);
  });

  it('the server (same keys) validates every migrated access token, with its 1C credentials', async () => {
    for (let i = 0; i < ACCESS; i++) {
      const v = await cache.validateAccessToken(legacyToken(SEED, 'access', i));
      if (isExpiredEntry(i, EXPIRED_EVERY)) {
        expect(v).toBeNull();
        continue;
      }
      expect(v).not.toBeNull();
      expect(v!.userId).toBe(legacyLogin(i, USERS));
      expect(v!.userData).toEqual({ login: legacyLogin(i, USERS), password: legacyPassword(SEED, i) });
      expect(v!.familyId).toMatch(/^legacy-/);
    }
    const stats = await cache.stats();
    expect(stats.summary.totalActiveTokens).toBe(live(ACCESS) + live(REFRESH));
    expect(stats.summary.totalUsers).toBe(USERS);
  });

  it('no access token was invented for a refresh token', async () => {
    const tokens = await cache.getTokensForUser(legacyLogin(0, USERS));
    const refresh = tokens.filter((t) => t.kind === 'refresh');
    expect(refresh.length).toBeGreaterThan(0);
    for (const r of refresh) expect(tokens.filter((t) => t.familyId === r.familyId)).toHaveLength(1);
  });

  it('rotates with a migrated refresh token; the rotated token is then refused, and not brought back by a re-run', async () => {
    const old = legacyToken(SEED, 'refresh', 1);
    const inspected = await cache.inspectRefreshToken(old);
    expect(inspected?.userData).toEqual({ login: legacyLogin(1, USERS), password: legacyPassword(SEED, 1) });
    const rotated = await cache.rotateRefreshToken(old);
    expect(rotated.previous.userId).toBe(legacyLogin(1, USERS));
    const next = await cache.validateAccessToken(rotated.tokens.accessToken);
    expect(next?.userData).toEqual({ login: legacyLogin(1, USERS), password: legacyPassword(SEED, 1) });
    expect(next?.familyId).toBe(inspected?.familyId);

    // Revoke one user's tokens in the target, too: a re-run must not resurrect revoked families.
    const revokedUser = legacyLogin(2, USERS);
    const revoked = await cache.revokeUserTokens(revokedUser);
    expect(revoked).toBeGreaterThan(0);

    const mgets = kind === 'redis' ? ((await redisCommandCalls(url)).mget ?? 0) : 0;
    const again = await runCli(['migrate', '--from', `legacy-json:${dump}`, '--to', url, '--json'], env);
    expect(again.code).toBe(0);
    if (kind === 'redis') expect((await redisCommandCalls(url)).mget ?? 0).toBeGreaterThan(mgets);
    const summary = JSON.parse(again.stdout);
    expect(summary.migratedAccess + summary.migratedRefresh).toBe(0);
    expect(summary.skippedRevoked).toBe(revoked + 1);
    expect(summary.alreadyPresent).toBe(live(ACCESS) + live(REFRESH) - revoked - 1);
    expect(await cache.inspectRefreshToken(old)).toBeNull();
    await new Promise((r) => setTimeout(r, cache.config.reuseLeewayMs + 100));
    await expect(cache.rotateRefreshToken(old)).rejects.toBeInstanceOf(InvalidGrantError);
  });

  it("a re-run honours a revocation recorded under release 0.1.0's legacy family id", async () => {
    // Release 0.1.0 named a legacy token's family `legacy-<digest("legacy-family:" + token)>`.
    const i = 10;
    expect(isExpiredEntry(i, EXPIRED_EVERY)).toBe(false);
    const token = legacyToken(SEED, 'access', i);
    expect(await cache.validateAccessToken(token)).not.toBeNull();
    const previousFamily = `legacy-${cache.digest(`legacy-family:${token}`)}`;
    expect(await cache.revokeFamily(previousFamily)).toBe(0); // only its marker: the family index is new
    await cache.store.delete(cache.key(`at:${cache.digest(token)}`));
    const again = await runCli(['migrate', '--from', `legacy-json:${dump}`, '--to', url, '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).migratedAccess).toBe(0);
    expect(await cache.validateAccessToken(token)).toBeNull();
  });

  it('no raw token or password is anywhere in the store', async () => {
    const raw =
      kind === 'sqlite'
        ? (await sqliteBytes(url.slice('sqlite://'.length))).toString('latin1')
        : await redisDump(url);
    expect(raw.length).toBeGreaterThan(10_000);
    for (let i = 0; i < ACCESS; i += 1) {
      expect(raw.includes(legacyToken(SEED, 'access', i))).toBe(false);
      expect(raw.includes(legacyPassword(SEED, i))).toBe(false);
    }
    for (let i = 0; i < REFRESH; i += 1) expect(raw.includes(legacyToken(SEED, 'refresh', i))).toBe(false);
    // The scan itself works: logins (user ids) are stored in the clear at level enhanced.
    if (cache.config.securityLevel !== 'maximum') expect(raw).toContain(legacyLogin(3, USERS));
  });
});

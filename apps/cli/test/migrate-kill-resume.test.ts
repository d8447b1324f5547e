import { join } from 'node:path';
import type { TokenCache } from '@oauth-cache/core';
import { type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExpiredEntry, legacyLogin, legacyToken, writeLegacyDump } from '../src/testing/index.js';
import { killOnceLanded, openServerCache, runCli, serverEnv, tempDir } from './helpers/cli.js';

const SEED = 'kill';
const EXPIRED_EVERY = 10;

describe.each([
  ['sqlite', 6000],
  ['redis', 30000],
] as const)('a migration into %s killed (SIGKILL) halfway, then run again', (kind, size) => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let redis: RedisServerHandle | undefined;
  let url: string;
  let dump: string;
  let cache: TokenCache;
  const env = serverEnv();
  const access = size / 2;
  const refresh = size / 2;
  const liveTotal = size - 2 * Math.floor(size / 2 / EXPIRED_EVERY);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    dump = join(dir, 'dump.json');
    await writeLegacyDump(dump, { access, refresh, expiredEvery: EXPIRED_EVERY, seed: SEED, users: 200 });
    if (kind === 'redis') {
      redis = await startRedisServer();
      url = redis.url;
    } else url = `sqlite://${join(dir, 'target.db')}`;
    cache = await openServerCache(url, env);
  });
  afterAll(async () => {
    await cache?.close();
    await redis?.stop();
    await cleanup();
  });

  it('ends with the full, correct store', async () => {
    // Kill once some batches landed, well before the end.
    const {
      code,
      signal,
      landed: partial,
    } = await killOnceLanded(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', url, '--batch-size', '200'],
      env,
      cache,
      liveTotal * 0.15,
    );
    expect(code).toBeNull();
    expect(signal).toBe('SIGKILL');
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(liveTotal);

    const again = await runCli(['migrate', '--from', `legacy-json:${dump}`, '--to', url, '--json'], env);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary.migratedAccess + summary.migratedRefresh + summary.alreadyPresent).toBe(liveTotal);
    expect(summary.alreadyPresent).toBeGreaterThanOrEqual(partial);

    // Every live token is there, complete (records and indexes), and nothing else.
    expect((await cache.stats()).summary.totalActiveTokens).toBe(liveTotal);
    for (let i = 0; i < access; i++) {
      const v = await cache.validateAccessToken(legacyToken(SEED, 'access', i));
      if (isExpiredEntry(i, EXPIRED_EVERY)) expect(v).toBeNull();
      else expect(v?.userId).toBe(legacyLogin(i, 200));
    }
    for (let i = 0; i < refresh; i += 97) {
      const v = await cache.inspectRefreshToken(legacyToken(SEED, 'refresh', i));
      expect(v === null).toBe(isExpiredEntry(i, EXPIRED_EVERY));
    }
    const listed = await cache.getTokensForUser(legacyLogin(5, 200));
    const expected =
      [...Array(access).keys()].filter((i) => i % 200 === 5 && !isExpiredEntry(i, EXPIRED_EVERY)).length +
      [...Array(refresh).keys()].filter((i) => i % 200 === 5 && !isExpiredEntry(i, EXPIRED_EVERY)).length;
    expect(listed).toHaveLength(expected);
  });
});

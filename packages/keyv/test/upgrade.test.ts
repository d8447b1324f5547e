/**
 * Upgrade without logging anyone out: a store written by the previous release (0.1.0: 1C
 * credentials sealed with the server key, no `uh`, no `pv`) keeps working on this one, in every
 * store. The fixture is that release's own output (`packages/core/scripts/make-release-fixture.mjs`
 * run on its build): exported records plus the secrets and raw tokens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CacheStore,
  configFromEnv,
  createTokenCache,
  type ExportedRecord,
  MemoryStore,
  type TokenCache,
} from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/create-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl } from './support/redis-admin.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

const FIXTURES = new URL('../../core/test/fixtures/release-0.1.0/', import.meta.url);

interface Fixture {
  securityLevel: string;
  secret: string;
  encryptionKeys: string;
  tokens: Array<{ login: string; password: string; accessToken: string; refreshToken: string }>;
}

function fixture(level: string): { meta: Fixture; records: ExportedRecord[] } {
  const meta = JSON.parse(readFileSync(new URL(`${level}.json`, FIXTURES), 'utf8')) as Fixture;
  const records = readFileSync(new URL(`${level}.jsonl`, FIXTURES), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ExportedRecord);
  return { meta, records };
}

let redis: RedisServerHandle;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
  await cleanupTempDirs();
});

const stores: Record<string, () => Promise<CacheStore>> = {
  memory: async () => new MemoryStore(),
  sqlite: async () => createStore(`sqlite://${join(await tempDir(), 'upgrade.sqlite')}`),
  redis: async () => createStore(await freshDbUrl(redis.url)),
};

describe.each(Object.keys(stores))('a %s store written by release 0.1.0', (kind) => {
  for (const level of ['enhanced', 'maximum']) {
    it(`keeps every token working, and new records are sealed for their token (${level})`, async () => {
      const { meta, records } = fixture(level);
      const config = configFromEnv(
        {
          ENVIRONMENT: 'production',
          SECURITY_LEVEL: meta.securityLevel,
          OAUTH_CACHE_SECRET: meta.secret,
          OAUTH_CACHE_ENCRYPTION_KEYS: meta.encryptionKeys,
        },
        { cleanupInterval: 0 },
      );
      const store = await stores[kind]!();
      const cache: TokenCache = createTokenCache({ config, store, autoCleanup: false });
      try {
        const outcomes = await cache.importRecords(records);
        expect(outcomes.every((o) => o === 'written')).toBe(true);
        for (const t of meta.tokens) {
          const userData = { login: t.login, password: t.password };
          expect(await cache.validateAccessToken(t.accessToken)).toMatchObject({ userId: t.login, userData });
          expect(await cache.getTokensForUser(t.login)).toHaveLength(2);
        }
        // A rotation reads the old record and writes the new pair in this release's format.
        const [first, second] = meta.tokens;
        const rotated = await cache.rotateRefreshToken(first!.refreshToken);
        expect((await cache.validateAccessToken(rotated.tokens.accessToken))?.userData).toEqual({
          login: first!.login,
          password: first!.password,
        });
        const newRecord = await store.get(cache.key(`at:${cache.digest(rotated.tokens.accessToken)}`));
        expect(newRecord).toMatchObject({ pv: expect.stringMatching(/^t1\./) });
        expect(JSON.stringify(newRecord)).not.toContain(first!.password);
        // Revoking a user of the old format still finds every token through the indexes.
        expect(await cache.revokeUserTokens(second!.login)).toBe(2);
        expect(await cache.validateAccessToken(second!.accessToken)).toBeNull();
      } finally {
        await cache.close();
      }
    });
  }
});

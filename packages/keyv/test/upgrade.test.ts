/**
 * Upgrade without logging anyone out: a store written by an earlier format keeps working on this
 * one, in every store. Two fixtures, each that build's own output
 * (`packages/core/scripts/make-release-fixture.mjs` run on its build): exported records plus the
 * secrets and raw tokens.
 * - `release-0.1.0`: 1C credentials sealed with the server key, no `uh`, no `pv`.
 * - `before-grants` (main at 8a60f53): every token record self-contained, its private part sealed
 *   under its own token (`pv`), no grant records.
 * New records are written in this build's format: token records linked to a grant (`g`, `wk`).
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

const FIXTURES = ['release-0.1.0', 'before-grants'] as const;

interface Fixture {
  securityLevel: string;
  secret: string;
  encryptionKeys: string;
  tokens: Array<{ login: string; password: string; accessToken: string; refreshToken: string }>;
}

function fixture(name: string, level: string): { meta: Fixture; records: ExportedRecord[] } {
  const folder = new URL(`../../core/test/fixtures/${name}/`, import.meta.url);
  const meta = JSON.parse(readFileSync(new URL(`${level}.json`, folder), 'utf8')) as Fixture;
  const records = readFileSync(new URL(`${level}.jsonl`, folder), 'utf8')
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

describe.each(Object.keys(stores).flatMap((kind) => FIXTURES.map((name) => [kind, name] as const)))(
  'a %s store written by %s',
  (kind, name) => {
    for (const level of ['enhanced', 'maximum']) {
      it(`keeps every token working, and new records link to a grant sealed for its tokens (${level})`, async () => {
        const { meta, records } = fixture(name, level);
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
            expect(await cache.validateAccessToken(t.accessToken)).toMatchObject({
              userId: t.login,
              userData,
            });
            expect(await cache.getTokensForUser(t.login)).toHaveLength(2);
          }
          // A rotation reads the old record and writes the new pair in this release's format.
          const [first, second] = meta.tokens;
          const rotated = await cache.rotateRefreshToken(first!.refreshToken);
          expect((await cache.validateAccessToken(rotated.tokens.accessToken))?.userData).toEqual({
            login: first!.login,
            password: first!.password,
          });
          const newRecord = (await store.get(
            cache.key(`at:${cache.digest(rotated.tokens.accessToken)}`),
          )) as {
            g?: string;
          };
          expect(newRecord).toMatchObject({ g: rotated.info.familyId, wk: expect.stringMatching(/^t1\./) });
          expect(newRecord).not.toHaveProperty('pv');
          const grant = await store.get(cache.key(`g:${newRecord.g}`));
          expect(grant).toMatchObject({ kind: 'grant', gp: expect.stringMatching(/^g1\./) });
          expect(JSON.stringify([newRecord, grant])).not.toContain(first!.password);
          // The old refresh token is consumed; the new one rotates on, within the grant.
          const again = await cache.rotateRefreshToken(rotated.tokens.refreshToken!);
          expect(again.info.familyId).toBe(rotated.info.familyId);
          expect((await cache.validateAccessToken(again.tokens.accessToken))?.userId).toBe(first!.login);
          // Revoking a user of the old format still finds every token through the indexes.
          expect(await cache.revokeUserTokens(second!.login)).toBe(2);
          expect(await cache.validateAccessToken(second!.accessToken)).toBeNull();
        } finally {
          await cache.close();
        }
      });
    }
  },
);

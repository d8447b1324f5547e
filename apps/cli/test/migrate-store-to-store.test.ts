import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportedRecord, TokenCache } from '@oauth-cache/core';
import { type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyToken, writeLegacyDump } from '../src/testing/index.js';
import { errorLines, exportedRecords, openServerCache, runCli, serverEnv, tempDir } from './helpers/cli.js';
import { redisCommandCalls, redisTtls } from './helpers/raw-scan.js';

const SEED = 's2s';

describe('store to store: SQLite -> Redis, JSONL export/import', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let redis: RedisServerHandle;
  let sqliteUrl: string;
  let source: TokenCache;
  let sessionId: string;
  const env = serverEnv();

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    redis = await startRedisServer();
    sqliteUrl = `sqlite://${join(dir, 'source.db')}`;
    const dump = join(dir, 'dump.json');
    await writeLegacyDump(dump, { access: 300, refresh: 200, expiredEvery: 5, seed: SEED, users: 20 });
    const res = await runCli(['migrate', '--from', `legacy-json:${dump}`, '--to', sqliteUrl], env);
    expect(res.code).toBe(0);
    source = await openServerCache(sqliteUrl, env);
    // Records of other kinds travel too: a session, a short-lived token, a rotated (consumed) refresh token.
    sessionId = (await source.createSession('user1', { note: 'session data' })).id;
    // Another user: a new grant for user1, who holds ~25 migrated ones, would revoke all but the newest
    // (MAX_GRANTS_PER_USER), legacy access token 1 among them.
    await source.storeToken({ userId: 'short-user', accessToken: 'short-lived-token-value', expiresIn: 90 });
    await source.rotateRefreshToken(legacyToken(SEED, 'refresh', 0));
  });
  afterAll(async () => {
    await source?.close();
    await redis?.stop();
    await cleanup();
  });

  it('copies every live record as stored, keeping its remaining TTL (within a second)', async () => {
    const before = await exportedRecords(source);
    const mgets = (await redisCommandCalls(redis.url)).mget ?? 0;
    const res = await runCli(['migrate', '--from', sqliteUrl, '--to', redis.url, '--json'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    // Into a target that held no record nothing is looked up (the source lists each key once).
    expect((await redisCommandCalls(redis.url)).mget ?? 0).toBe(mgets);
    const summary = JSON.parse(res.stdout);
    const count = (p: string) => [...before.keys()].filter((k) => k.startsWith(p)).length;
    expect(summary).toMatchObject({ migratedAccess: count('at:'), migratedRefresh: count('rt:'), errors: 0 });
    expect(summary.migratedOther).toBe(before.size - count('at:') - count('rt:'));
    expect(summary.migratedOther).toBeGreaterThanOrEqual(2); // the session and the consumed marker

    const target = await openServerCache(redis.url, env);
    try {
      const after = await exportedRecords(target);
      expect(new Set(after.keys())).toEqual(new Set(before.keys()));
      for (const [key, record] of before) expect(after.get(key)).toEqual(record);

      const ttls = await redisTtls(redis.url, target.config.prefix);
      const now = Date.now();
      for (const [key, record] of before) {
        const ttl = ttls.get(target.config.prefix + key);
        expect(ttl, key).toBeDefined();
        expect(Math.abs(record.expiresAt - now - ttl!)).toBeLessThan(1000);
      }
      // The target serves them: tokens validate, the session opens, the short token keeps its 90 s.
      expect((await target.validateAccessToken(legacyToken(SEED, 'access', 1)))?.userId).toBe('user1');
      expect((await target.getSession(sessionId))?.data).toEqual({ note: 'session data' });
      const short = await target.validateAccessToken('short-lived-token-value');
      expect(short?.expiresIn).toBeGreaterThan(80);
      expect(short?.expiresIn).toBeLessThanOrEqual(90);
      expect((await target.stats()).summary.totalActiveTokens).toBe(
        (await source.stats()).summary.totalActiveTokens,
      );
    } finally {
      await target.close();
    }

    const again = await runCli(['migrate', '--from', sqliteUrl, '--to', redis.url, '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      migratedAccess: 0,
      migratedRefresh: 0,
      migratedOther: 0,
      alreadyPresent: before.size,
    });
  });

  it('export writes JSONL (mode 0600, sealed fields sealed) that import reads back; bad lines by number', async () => {
    const out = join(dir, 'export.jsonl');
    const exported = await runCli(['export', '--store', sqliteUrl, '--out', out, '--json'], env);
    expect(exported.code).toBe(0);
    const counts = JSON.parse(exported.stdout);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(counts.records);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(lines.join('\n')).not.toContain('pw-s2s-');

    const withBadLines = join(dir, 'bad.jsonl');
    await writeFile(
      withBadLines,
      [lines[0], '{not json', lines[1], '{"key": "at:x"}', '', '[1]', lines[2]].join('\n'),
    );
    const target = `sqlite://${join(dir, 'imported.db')}`;
    const imported = await runCli(
      ['import', '--from', `jsonl:${withBadLines}`, '--to', target, '--json'],
      env,
    );
    expect(imported.code).toBe(1);
    expect(JSON.parse(imported.stdout)).toMatchObject({ errors: 3 });
    expect(errorLines(imported.stderr)).toEqual([
      'error: line 2: not valid JSON (col 2)',
      'error: line 4: missing field value; expiresAt: expected epoch milliseconds (a positive integer)',
      'error: line 6: expected an object {key, value, expiresAt}',
    ]);

    const full = await runCli(['import', '--from', `jsonl:${out}`, '--to', target, '--json'], env);
    expect(full.code).toBe(0);
    expect(JSON.parse(full.stdout).alreadyPresent).toBe(3);
    const copy = await openServerCache(target, env);
    try {
      expect((await exportedRecords(copy)).size).toBe(counts.records);
      expect((await copy.validateAccessToken(legacyToken(SEED, 'access', 3)))?.valid).toBe(true);
    } finally {
      await copy.close();
    }
  });

  it('imports a JSONL that repeats keys into an empty store: each key once, the later expiry wins', async () => {
    const out = join(dir, 'repeats-export.jsonl');
    expect((await runCli(['export', '--store', sqliteUrl, '--out', out], env)).code).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as ExportedRecord);
    const a = parsed.find((r) => r.key.startsWith('at:'))!;
    const b = parsed.find((r) => r.key.startsWith('rt:'))!;
    const file = join(dir, 'repeats.jsonl');
    // The export twice (a concatenated backup), then a copy of `a` expiring sooner and one of `b` later.
    const shorterA = { ...a, expiresAt: a.expiresAt - 60_000 };
    const longerB = { ...b, expiresAt: b.expiresAt + 60_000 };
    await writeFile(file, [...lines, ...lines, JSON.stringify(shorterA), JSON.stringify(longerB)].join('\n'));

    // SQLite stages the load of an empty file until the first repeat, then writes in place.
    for (const url of [`sqlite://${join(dir, 'repeats.db')}`, `${redis.url}/2`]) {
      const res = await runCli(['import', '--from', `jsonl:${file}`, '--to', url, '--json'], env);
      expect(res.code, res.stderr).toBe(0);
      const summary = JSON.parse(res.stdout);
      expect(summary.migratedAccess + summary.migratedRefresh + summary.migratedOther).toBe(lines.length + 1);
      expect(summary.alreadyPresent).toBe(lines.length + 1);
      const target = await openServerCache(url, env);
      try {
        const expiries = new Map<string, number | undefined>();
        for await (const entry of target.store.entries(target.config.prefix)) {
          expiries.set(entry.key.slice(target.config.prefix.length), entry.expiresAt);
        }
        expect(new Set(expiries.keys())).toEqual(new Set(parsed.map((r) => r.key)));
        expect(Math.abs(expiries.get(a.key)! - a.expiresAt), url).toBeLessThan(1000);
        expect(Math.abs(expiries.get(b.key)! - longerB.expiresAt), url).toBeLessThan(1000);
        expect((await target.validateAccessToken(legacyToken(SEED, 'access', 3)))?.valid).toBe(true);
      } finally {
        await target.close();
      }
    }
  });

  it('stats, purge and revoke operate on the store', async () => {
    const stats = await runCli(['stats', '--json'], { ...env, OAUTH_CACHE_STORE: sqliteUrl });
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.stdout);
    expect(s.summary.totalActiveTokens).toBe((await source.stats()).summary.totalActiveTokens);
    expect(s.store.kind).toBe('sqlite');

    const text = await runCli(['stats', '--store', sqliteUrl], env);
    expect(text.stdout).toContain(`active tokens: ${s.summary.totalActiveTokens}`);

    const purge = await runCli(['purge', '--store', sqliteUrl, '--json'], env);
    expect(purge.code).toBe(0);
    expect(JSON.parse(purge.stdout).removed).toBeGreaterThanOrEqual(0);

    const userTokens = (await source.getTokensForUser('user7')).length;
    expect(userTokens).toBeGreaterThan(0);
    const revokeUser = await runCli(['revoke', '--store', sqliteUrl, '--user', 'user7', '--json'], env);
    expect(revokeUser.code).toBe(0);
    expect(JSON.parse(revokeUser.stdout).revoked).toBe(userTokens);
    expect(await source.getTokensForUser('user7')).toEqual([]);

    const family = (await source.validateAccessToken(legacyToken(SEED, 'access', 8)))!.familyId;
    const revokeFamily = await runCli(['revoke', '--store', sqliteUrl, '--family', family], env);
    expect(revokeFamily.code).toBe(0);
    expect(revokeFamily.stdout.trim()).toBe('revoked 1 tokens');
    expect(await source.validateAccessToken(legacyToken(SEED, 'access', 8))).toBeNull();

    // revoke --user digests the login with the server secret: it needs it.
    const noSecret = await runCli(['revoke', '--store', sqliteUrl, '--user', 'user8'], {});
    expect(noSecret.code).toBe(2);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenCache } from '@oauth-cache/core';
import { type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExpiredEntry, legacyLogin, legacyToken, writeLegacyDump } from '../src/testing/index.js';
import { openServerCache, runCli, serverEnv, tempDir } from './helpers/cli.js';

const SEED = 'large-batch';
const EXPIRED_EVERY = 10;
const PER_KIND = 40_000;
/** The node flags of the bin's shebang (its heap caps), as operators run it. */
const SHEBANG = readFileSync(new URL('../src/bin.ts', import.meta.url), 'utf8').split('\n')[0]!;
const NODE_FLAGS = SHEBANG.slice(SHEBANG.indexOf(' node ') + ' node '.length)
  .trim()
  .split(/\s+/);

describe('migrate with the largest --batch-size (20000) into Redis', () => {
  let cleanup: () => Promise<void>;
  let redis: RedisServerHandle;
  let dump: string;
  let cache: TokenCache;
  const env = serverEnv();

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir());
    dump = join(dir, 'dump.json');
    await writeLegacyDump(dump, {
      access: PER_KIND,
      refresh: PER_KIND,
      expiredEvery: EXPIRED_EVERY,
      seed: SEED,
      users: 500,
    });
    redis = await startRedisServer();
    cache = await openServerCache(redis.url, env);
  });
  afterAll(async () => {
    await cache?.close();
    await redis?.stop();
    await cleanup?.();
  });

  it("fits the bin's heap caps and writes every live token (script calls split, no deadline misfires)", async () => {
    // Three batches of 20000 in flight ran out of heap; one 20000-token batch is ~100k ops, more
    // than one script call takes, and encoding it blocks the event loop for longer than the 1.5 s
    // command deadline.
    const result = await runCli(
      ['migrate', '--from', `legacy-json:${dump}`, '--to', redis.url, '--json', '--batch-size', '20000'],
      env,
      undefined,
      NODE_FLAGS,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const live = 2 * (PER_KIND - PER_KIND / EXPIRED_EVERY);
    const summary = JSON.parse(result.stdout);
    expect(summary.migratedAccess + summary.migratedRefresh).toBe(live);
    expect((await cache.stats()).summary.totalActiveTokens).toBe(live);
    for (let i = 0; i < PER_KIND; i += 997) {
      const v = await cache.validateAccessToken(legacyToken(SEED, 'access', i));
      if (isExpiredEntry(i, EXPIRED_EVERY)) expect(v).toBeNull();
      else expect(v?.userId).toBe(legacyLogin(i, 500));
    }
  }, 180_000);
});

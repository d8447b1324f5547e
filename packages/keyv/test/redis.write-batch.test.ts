import type { BatchOp } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPS_PER_SCRIPT } from '../src/redis/batch-plan.js';
import { RedisStore } from '../src/redis/redis-store.js';
import { parseCommandCalls, type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { adminClient, freshDbUrl } from './support/redis-admin.js';

// This file's own redis-server: the command statistics checked below see only these tests.
let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

type Admin = Awaited<ReturnType<typeof adminClient>>;

/** Open a store and a raw client on a fresh database, run `body`, close both. */
async function withStore(body: (store: RedisStore, raw: Admin) => Promise<void>): Promise<void> {
  const url = await freshDbUrl(server.url);
  const store = await RedisStore.open({ url, commandTimeoutMs: 10_000 });
  const raw = await adminClient(url);
  try {
    await body(store, raw);
  } finally {
    raw.destroy();
    await store.close();
  }
}

/** `calls` of each command since the last CONFIG RESETSTAT. */
async function commandCalls(raw: Admin): Promise<Record<string, number>> {
  return parseCommandCalls(await raw.info('commandstats'));
}

/** Deterministic pseudo-random integers in [0, n) (a fixed-seed LCG: failures reproduce). */
function lcg(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % n;
  };
}

const zset = (raw: Admin, key: string) => raw.zRangeWithScores(key, 0, -1);

/**
 * The ops core's `storeTokens` sends for `tokens` legacy tokens of `users` users (record, user,
 * family, global and users indexes), token `t` expiring at `now + 600_000 + t`.
 */
function tokenOps(tokens: number, users: number, now: number): BatchOp[] {
  const ops: BatchOp[] = [];
  for (let t = 0; t < tokens; t++) {
    const exp = now + 600_000 + t;
    ops.push(
      { op: 'set', key: `oc:at:${t}`, value: { exp }, ttlMs: exp - now },
      { op: 'indexAdd', key: `oc:ix:u:${t % users}`, member: `a:${t}`, score: exp },
      { op: 'indexAdd', key: `oc:ix:f:${t}`, member: `a:${t}`, score: exp },
      { op: 'indexAdd', key: 'oc:ix:tokens', member: `a:${t}`, score: exp },
      { op: 'indexAdd', key: 'oc:ix:users', member: `u${t % users}`, score: exp, keepGreater: true },
    );
  }
  return ops;
}

describe('RedisStore.writeBatch (one script call per batch)', () => {
  it('a lone surrogate in a key or member is sent as U+FFFD, as a single command would send it', async () => {
    await withStore(async (store) => {
      const now = Date.now();
      await store.writeBatch([
        { op: 'indexAdd', key: 'oc:ix:\ud800', member: 'm\udc00', score: now + 60_000 },
        { op: 'set', key: 'oc:x:\ud800', value: 'v\ud800', ttlMs: 60_000 },
      ]);
      await store.set('oc:x:single\ud800', 'v\ud800', 60_000);
      expect(await store.get('oc:x:\ufffd')).toBe(await store.get('oc:x:single\ufffd'));
      expect(await store.indexRange('oc:ix:\ufffd', now)).toEqual([
        { member: 'm\ufffd', score: now + 60_000 },
      ]);
    });
  });

  it('keys, members and values with quotes, backslashes, control and non-ASCII characters arrive byte-exact', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      const odd = 'q"\\b\\\\\n\t\u0001é日本🔑\u2028';
      const value = { text: odd, nested: [odd, 1.5, null, true] };
      await store.writeBatch([
        { op: 'indexAdd', key: `oc:ix:${odd}`, member: odd, score: now + 60_000 },
        { op: 'set', key: `oc:x:${odd}`, value, ttlMs: 60_000 },
      ]);
      expect(await store.get(`oc:x:${odd}`)).toEqual(value);
      expect(await store.indexRange(`oc:ix:${odd}`, now)).toEqual([{ member: odd, score: now + 60_000 }]);
      expect(await raw.pTTL(`oc:ix:${odd}`)).toBeGreaterThan(50_000);
    });
  });

  it('same member twice in a batch: a plain add takes the last score, keepGreater the highest', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      await store.writeBatch([
        { op: 'indexAdd', key: 'oc:ix:plain', member: 'm', score: now + 50_000 },
        { op: 'indexAdd', key: 'oc:ix:plain', member: 'm', score: now + 20_000 },
        { op: 'indexAdd', key: 'oc:ix:gt', member: 'm', score: now + 20_000, keepGreater: true },
        { op: 'indexAdd', key: 'oc:ix:gt', member: 'm', score: now + 50_000, keepGreater: true },
        { op: 'indexAdd', key: 'oc:ix:gt', member: 'm', score: now + 30_000, keepGreater: true },
      ]);
      expect(await zset(raw, 'oc:ix:plain')).toEqual([{ value: 'm', score: now + 20_000 }]);
      expect(await zset(raw, 'oc:ix:gt')).toEqual([{ value: 'm', score: now + 50_000 }]);
      // The expiry follows the highest score ever added, not the member's final score.
      expect(await raw.pExpireTime('oc:ix:plain')).toBe(now + 50_000);
      expect(await raw.pExpireTime('oc:ix:gt')).toBe(now + 50_000);
    });
  });

  it('plain and keepGreater adds of one member in one batch behave as the commands run in order', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      await store.writeBatch([
        { op: 'indexAdd', key: 'oc:ix:a', member: 'm', score: now + 90_000 },
        { op: 'indexAdd', key: 'oc:ix:b', member: 'm', score: now + 90_000 },
      ]);
      await store.writeBatch([
        // plain lowers, then GT cannot go below what the plain add set
        { op: 'indexAdd', key: 'oc:ix:a', member: 'm', score: now + 10_000 },
        { op: 'indexAdd', key: 'oc:ix:a', member: 'm', score: now + 5_000, keepGreater: true },
        { op: 'indexAdd', key: 'oc:ix:a', member: 'm', score: now + 15_000, keepGreater: true },
        // GT keeps the stored 90 s, then a plain add overrides it
        { op: 'indexAdd', key: 'oc:ix:b', member: 'm', score: now + 40_000, keepGreater: true },
        { op: 'indexAdd', key: 'oc:ix:b', member: 'm', score: now + 7_000 },
      ]);
      expect(await zset(raw, 'oc:ix:a')).toEqual([{ value: 'm', score: now + 15_000 }]);
      expect(await zset(raw, 'oc:ix:b')).toEqual([{ value: 'm', score: now + 7_000 }]);
    });
  });

  it('random mixes end in the same state as the same ops written one at a time', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      const next = lcg(20_241_125);
      const keys = ['k0', 'k1', 'k2'];
      const randomOps = (count: number, prefix: string): BatchOp[] =>
        Array.from({ length: count }, () => ({
          op: 'indexAdd' as const,
          key: `${prefix}${keys[next(keys.length)]}`,
          member: `m${next(4)}`,
          score: now + 1_000 + next(100_000) + next(4) / 4, // fractional: the expiry rounds up
          keepGreater: next(2) === 1,
        }));
      for (let round = 0; round < 5; round++) {
        const ops = randomOps(60, 'oc:batch:');
        const mirrored = ops.map((op) => ({ ...op, key: op.key.replace('oc:batch:', 'oc:seq:') }));
        await store.writeBatch(ops);
        for (const op of mirrored) await store.writeBatch([op]); // one ZADD + expiry per call
        for (const k of keys) {
          expect(await zset(raw, `oc:batch:${k}`)).toEqual(await zset(raw, `oc:seq:${k}`));
          expect(await raw.pExpireTime(`oc:batch:${k}`)).toBe(await raw.pExpireTime(`oc:seq:${k}`));
        }
      }
    });
  });

  it('an index key expires at its highest member score, rounded up', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      await store.writeBatch([
        { op: 'indexAdd', key: 'oc:ix:u', member: 'a', score: now + 30_000 },
        { op: 'indexAdd', key: 'oc:ix:u', member: 'b', score: now + 80_000.25 },
        { op: 'indexAdd', key: 'oc:ix:u', member: 'c', score: now + 50_000 },
      ]);
      expect(await raw.pExpireTime('oc:ix:u')).toBe(now + 80_001);
      const pttl = await raw.pTTL('oc:ix:u');
      expect(pttl).toBeGreaterThan(60_000);
      expect(pttl).toBeLessThanOrEqual(80_001);
      expect(await zset(raw, 'oc:ix:u')).toEqual([
        { value: 'a', score: now + 30_000 },
        { value: 'c', score: now + 50_000 },
        { value: 'b', score: now + 80_000.25 },
      ]);
      // A later batch with a higher score extends the expiry; a lower one leaves it.
      await store.writeBatch([{ op: 'indexAdd', key: 'oc:ix:u', member: 'd', score: now + 120_000 }]);
      expect(await raw.pExpireTime('oc:ix:u')).toBe(now + 120_000);
      await store.writeBatch([{ op: 'indexAdd', key: 'oc:ix:u', member: 'e', score: now + 10_000 }]);
      expect(await raw.pExpireTime('oc:ix:u')).toBe(now + 120_000);
    });
  });

  it('keepGreater never lowers an existing score or expiry', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      await store.indexAdd('oc:ix:users', 'u1', now + 90_000, { now, keepGreater: true });
      await store.indexAdd('oc:ix:users', 'u2', now + 60_000, { now, keepGreater: true });
      expect(await raw.pExpireTime('oc:ix:users')).toBe(now + 90_000);
      await store.writeBatch([
        { op: 'indexAdd', key: 'oc:ix:users', member: 'u1', score: now + 20_000, keepGreater: true },
        { op: 'indexAdd', key: 'oc:ix:users', member: 'u2', score: now + 70_000, keepGreater: true },
        { op: 'indexAdd', key: 'oc:ix:users', member: 'u3', score: now + 30_000, keepGreater: true },
      ]);
      expect(await zset(raw, 'oc:ix:users')).toEqual([
        { value: 'u3', score: now + 30_000 },
        { value: 'u2', score: now + 70_000 },
        { value: 'u1', score: now + 90_000 },
      ]);
      expect(await raw.pExpireTime('oc:ix:users')).toBe(now + 90_000);
    });
  });

  it('records are readable with their TTL; ttl <= 0 is skipped; a bad ttl writes nothing', async () => {
    await withStore(async (store, raw) => {
      await store.set('oc:at:old', 'kept', 60_000);
      const before = Date.now();
      await store.writeBatch([
        { op: 'set', key: 'oc:at:1', value: { v: 1, kind: 'access', exp: before + 60_000 }, ttlMs: 60_000 },
        { op: 'set', key: 'oc:at:2', value: 'two', ttlMs: 30_000.4 },
        { op: 'set', key: 'oc:at:old', value: 'expired already', ttlMs: 0 },
        { op: 'set', key: 'oc:at:gone', value: 'expired already', ttlMs: -5 },
        { op: 'set', key: 'oc:at:2', value: 'two, again', ttlMs: 45_000 }, // last write wins
      ]);
      const after = Date.now();
      expect(await store.getMany(['oc:at:1', 'oc:at:2', 'oc:at:old', 'oc:at:gone'])).toEqual([
        { v: 1, kind: 'access', exp: before + 60_000 },
        'two, again',
        'kept',
        undefined,
      ]);
      const pttl1 = await raw.pTTL('oc:at:1');
      expect(pttl1).toBeGreaterThan(50_000);
      expect(pttl1).toBeLessThanOrEqual(60_000);
      const pttl2 = await raw.pTTL('oc:at:2');
      expect(pttl2).toBeGreaterThan(35_000);
      expect(pttl2).toBeLessThanOrEqual(45_000);
      const withExpiry = await store.getWithExpiry('oc:at:1');
      expect(withExpiry?.expiresAt).toBeGreaterThanOrEqual(before + 60_000);
      expect(withExpiry?.expiresAt).toBeLessThanOrEqual(after + 60_000);

      // A non-finite ttl anywhere (here in the second script call's slice) rejects the whole batch
      // before anything is sent.
      const ops: BatchOp[] = Array.from({ length: MAX_OPS_PER_SCRIPT + 10 }, (_, i) => ({
        op: 'set',
        key: `oc:bad:${i}`,
        value: i,
        ttlMs: i === MAX_OPS_PER_SCRIPT + 5 ? Number.POSITIVE_INFINITY : 60_000,
      }));
      await expect(store.writeBatch(ops)).rejects.toThrow(TypeError);
      expect(await raw.exists('oc:bad:0')).toBe(0);
    });
  });

  it("the CLI's default batch (2000 tokens, 10k ops) is one EVALSHA, not ~13 commands per token", async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      const ops = tokenOps(2000, 50, now);
      await store.writeBatch(ops.slice(0, 5)); // loads the script (EVALSHA, then EVAL on NOSCRIPT)
      await raw.configResetStat();
      await store.writeBatch(ops);
      const calls = await commandCalls(raw);
      expect(calls.evalsha).toBe(1);
      expect(calls.eval).toBeUndefined();
      expect(calls.multi).toBeUndefined();
      expect(calls.set).toBe(2000);
      // One ZADD per index key; the 2000 members of oc:ix:tokens go in chunks of 500 (1000 args).
      expect(calls.zadd).toBe(50 + 2000 + 4 + 1);
      expect(await raw.zCard('oc:ix:tokens')).toBe(2000);
      expect(await raw.pExpireTime('oc:ix:tokens')).toBe(now + 600_000 + 1999);
      expect(await raw.zScore('oc:ix:users', 'u49')).toBe(now + 600_000 + 1999);
      expect(await store.get('oc:at:1999')).toEqual({ exp: now + 600_000 + 1999 });
    });
  });

  it('25k ops (20k members of one index) go through without a Lua stack overflow', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      const ops: BatchOp[] = [];
      for (let i = 0; i < 5_000; i++) ops.push({ op: 'set', key: `oc:r:${i}`, value: i, ttlMs: 120_000 });
      for (let i = 0; i < 20_000; i++) {
        ops.push({ op: 'indexAdd', key: 'oc:ix:big', member: `m${i}`, score: now + 60_000 + i });
      }
      await store.writeBatch(ops);
      expect(await raw.zCard('oc:ix:big')).toBe(20_000);
      expect(await raw.zScore('oc:ix:big', 'm19999')).toBe(now + 60_000 + 19_999);
      expect(await raw.pExpireTime('oc:ix:big')).toBe(now + 60_000 + 19_999);
      expect(await raw.dbSize()).toBe(5_001);
      expect(await store.get('oc:r:4999')).toBe(4999);

      // 15k members of one key in a single script call: ZADD arguments are unpacked in chunks.
      const one: BatchOp[] = Array.from({ length: 15_000 }, (_, i) => ({
        op: 'indexAdd',
        key: 'oc:ix:one',
        member: `m${i}`,
        score: now + 60_000 + i,
        keepGreater: i % 2 === 0,
      }));
      await raw.configResetStat();
      await store.writeBatch(one);
      expect((await commandCalls(raw)).evalsha).toBe(1);
      expect(await raw.zCard('oc:ix:one')).toBe(15_000);
    });
  });

  it("the CLI's largest batch (20k tokens, 100k ops) is split into atomic slices of MAX_OPS_PER_SCRIPT", async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      const ops = tokenOps(20_000, 5000, now);
      await raw.configResetStat();
      await store.writeBatch(ops);
      const calls = await commandCalls(raw);
      expect((calls.evalsha ?? 0) + (calls.eval ?? 0)).toBeGreaterThanOrEqual(
        Math.ceil(ops.length / MAX_OPS_PER_SCRIPT),
      );
      expect(await raw.zCard('oc:ix:tokens')).toBe(20_000);
      expect(await raw.zCard('oc:ix:users')).toBe(5000);
      expect(await raw.zScore('oc:ix:users', 'u0')).toBe(now + 600_000 + 15_000);
      expect(await raw.dbSize()).toBe(20_000 + 5000 + 20_000 + 2);
      expect(await store.get('oc:at:19999')).toEqual({ exp: now + 600_000 + 19_999 });
    });
  });

  it('works again after the server forgot its scripts (NOSCRIPT falls back to EVAL)', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      await store.writeBatch([{ op: 'indexAdd', key: 'oc:ix:s', member: 'a', score: now + 60_000 }]);
      await raw.scriptFlush();
      await store.writeBatch([
        { op: 'set', key: 'oc:s:1', value: 'one', ttlMs: 60_000 },
        { op: 'indexAdd', key: 'oc:ix:s', member: 'b', score: now + 70_000 },
      ]);
      expect(await store.get('oc:s:1')).toBe('one');
      expect((await zset(raw, 'oc:ix:s')).map((e) => e.value)).toEqual(['a', 'b']);
    });
  });
});

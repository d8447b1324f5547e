import { StoreUnavailableError, type Transaction } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/create-store.js';
import type { L1Store } from '../src/l1/l1-store.js';
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
async function withStore(body: (store: RedisStore, raw: Admin, url: string) => Promise<void>): Promise<void> {
  const url = await freshDbUrl(server.url);
  const store = await RedisStore.open({ url, commandTimeoutMs: 10_000 });
  const raw = await adminClient(url);
  try {
    await body(store, raw, url);
  } finally {
    raw.destroy();
    await store.close();
  }
}

/**
 * The commands the COMMIT script itself runs. `INFO commandstats` counts them under their own
 * names, next to the commands clients sent.
 */
const SCRIPT_COMMANDS = new Set([
  'exists',
  'zcount',
  'type',
  'set',
  'del',
  'zremrangebyscore',
  'zadd',
  'zrem',
  'zrange',
  'pexpireat',
  'publish',
]);

/** A rotation-shaped transaction: 3 preconditions, 10 ops. */
function rotation(now: number, n: number): Transaction {
  const exp = now + 600_000;
  return {
    now,
    require: [
      { if: 'present', key: `oc:rt:${n}` },
      { if: 'absent', key: `oc:rc:${n}` },
      { if: 'room', index: 'oc:ix:tokens', adding: 2, cap: 1000 },
    ],
    ops: [
      { op: 'delete', keys: [`oc:rt:${n}`] },
      { op: 'set', key: `oc:rc:${n}`, value: { v: 1, kind: 'consumed', exp }, ttlMs: 600_000 },
      { op: 'set', key: `oc:at:${n + 1}`, value: { v: 1, kind: 'access', exp }, ttlMs: 600_000 },
      { op: 'set', key: `oc:rt:${n + 1}`, value: { v: 1, kind: 'refresh', exp }, ttlMs: 600_000 },
      { op: 'indexAdd', key: 'oc:ix:tokens', member: `a:${n + 1}`, score: exp },
      { op: 'indexAdd', key: 'oc:ix:tokens', member: `r:${n + 1}`, score: exp },
      { op: 'indexRemove', key: 'oc:ix:tokens', members: [`r:${n}`] },
      { op: 'indexAdd', key: 'oc:ix:u:u1', member: `a:${n + 1}`, score: exp },
      { op: 'indexAdd', key: 'oc:ix:f:f1', member: `r:${n + 1}`, score: exp },
      { op: 'indexAdd', key: 'oc:ix:users', member: 'u1', score: exp, keepGreater: true },
    ],
  };
}

describe('RedisStore.commit (one script call per transaction)', () => {
  it('a commit of 10 ops with 3 preconditions is ONE command sent to the server (EVALSHA)', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      await store.set('oc:rt:1', { v: 1 }, 600_000);
      // The first call loads the script (EVALSHA, then EVAL on NOSCRIPT): measure the second.
      expect(await store.commit(rotation(now, 1))).toEqual({ ok: true });
      await raw.configResetStat();
      expect(await store.commit(rotation(now, 2))).toEqual({ ok: true });
      const calls = parseCommandCalls(await raw.info('commandstats'));
      expect(calls.evalsha).toBe(1);
      expect(calls.eval).toBeUndefined();
      expect(calls.multi).toBeUndefined();
      // Every other command counted was run by the script (the store's background PING and the
      // admin client's RESETSTAT aside): the three records were written inside the one EVALSHA.
      const others = Object.keys(calls).filter(
        (name) => !['evalsha', 'ping', 'config|resetstat'].includes(name) && !SCRIPT_COMMANDS.has(name),
      );
      expect(others).toEqual([]);
      expect(calls.set).toBe(3);
      expect(await store.get('oc:rt:3')).toEqual({ v: 1, kind: 'refresh', exp: now + 600_000 });
      expect(await store.get('oc:rt:2')).toBeUndefined();
      expect((await store.indexRange('oc:ix:tokens', now)).map((e) => e.member).sort()).toEqual([
        'a:2',
        'a:3',
        'r:3',
      ]);

      // A failing commit is one command as well, and writes nothing.
      await raw.configResetStat();
      const before = await raw.dbSize();
      expect(await store.commit(rotation(now, 2))).toEqual({ ok: false, failed: 0 });
      const failed = parseCommandCalls(await raw.info('commandstats'));
      expect(failed.evalsha).toBe(1);
      expect(failed.set).toBeUndefined();
      expect(failed.zadd).toBeUndefined();
      expect(await raw.dbSize()).toBe(before);
    });
  });

  it('writes records as set does (envelope, PX ttl) and indexes expiring at their highest score', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      const value = { v: 1, kind: 'access', exp: now + 60_000, body: { scp: ['a', 'b'] } };
      await store.set('oc:by-set', value, 60_000);
      expect(
        await store.commit({
          now,
          ops: [
            { op: 'set', key: 'oc:by-commit', value, ttlMs: 60_000 },
            // Keyv's serializer path (a string starting with ':' is escaped on write).
            { op: 'set', key: 'oc:colon', value: ':starts with a colon', ttlMs: 60_000 },
            { op: 'indexAdd', key: 'oc:ix:e', member: 'late', score: now + 90_000.5 },
            { op: 'indexAdd', key: 'oc:ix:e', member: 'early', score: now + 30_000 },
          ],
        }),
      ).toEqual({ ok: true });
      const bySet = JSON.parse((await raw.get('oc:by-set'))!) as { value: unknown; expires: number };
      const byCommit = JSON.parse((await raw.get('oc:by-commit'))!) as { value: unknown; expires: number };
      expect(byCommit.value).toEqual(bySet.value);
      expect(Math.abs(byCommit.expires - bySet.expires)).toBeLessThan(5_000);
      const pttl = await raw.pTTL('oc:by-commit');
      expect(pttl).toBeGreaterThan(50_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(await store.get('oc:colon')).toBe(':starts with a colon');
      expect(await raw.pExpireTime('oc:ix:e')).toBe(Math.ceil(now + 90_000.5));
      expect(await store.indexRange('oc:ix:e', now)).toEqual([
        { member: 'early', score: now + 30_000 },
        { member: 'late', score: now + 90_000.5 },
      ]);
    });
  });

  it('a set with a ttl <= 0 is a delete, as in set', async () => {
    await withStore(async (store) => {
      await store.set('oc:gone', 1, 60_000);
      expect(
        await store.commit({ now: Date.now(), ops: [{ op: 'set', key: 'oc:gone', value: 2, ttlMs: 0 }] }),
      ).toEqual({ ok: true });
      expect(await store.get('oc:gone')).toBeUndefined();
    });
  });

  it('bad input is refused before anything is sent; an index key of another type writes nothing', async () => {
    await withStore(async (store, raw) => {
      const now = Date.now();
      const write = { op: 'set', key: 'oc:a', value: 1, ttlMs: 60_000 } as const;
      await expect(
        store.commit({ now, ops: [write, { op: 'indexAdd', key: 'oc:ix', member: 'm', score: Number.NaN }] }),
      ).rejects.toThrow(TypeError);
      await expect(
        store.commit({
          now,
          ops: [write, { op: 'set', key: 'oc:b', value: 1, ttlMs: Number.POSITIVE_INFINITY }],
        }),
      ).rejects.toThrow(TypeError);
      await expect(store.commit({ now: Number.NaN, ops: [write] })).rejects.toThrow(TypeError);
      expect(await raw.dbSize()).toBe(0);

      // The script checks index keys' types before its first write: no half-applied commit.
      await raw.set('oc:ix:str', 'not a sorted set');
      await expect(
        store.commit({
          now,
          ops: [write, { op: 'indexAdd', key: 'oc:ix:str', member: 'm', score: now + 60_000 }],
        }),
      ).rejects.toThrow(StoreUnavailableError);
      await expect(
        store.commit({ now, ops: [write, { op: 'indexRemove', key: 'oc:ix:str', members: ['m'] }] }),
      ).rejects.toThrow(StoreUnavailableError);
      expect(await store.get('oc:a')).toBeUndefined();
    });
  });

  it('an indexRemove of thousands of members is applied whole', async () => {
    await withStore(async (store) => {
      const now = Date.now();
      const members = Array.from({ length: 2500 }, (_, i) => `m${i}`);
      await store.writeBatch(
        members.map((member) => ({ op: 'indexAdd' as const, key: 'oc:ix:big', member, score: now + 60_000 })),
      );
      await store.indexAdd('oc:ix:big', 'kept', now + 60_000, { now });
      expect(
        await store.commit({
          now,
          require: [{ if: 'count', index: 'oc:ix:big', equals: 2501 }],
          ops: [{ op: 'indexRemove', key: 'oc:ix:big', members }],
        }),
      ).toEqual({ ok: true });
      expect(await store.indexRange('oc:ix:big', now)).toEqual([{ member: 'kept', score: now + 60_000 }]);
    });
  });

  it("another store's onRemoteDelete hears the keys a commit deleted or overwrote, nothing of a failed one", async () => {
    await withStore(async (store, _raw, url) => {
      const other = await RedisStore.open({ url, commandTimeoutMs: 10_000 });
      const heard: string[][] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = await other.onRemoteDelete((keys) => {
        heard.push(keys);
        wake?.();
      });
      const next = async (): Promise<string[]> => {
        const deadline = Date.now() + 10_000;
        while (heard.length === 0) {
          if (Date.now() > deadline) throw new Error('no invalidation message within 10 s');
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 200);
          });
        }
        return heard.shift()!;
      };
      try {
        const now = Date.now();
        await store.set('oc:at:gone', 1, 60_000);
        await store.set('oc:at:over', 1, 60_000);
        expect(
          await store.commit({
            now,
            ops: [
              { op: 'delete', keys: ['oc:at:gone', 'oc:at:never'] },
              { op: 'set', key: 'oc:at:over', value: 2, ttlMs: 60_000 },
              { op: 'set', key: 'oc:at:new', value: 3, ttlMs: 60_000 },
            ],
          }),
        ).toEqual({ ok: true });
        expect((await next()).sort()).toEqual(['oc:at:gone', 'oc:at:over']);

        // A commit whose precondition fails publishes nothing: the next message is the sentinel's.
        expect(
          await store.commit({
            now,
            require: [{ if: 'absent', key: 'oc:at:over' }],
            ops: [{ op: 'delete', keys: ['oc:at:new'] }],
          }),
        ).toEqual({ ok: false, failed: 0 });
        await store.set('oc:sentinel', 1, 60_000);
        await store.delete('oc:sentinel');
        expect(await next()).toEqual(['oc:sentinel']);
      } finally {
        await unsubscribe();
        await other.close();
      }
    });
  });

  it("a key deleted by a commit leaves another store's L1 (pub/sub), well before maxStaleMs", async () => {
    await withStore(async (store, _raw, url) => {
      const cached = (await createStore(url, { l1: { maxStaleMs: 600_000 } })) as L1Store;
      try {
        const record = { v: 1, kind: 'access', exp: Date.now() + 600_000 };
        await store.set('oc:at:hot', record, 600_000);
        expect(await cached.get('oc:at:hot')).toEqual(record);
        const hits = cached.l1Stats.hits;
        expect(await cached.get('oc:at:hot')).toEqual(record);
        expect(cached.l1Stats.hits).toBe(hits + 1); // served by the L1 from now on
        let heard: () => void = () => undefined;
        const dropped = new Promise<void>((resolve) => {
          heard = resolve;
        });
        await cached.onRemoteDelete!((keys) => {
          if (keys.includes('oc:at:hot')) heard();
        });
        expect(
          await store.commit({
            now: Date.now(),
            require: [{ if: 'present', key: 'oc:at:hot' }],
            ops: [{ op: 'delete', keys: ['oc:at:hot'] }],
          }),
        ).toEqual({ ok: true });
        await dropped; // the L1's own listener ran first (registered when it opened)
        expect(await cached.get('oc:at:hot')).toBeUndefined();
      } finally {
        await cached.close();
      }
    });
  });
});

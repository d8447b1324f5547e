import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/redis/redis-store.js';
import { parseCommandCalls, type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { adminClient } from './support/redis-admin.js';
import { sleep } from './support/temp.js';

const servers: RedisServerHandle[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function untilAnswers(store: RedisStore, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await store.ping();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > timeoutMs) throw error;
      await sleep(50);
    }
  }
}

describe('Redis durability with AOF (appendfsync always)', () => {
  it('everything acknowledged before a SIGKILL of redis-server is there after restart, through the same store', async () => {
    const server = await startRedisServer({ appendOnly: true });
    servers.push(server);
    const store = await RedisStore.open({ url: server.url });
    const now = Date.now();
    for (let i = 0; i < 300; i++) await store.set(`oc:d:${i}`, { i }, 600_000);
    for (let i = 0; i < 30; i++) await store.indexAdd('oc:ix:d', `m${i}`, now + 600_000 + i, { now });
    const setIfAbsent = (value: string) =>
      store.commit({
        now: Date.now(),
        require: [{ if: 'absent', key: 'oc:d:nx' }],
        ops: [{ op: 'set', key: 'oc:d:nx', value, ttlMs: 600_000 }],
      });
    const consumed = await store.commit({
      now,
      require: [{ if: 'present', key: 'oc:d:0' }],
      ops: [{ op: 'delete', keys: ['oc:d:0'] }],
    });
    expect(consumed).toEqual({ ok: true });
    expect(await setIfAbsent('held')).toEqual({ ok: true });
    await server.kill('SIGKILL');
    await server.restart();
    const recoveredMs = await untilAnswers(store);
    console.log(`redis store answered again ${recoveredMs} ms after redis-server restarted (AOF reload)`);
    const values = await store.getMany(Array.from({ length: 300 }, (_, i) => `oc:d:${i}`));
    expect(values[0]).toBeUndefined(); // consumed before the crash stays consumed
    expect(values.slice(1)).toEqual(Array.from({ length: 299 }, (_, i) => ({ i: i + 1 })));
    expect(await store.indexCount('oc:ix:d', now)).toBe(30);
    expect(await store.get('oc:d:nx')).toBe('held');
    expect(await setIfAbsent('again')).toEqual({ ok: false, failed: 0 });
    expect(await store.get('oc:d:nx')).toBe('held');
    await store.close();
  });

  it('close and reopen a new store on the same server: records and TTLs are intact', async () => {
    const server = await startRedisServer({ appendOnly: true });
    servers.push(server);
    const first = await RedisStore.open({ url: server.url });
    await first.set('oc:k', { v: 1 }, 600_000);
    await first.close();
    await server.kill('SIGTERM'); // graceful shutdown, data dir kept
    await server.restart();
    const second = await RedisStore.open({ url: server.url });
    expect(await second.get('oc:k')).toEqual({ v: 1 });
    const [entry] = await (async () => {
      const all = [];
      for await (const e of second.entries('oc:')) all.push(e);
      return all;
    })();
    expect(entry!.expiresAt).toBeGreaterThan(Date.now() + 500_000);
    await second.close();
  });
});

describe('Redis restart: the Lua scripts', () => {
  it('a restarted server has forgotten the Lua scripts: each is sent once with EVAL, then runs by EVALSHA again', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const store = await RedisStore.open({ url: server.url });
    const now = Date.now();
    /** One call of each of the store's six scripts; resolves what they answered. */
    const everyScript = async (round: number) => {
      await store.writeBatch([
        { op: 'set', key: `oc:r${round}:a`, value: 'a', ttlMs: 600_000 },
        { op: 'set', key: `oc:r${round}:b`, value: 'b', ttlMs: 600_000 },
        { op: 'indexAdd', key: `oc:ix:r${round}`, member: 'old', score: now + 500_000 },
      ]);
      const evicted = await store.indexAdd(`oc:ix:r${round}`, 'new', now + 600_000, { now, cap: 1 });
      const committed = await store.commit({
        now,
        require: [{ if: 'present', key: `oc:r${round}:a` }],
        ops: [{ op: 'delete', keys: [`oc:r${round}:a`] }],
      });
      const left = await store.get(`oc:r${round}:a`);
      const deleted = await store.delete(`oc:r${round}:b`);
      const lock = await store.lock(`oc:lock:r${round}`, 600_000);
      await lock?.release();
      await store.sweep(now);
      return {
        evicted,
        committed,
        left,
        deleted,
        locked: lock !== null,
        lockLeft: await store.get(`oc:lock:r${round}`),
      };
    };
    const answers = {
      evicted: ['old'],
      committed: { ok: true },
      left: undefined,
      deleted: 1,
      locked: true,
      lockLeft: undefined,
    };
    expect(await everyScript(0)).toEqual(answers);

    await server.kill('SIGKILL');
    await server.restart();
    await untilAnswers(store);
    const raw = await adminClient(server.url);
    try {
      await raw.configResetStat();
      expect(await everyScript(1)).toEqual(answers);
      const afterRestart = parseCommandCalls(await raw.info('commandstats'));
      expect(afterRestart.eval).toBe(6); // NOSCRIPT once per script, then the script itself

      await raw.configResetStat();
      expect(await everyScript(2)).toEqual(answers);
      const loaded = parseCommandCalls(await raw.info('commandstats'));
      expect(loaded.eval).toBeUndefined();
      expect(loaded.evalsha).toBe(6);
    } finally {
      raw.destroy();
      await store.close();
    }
  });
});

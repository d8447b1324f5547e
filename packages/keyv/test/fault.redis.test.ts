import { StoreUnavailableError } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { L1Store } from '../src/l1/l1-store.js';
import { RedisStore } from '../src/redis/redis-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { sleep } from './support/temp.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.kill('SIGCONT');
  await server?.stop();
});

/** Run `call`, expect a StoreUnavailableError; resolves how long the rejection took. */
async function rejectsFast(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as Error).message).toMatch(/^redis:\/\/127\.0\.0\.1:\d+: \w+ failed: /);
  return ms;
}

async function untilWorks(store: RedisStore, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await store.set('oc:probe', 1, 10_000);
      return Date.now() - started;
    } catch {
      if (Date.now() - started > timeoutMs) throw new Error('store never recovered');
      await sleep(50);
    }
  }
}

describe('Redis faults', () => {
  it('redis-server SIGKILLed: every call rejects with StoreUnavailableError in < 2 s; the same store recovers after restart', async () => {
    const store = await RedisStore.open({ url: server.url });
    await store.set('oc:before', 1, 60_000);
    await server.kill('SIGKILL');
    const now = Date.now();
    const timings = {
      get: await rejectsFast(() => store.get('oc:before')),
      getMany: await rejectsFast(() => store.getMany(['oc:before'])),
      set: await rejectsFast(() => store.set('oc:x', 1, 1000)),
      commit: await rejectsFast(() =>
        store.commit({
          now,
          require: [{ if: 'present', key: 'oc:before' }],
          ops: [{ op: 'delete', keys: ['oc:before'] }],
        }),
      ),
      delete: await rejectsFast(() => store.delete('oc:before')),
      indexAdd: await rejectsFast(() => store.indexAdd('oc:ix', 'm', now + 1000, { now })),
      indexRange: await rejectsFast(() => store.indexRange('oc:ix', now)),
      lock: await rejectsFast(() => store.lock('oc:lock:x', 1000)),
      ping: await rejectsFast(() => store.ping()),
    };
    console.log(
      `redis down (SIGKILL): rejection times ms ${Object.entries(timings)
        .map(([k, v]) => `${k}=${v.toFixed(1)}`)
        .join(' ')}`,
    );
    for (const ms of Object.values(timings)) expect(ms).toBeLessThan(2000);
    await server.restart();
    const recovered = await untilWorks(store);
    console.log(`redis store recovered ${recovered} ms after restart`);
    expect(recovered).toBeLessThan(10_000);
    expect(await store.get('oc:probe')).toBe(1);
    await store.close();
  });

  it('redis-server frozen (SIGSTOP): calls reject within the command deadline instead of hanging, and work after SIGCONT', async () => {
    const store = await RedisStore.open({ url: server.url, commandTimeoutMs: 1000 });
    await store.set('oc:k', 'v', 60_000);
    await server.kill('SIGSTOP');
    try {
      const ms = await rejectsFast(() => store.get('oc:k'));
      console.log(`redis frozen (SIGSTOP): get rejected after ${ms.toFixed(0)} ms`);
      expect(ms).toBeLessThan(2000);
      expect(ms).toBeGreaterThanOrEqual(900);
    } finally {
      await server.kill('SIGCONT');
    }
    await untilWorks(store);
    expect(await store.get('oc:k')).toBe('v');
    await store.close();
  });

  it('redis-server frozen: every pending command rejects at its own deadline (one shared timer), reads and writes alike', async () => {
    const store = await RedisStore.open({ url: server.url, commandTimeoutMs: 1000 });
    await store.set('oc:k', 'v', 60_000);
    await server.kill('SIGSTOP');
    try {
      const early = Array.from({ length: 20 }, (_, i) =>
        rejectsFast(() => (i % 2 ? store.get('oc:k') : store.set(`oc:w${i}`, i, 60_000))),
      );
      await sleep(400);
      const late = [rejectsFast(() => store.get('oc:k')), rejectsFast(() => store.getMany(['oc:k']))];
      const earlyMs = await Promise.all(early);
      const lateMs = await Promise.all(late);
      console.log(
        `redis frozen: 20 early commands rejected after ${Math.min(...earlyMs).toFixed(0)}-${Math.max(...earlyMs).toFixed(0)} ms, 2 later ones after ${lateMs.map((m) => m.toFixed(0)).join(', ')} ms (each from its own start)`,
      );
      // Each measured from its own start: never before its deadline, never long after it.
      for (const ms of [...earlyMs, ...lateMs]) {
        expect(ms).toBeGreaterThanOrEqual(1000);
        expect(ms).toBeLessThan(2500);
      }
    } finally {
      await server.kill('SIGCONT');
    }
    await untilWorks(store);
    expect(await store.get('oc:k')).toBe('v');
    await store.close();
  });

  it('redis-server frozen: every Lua script call rejects at the command deadline too', async () => {
    const store = await RedisStore.open({ url: server.url, commandTimeoutMs: 1000 });
    const now = Date.now();
    // Run each script once first: frozen, a script already loaded is one EVALSHA that hangs.
    await store.writeBatch([{ op: 'set', key: 'oc:s', value: 1, ttlMs: 60_000 }]);
    await store.indexAdd('oc:ix:s', 'm', now + 60_000, { now, cap: 10 });
    const consume = () =>
      store.commit({
        now,
        require: [{ if: 'present', key: 'oc:s' }],
        ops: [{ op: 'delete', keys: ['oc:s'] }],
      });
    await consume();
    await store.delete('oc:s');
    await store.sweep(now);
    await server.kill('SIGSTOP');
    try {
      const scripts = {
        writeBatch: rejectsFast(() =>
          store.writeBatch([{ op: 'set', key: 'oc:w', value: 1, ttlMs: 60_000 }]),
        ),
        indexAdd: rejectsFast(() => store.indexAdd('oc:ix:s', 'n', now + 60_000, { now, cap: 10 })),
        commit: rejectsFast(consume),
        delete: rejectsFast(() => store.delete('oc:s')),
      };
      const ms = Object.fromEntries(
        await Promise.all(Object.entries(scripts).map(async ([name, p]) => [name, await p] as const)),
      );
      console.log(
        `redis frozen: script calls rejected after ${Object.entries(ms)
          .map(([k, v]) => `${k}=${v.toFixed(0)}`)
          .join(' ')} ms`,
      );
      for (const value of Object.values(ms)) {
        expect(value).toBeGreaterThanOrEqual(1000);
        expect(value).toBeLessThan(2500);
      }
    } finally {
      await server.kill('SIGCONT');
    }
    await untilWorks(store);
    await store.close();
  });

  it('after a restart the pub/sub subscription is back: remote deletes reach the L1 again', async () => {
    const a = await L1Store.wrap(await RedisStore.open({ url: server.url }), { maxStaleMs: 60_000 });
    const b = await RedisStore.open({ url: server.url });
    await server.kill('SIGKILL');
    await server.restart();
    await untilWorks(b);
    await untilWorks(a.inner as RedisStore);
    const key = 'oc:at:after-restart';
    await b.set(key, { v: 1 }, 60_000);
    // The subscriber reconnects on its own schedule: give it the backoff ceiling to resubscribe.
    const deadline = Date.now() + 10_000;
    let invalidated = false;
    while (!invalidated && Date.now() < deadline) {
      await b.set(key, { v: 1 }, 60_000);
      await a.get(key);
      await b.delete(key);
      await sleep(100);
      invalidated = (await a.get(key)) === undefined;
    }
    expect(invalidated).toBe(true);
    await a.close();
    await b.close();
  });
});

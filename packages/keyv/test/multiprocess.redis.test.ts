import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/redis/redis-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl } from './support/redis-admin.js';
import { expectOverlap, StoreWorker } from './support/worker.js';

let server: RedisServerHandle;
const workers: StoreWorker[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(async () => {
  await server?.stop();
});

async function twoWorkers(url: string, l1?: object): Promise<[StoreWorker, StoreWorker]> {
  const pair = await Promise.all([StoreWorker.start(), StoreWorker.start()]);
  workers.push(...pair);
  await Promise.all(pair.map((w) => w.request('open', { url, l1 })));
  return pair;
}

describe('Redis shared by two processes', () => {
  it('take: each of 500 keys is won by exactly one process', async () => {
    const url = await freshDbUrl(server.url);
    const seed = await RedisStore.open({ url });
    const n = 500;
    await seed.writeBatch(
      Array.from({ length: n }, (_, i) => ({
        op: 'set' as const,
        key: `oc:t:${i}`,
        value: i,
        ttlMs: 600_000,
      })),
    );
    const [a, b] = await twoWorkers(url);
    const at = Date.now() + 300;
    const [ra, rb] = await Promise.all([
      a.request('takeAll', { prefix: 'oc:t:', n, at }),
      b.request('takeAll', { prefix: 'oc:t:', n, at }),
    ]);
    const wonA = ra.won as number[];
    const wonB = rb.won as number[];
    console.log(`redis take race: process A won ${wonA.length}, B won ${wonB.length} of ${n}`);
    expectOverlap(ra, rb);
    // No key is won twice, none is lost.
    expect(wonA.filter((i) => wonB.includes(i))).toEqual([]);
    expect([...wonA, ...wonB].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    await seed.close();
  });

  it('add: each of 500 keys is written by exactly one process', async () => {
    const [a, b] = await twoWorkers(await freshDbUrl(server.url));
    const at = Date.now() + 300;
    const [ra, rb] = await Promise.all([
      a.request('addRace', { key: 'oc:nx:', rounds: 500, at }),
      b.request('addRace', { key: 'oc:nx:', rounds: 500, at }),
    ]);
    console.log(`add race: A wrote ${ra.won}, B wrote ${rb.won}`);
    expectOverlap(ra, rb);
    expect(Number(ra.won) + Number(rb.won)).toBe(500);
  });

  it('index cap holds with two processes adding: 10 kept, every other member evicted exactly once', async () => {
    const url = await freshDbUrl(server.url);
    const [a, b] = await twoWorkers(url);
    const membersA = Array.from({ length: 200 }, (_, i) => `A${i}`);
    const membersB = Array.from({ length: 200 }, (_, i) => `B${i}`);
    const at = Date.now() + 300;
    const [ra, rb] = await Promise.all([
      a.request('indexAddAll', { key: 'oc:ix:us:u', members: membersA, cap: 10, at }),
      b.request('indexAddAll', { key: 'oc:ix:us:u', members: membersB, cap: 10, at }),
    ]);
    const evicted = [...(ra.evicted as string[]), ...(rb.evicted as string[])];
    const store = await RedisStore.open({ url });
    const kept = (await store.indexRange('oc:ix:us:u', Date.now())).map((e) => e.member);
    await store.close();
    expect(kept).toHaveLength(10);
    expect(new Set(evicted).size).toBe(evicted.length);
    expect([...kept, ...evicted].sort()).toEqual([...membersA, ...membersB].sort());
  });

  it("a delete in process A drops the key from process B's L1 (pub/sub), median well under 100 ms", async () => {
    const url = await freshDbUrl(server.url);
    const [a, b] = await twoWorkers(url, { max: 1000, maxStaleMs: 60_000 });
    const latencies: number[] = [];
    for (let round = 0; round < 40; round++) {
      const key = `oc:at:lat${round}`;
      await a.request('set', {
        key,
        value: { v: 1, kind: 'access', exp: Date.now() + 600_000 },
        ttlMs: 600_000,
      });
      await b.request('get', { key });
      expect((await b.request('get', { key })).servedByL1).toBe(true);
      await b.request('watch', { key });
      const invalidated = b.nextEvent((m) => m.event === 'invalidated' && m.key === key);
      const { at } = await a.request('delete', { key });
      const event = await invalidated;
      expect(event.error).toBeUndefined();
      expect(event.value).toBeNull(); // B's next read misses: the L1 no longer holds the token
      expect(event.servedByL1).toBe(false);
      latencies.push(Number(event.at) - Number(at));
    }
    latencies.sort((x, y) => x - y);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
    console.log(
      `cross-process L1 invalidation (delete in A -> B's L1 dropped): median ${pct(0.5).toFixed(3)} ms, p90 ${pct(0.9).toFixed(3)} ms, max ${pct(1).toFixed(3)} ms`,
    );
    expect(pct(0.5)).toBeLessThanOrEqual(100);
  });
});

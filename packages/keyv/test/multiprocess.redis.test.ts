import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/redis/redis-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { freshDbUrl } from './support/redis-admin.js';
import {
  expectCommitRace,
  expectIndexCapRace,
  expectSetIfAbsentRace,
  stopWorkers,
  twoWorkers,
} from './support/two-process-races.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(stopWorkers);
afterAll(async () => {
  await server?.stop();
});

describe('Redis shared by two processes', () => {
  it('commit: of two processes committing against the same present record, exactly one wins (500 records)', async () => {
    const url = await freshDbUrl(server.url);
    const seed = await RedisStore.open({ url });
    try {
      await expectCommitRace('redis', url, seed, 500);
    } finally {
      await seed.close();
    }
  });

  it('set-if-absent (commit requiring absent): each of 500 keys is written by exactly one process', async () => {
    const url = await freshDbUrl(server.url);
    await expectSetIfAbsentRace('redis', url, 500, () => RedisStore.open({ url }));
  });

  it('index cap holds with two processes adding: 10 kept, every other member evicted exactly once', async () => {
    const url = await freshDbUrl(server.url);
    await expectIndexCapRace(url, 200, () => RedisStore.open({ url }));
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

import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';
import { expectOverlap, StoreWorker } from './support/worker.js';

const workers: StoreWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(cleanupTempDirs);

async function twoWorkers(url: string): Promise<[StoreWorker, StoreWorker]> {
  const pair = await Promise.all([StoreWorker.start(), StoreWorker.start()]);
  workers.push(...pair);
  await Promise.all(pair.map((w) => w.request('open', { url })));
  return pair;
}

describe('SQLite shared by two processes', () => {
  it('take: each of 300 keys is won by exactly one process', async () => {
    const path = join(await tempDir(), 'take.db');
    const seed = await SqliteStore.open({ path });
    const n = 300;
    await seed.writeBatch(
      Array.from({ length: n }, (_, i) => ({
        op: 'set' as const,
        key: `oc:t:${i}`,
        value: i,
        ttlMs: 600_000,
      })),
    );
    const [a, b] = await twoWorkers(`sqlite://${path}`);
    const at = Date.now() + 300;
    const [ra, rb] = await Promise.all([
      a.request('takeAll', { prefix: 'oc:t:', n, at }),
      b.request('takeAll', { prefix: 'oc:t:', n, at }),
    ]);
    const wonA = ra.won as number[];
    const wonB = rb.won as number[];
    console.log(`sqlite take race: process A won ${wonA.length}, B won ${wonB.length} of ${n}`);
    expectOverlap(ra, rb);
    // No key is won twice, none is lost.
    expect(wonA.filter((i) => wonB.includes(i))).toEqual([]);
    expect([...wonA, ...wonB].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(await seed.get('oc:t:0')).toBeUndefined();
    await seed.close();
  });

  it('add: each of 300 keys is written by exactly one process', async () => {
    const path = join(await tempDir(), 'add.db');
    const [a, b] = await twoWorkers(`sqlite://${path}`);
    const at = Date.now() + 300;
    const [ra, rb] = await Promise.all([
      a.request('addRace', { key: 'oc:nx:', rounds: 300, at }),
      b.request('addRace', { key: 'oc:nx:', rounds: 300, at }),
    ]);
    console.log(`add race: A wrote ${ra.won}, B wrote ${rb.won}`);
    expectOverlap(ra, rb);
    expect(Number(ra.won) + Number(rb.won)).toBe(300);
  });

  it('index cap holds with two processes adding: 10 kept, every other member evicted exactly once', async () => {
    const path = join(await tempDir(), 'cap.db');
    const [a, b] = await twoWorkers(`sqlite://${path}`);
    const membersA = Array.from({ length: 150 }, (_, i) => `A${i}`);
    const membersB = Array.from({ length: 150 }, (_, i) => `B${i}`);
    const at = Date.now() + 300;
    const [ra, rb] = await Promise.all([
      a.request('indexAddAll', { key: 'oc:ix:us:u', members: membersA, cap: 10, at }),
      b.request('indexAddAll', { key: 'oc:ix:us:u', members: membersB, cap: 10, at }),
    ]);
    const evicted = [...(ra.evicted as string[]), ...(rb.evicted as string[])];
    const store = await SqliteStore.open({ path });
    const kept = (await store.indexRange('oc:ix:us:u', Date.now())).map((e) => e.member);
    await store.close();
    expect(kept).toHaveLength(10);
    expect(new Set(evicted).size).toBe(evicted.length);
    expect([...kept, ...evicted].sort()).toEqual([...membersA, ...membersB].sort());
  });
});

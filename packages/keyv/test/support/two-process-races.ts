import type { CacheStore } from '@oauth-cache/core';
import { expect } from 'vitest';
import { expectOverlap, StoreWorker } from './worker.js';

const running: StoreWorker[] = [];

/** Two worker processes with a store open on `url` (and an L1 when `l1` is given). */
export async function twoWorkers(url: string, l1?: object): Promise<[StoreWorker, StoreWorker]> {
  const pair = await Promise.all([StoreWorker.start(), StoreWorker.start()]);
  running.push(...pair);
  await Promise.all(pair.map((w) => w.request('open', { url, l1 })));
  return pair;
}

/** Stop every worker started by {@link twoWorkers} (register in `afterEach`). */
export async function stopWorkers(): Promise<void> {
  await Promise.all(running.splice(0).map((w) => w.stop()));
}

/**
 * Both processes `take` the same `n` keys (seeded through `seed`) from the same instant: no key
 * is won twice and none is lost.
 */
export async function expectTakeRace(label: string, url: string, seed: CacheStore, n: number): Promise<void> {
  await seed.writeBatch?.(
    Array.from({ length: n }, (_, i) => ({ op: 'set' as const, key: `oc:t:${i}`, value: i, ttlMs: 600_000 })),
  );
  const [a, b] = await twoWorkers(url);
  const at = Date.now() + 300;
  const [ra, rb] = await Promise.all([
    a.request('takeAll', { prefix: 'oc:t:', n, at }),
    b.request('takeAll', { prefix: 'oc:t:', n, at }),
  ]);
  const wonA = ra.won as number[];
  const wonB = rb.won as number[];
  console.log(`${label} take race: process A won ${wonA.length}, B won ${wonB.length} of ${n}`);
  expectOverlap(ra, rb);
  expect(wonA.filter((i) => wonB.includes(i))).toEqual([]);
  expect([...wonA, ...wonB].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
}

/** Both processes `add` the same `rounds` keys from the same instant: each is written once. */
export async function expectAddRace(url: string, rounds: number): Promise<void> {
  const [a, b] = await twoWorkers(url);
  const at = Date.now() + 300;
  const [ra, rb] = await Promise.all([
    a.request('addRace', { key: 'oc:nx:', rounds, at }),
    b.request('addRace', { key: 'oc:nx:', rounds, at }),
  ]);
  console.log(`add race: A wrote ${ra.won}, B wrote ${rb.won}`);
  expectOverlap(ra, rb);
  expect(Number(ra.won) + Number(rb.won)).toBe(rounds);
}

/**
 * Both processes add `perProcess` members each to one index capped at 10: 10 are kept, every
 * other member is evicted exactly once. `open` opens a third store on the same backend to look.
 */
export async function expectIndexCapRace(
  url: string,
  perProcess: number,
  open: () => Promise<CacheStore>,
): Promise<void> {
  const [a, b] = await twoWorkers(url);
  const membersA = Array.from({ length: perProcess }, (_, i) => `A${i}`);
  const membersB = Array.from({ length: perProcess }, (_, i) => `B${i}`);
  const at = Date.now() + 300;
  const [ra, rb] = await Promise.all([
    a.request('indexAddAll', { key: 'oc:ix:us:u', members: membersA, cap: 10, at }),
    b.request('indexAddAll', { key: 'oc:ix:us:u', members: membersB, cap: 10, at }),
  ]);
  const evicted = [...(ra.evicted as string[]), ...(rb.evicted as string[])];
  const store = await open();
  const kept = (await store.indexRange('oc:ix:us:u', Date.now())).map((e) => e.member);
  await store.close();
  expect(kept).toHaveLength(10);
  expect(new Set(evicted).size).toBe(evicted.length);
  expect([...kept, ...evicted].sort()).toEqual([...membersA, ...membersB].sort());
}

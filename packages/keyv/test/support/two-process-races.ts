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
 * Both processes run, for each of `n` keys, a commit that requires the key absent and sets it to
 * the process's pid (set-if-absent), from the same instant: each key is written by exactly one
 * process, and holds that process's pid. `open` opens a third store on the same backend to look.
 */
export async function expectSetIfAbsentRace(
  label: string,
  url: string,
  n: number,
  open: () => Promise<CacheStore>,
): Promise<void> {
  const prefix = 'oc:nx:';
  const [a, b] = await twoWorkers(url);
  const at = Date.now() + 300;
  const [ra, rb] = await Promise.all([
    a.request('setIfAbsentRace', { prefix, n, at }),
    b.request('setIfAbsentRace', { prefix, n, at }),
  ]);
  const wonA = ra.won as number[];
  const wonB = rb.won as number[];
  console.log(`${label} set-if-absent race: process A wrote ${wonA.length}, B wrote ${wonB.length} of ${n}`);
  expectOverlap(ra, rb);
  expect(wonA.filter((i) => wonB.includes(i))).toEqual([]);
  expect([...wonA, ...wonB].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
  const store = await open();
  try {
    const values = await store.getMany(Array.from({ length: n }, (_, i) => `${prefix}${i}`));
    expect(values).toEqual(
      Array.from({ length: n }, (_, i) => (wonA.includes(i) ? Number(ra.pid) : Number(rb.pid))),
    );
  } finally {
    await store.close();
  }
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

/**
 * Both processes run, for each of `n` seeded records, a commit that requires the record present
 * and consumes it (delete + write a marker + index add), from the same instant: each record is
 * won by exactly one process, and only the winner's writes landed (nothing of a losing commit).
 * `seed` is a store on the same backend, used to seed and then to look.
 */
export async function expectCommitRace(
  label: string,
  url: string,
  seed: CacheStore,
  n: number,
): Promise<void> {
  const prefix = 'oc:cr:';
  await seed.writeBatch?.(
    Array.from({ length: n }, (_, i) => ({
      op: 'set' as const,
      key: `${prefix}rt:${i}`,
      value: i,
      ttlMs: 600_000,
    })),
  );
  const [a, b] = await twoWorkers(url);
  const at = Date.now() + 300;
  const [ra, rb] = await Promise.all([
    a.request('commitRace', { prefix, n, at }),
    b.request('commitRace', { prefix, n, at }),
  ]);
  const wonA = ra.won as number[];
  const wonB = rb.won as number[];
  console.log(`${label} commit race: process A won ${wonA.length}, B won ${wonB.length} of ${n}`);
  expectOverlap(ra, rb);
  expect(wonA.filter((i) => wonB.includes(i))).toEqual([]);
  expect([...wonA, ...wonB].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
  const winner = (i: number) => (wonA.includes(i) ? Number(ra.pid) : Number(rb.pid));
  const markers = await seed.getMany(Array.from({ length: n }, (_, i) => `${prefix}won:${i}`));
  expect(markers).toEqual(Array.from({ length: n }, (_, i) => winner(i)));
  const members = (await seed.indexRange(`${prefix}ix:won`, Date.now())).map((e) => e.member);
  expect(members.sort()).toEqual(Array.from({ length: n }, (_, i) => `${winner(i)}:${i}`).sort());
  const left = await seed.getMany(Array.from({ length: n }, (_, i) => `${prefix}rt:${i}`));
  expect(left.filter((v) => v !== undefined)).toEqual([]);
}

import { type CacheStore, StoreUnavailableError } from '@oauth-cache/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/lock.js';
import { sleep } from './temp.js';

export interface ContractOptions {
  /** A fresh, empty store. */
  open: () => Promise<CacheStore>;
  /** Whether `sweep` reports removed records (SQLite) or leaves expiry to the backend (Redis: 0). */
  sweepCountsRecords: boolean;
}

/**
 * Store-level tests of the CacheStore contract (complementing core's conformance suite, which
 * drives stores through the cache): atomicity under concurrency, caps, expiry, listing, locks.
 */
export function storeContractTests(name: string, options: ContractOptions): void {
  describe(`${name}: CacheStore contract`, () => {
    let store: CacheStore;
    beforeEach(async () => {
      store = await options.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('round-trips JSON values exactly, including unicode and strings starting with ":"', async () => {
      const value = { s: 'Пароль ✓', colon: ':base64:abc', n: 1.5, nested: { a: [1, null, true] } };
      await store.set('oc:v', value, 60_000);
      expect(await store.get('oc:v')).toEqual(value);
      await store.set('oc:str', ':x', 60_000);
      expect(await store.get('oc:str')).toBe(':x');
      expect(await store.get('oc:none')).toBeUndefined();
    });

    it('set overwrites; getMany keeps order and reports missing as undefined', async () => {
      await store.set('oc:a', 1, 60_000);
      await store.set('oc:a', 2, 60_000);
      await store.set('oc:b', 'b', 60_000);
      expect(await store.getMany(['oc:b', 'oc:missing', 'oc:a'])).toEqual(['b', undefined, 2]);
      expect(await store.getMany([])).toEqual([]);
    });

    it('expires records after their TTL; a TTL <= 0 removes, a non-finite TTL is refused', async () => {
      await store.set('oc:short', { v: 1 }, 200);
      expect(await store.get('oc:short')).toEqual({ v: 1 });
      await sleep(450);
      expect(await store.get('oc:short')).toBeUndefined();
      expect(await store.getMany(['oc:short'])).toEqual([undefined]);
      await store.set('oc:gone', 1, 60_000);
      await store.set('oc:gone', 1, 0);
      expect(await store.get('oc:gone')).toBeUndefined();
      await expect(store.set('oc:inf', 1, Number.POSITIVE_INFINITY)).rejects.toThrow(TypeError);
    });

    it('add writes only when absent or expired; one winner among 25 concurrent adds', async () => {
      expect(await store.add('oc:nx', 'first', 60_000)).toBe(true);
      expect(await store.add('oc:nx', 'second', 60_000)).toBe(false);
      expect(await store.get('oc:nx')).toBe('first');
      await store.set('oc:exp', 'old', 150);
      await sleep(400);
      expect(await store.add('oc:exp', 'new', 60_000)).toBe(true);
      expect(await store.get('oc:exp')).toBe('new');
      const results = await Promise.all(
        Array.from({ length: 25 }, (_, i) => store.add('oc:race', i, 60_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get('oc:race')).toBe(results.indexOf(true));
    });

    it('take hands each value to exactly one of many concurrent callers', async () => {
      for (let round = 0; round < 10; round++) {
        await store.set(`oc:once:${round}`, { round }, 60_000);
        const got = await Promise.all(Array.from({ length: 8 }, () => store.take(`oc:once:${round}`)));
        expect(got.filter((g) => g !== undefined)).toEqual([{ round }]);
      }
      expect(await store.take('oc:never')).toBeUndefined();
    });

    it('take of an expired record yields nothing', async () => {
      await store.set('oc:old', 1, 100);
      await sleep(300);
      expect(await store.take('oc:old')).toBeUndefined();
    });

    it('delete removes several keys and counts only those that existed', async () => {
      await store.set('oc:d1', 1, 60_000);
      await store.set('oc:d2', 2, 60_000);
      expect(await store.delete('oc:d1', 'oc:d2', 'oc:d3')).toBe(2);
      expect(await store.delete('oc:d1')).toBe(0);
      expect(await store.delete()).toBe(0);
      expect(await store.getMany(['oc:d1', 'oc:d2'])).toEqual([undefined, undefined]);
    });

    it('indexAdd re-scores, drops dead members, evicts the lowest beyond the cap but not the member just added', async () => {
      const now = Date.now();
      await store.indexAdd('oc:ix', 'old', now - 1, { now: now - 1000 });
      await store.indexAdd('oc:ix', 'a', now + 1000, { now });
      await store.indexAdd('oc:ix', 'b', now + 2000, { now });
      await store.indexAdd('oc:ix', 'a', now + 3000, { now });
      expect(await store.indexRange('oc:ix', now)).toEqual([
        { member: 'b', score: now + 2000 },
        { member: 'a', score: now + 3000 },
      ]);
      // The newcomer has the lowest score: the cap evicts the lowest of the others instead.
      expect(await store.indexAdd('oc:ix', 'c', now + 500, { now, cap: 2 })).toEqual(['b']);
      expect((await store.indexRange('oc:ix', now)).map((e) => e.member)).toEqual(['c', 'a']);
      expect(await store.indexAdd('oc:ix', 'd', now + 4000, { now, cap: 2 })).toEqual(['c']);
      expect(await store.indexCount('oc:ix', now)).toBe(2);
      expect(await store.indexCount('oc:ix', now + 3500)).toBe(1);
      expect(await store.indexRange('oc:ix', now + 5000)).toEqual([]);
      expect((await store.indexAdd('oc:ix', 'e', now + 100, { now, cap: 0 })).sort()).toEqual([
        'a',
        'd',
        'e',
      ]);
      expect(await store.indexCount('oc:ix', now)).toBe(0);
    });

    it('keepGreater only ever raises a score (indexAdd and writeBatch)', async () => {
      const now = Date.now();
      await store.indexAdd('oc:gt', 'u', now + 50_000, { now });
      await store.indexAdd('oc:gt', 'u', now + 10_000, { now, keepGreater: true });
      expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 50_000 }]);
      await store.writeBatch!([
        { op: 'indexAdd', key: 'oc:gt', member: 'u', score: now + 20_000, keepGreater: true },
      ]);
      expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 50_000 }]);
      await store.indexAdd('oc:gt', 'u', now + 90_000, { now, keepGreater: true });
      expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 90_000 }]);
      await store.indexAdd('oc:gt', 'u', now + 5_000, { now });
      expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 5_000 }]);
    });

    it('indexRemove and indexDelete; unknown indexes are empty', async () => {
      const now = Date.now();
      for (const m of ['x', 'y', 'z']) await store.indexAdd('oc:ix2', m, now + 10_000, { now });
      await store.indexRemove('oc:ix2', ['y', 'nope']);
      await store.indexRemove('oc:ix2', []);
      expect((await store.indexRange('oc:ix2', now)).map((e) => e.member)).toEqual(['x', 'z']);
      await store.indexDelete('oc:ix2');
      expect(await store.indexCount('oc:ix2', now)).toBe(0);
      expect(await store.indexRange('oc:unknown', now)).toEqual([]);
    });

    it('keeps the cap exact under 40 concurrent adds and evicts each member at most once', async () => {
      const now = Date.now();
      const evicted = (
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store.indexAdd('oc:cap', `m${i}`, now + 10_000 + i, { now, cap: 7 }),
          ),
        )
      ).flat();
      expect(await store.indexCount('oc:cap', now)).toBe(7);
      expect(new Set(evicted).size).toBe(evicted.length);
      expect(evicted).toHaveLength(33);
      const kept = (await store.indexRange('oc:cap', now)).map((e) => e.member);
      expect([...kept, ...evicted].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`).sort());
    });

    it('entries lists live records under a prefix only, with expiry, whatever characters the prefix holds', async () => {
      await store.set('oc:e%_*?[x]:1', 1, 60_000);
      await store.set('oc:e%_*?[x]:2', 2, 60_000);
      await store.set('oc:eX_*?[x]:3', 3, 60_000);
      await store.set('oc:e%_*?[x]:old', 4, 100);
      await store.indexAdd('oc:e%_*?[x]:ix', 'm', Date.now() + 60_000, { now: Date.now() });
      await sleep(300);
      const seen: Array<[string, unknown]> = [];
      for await (const e of store.entries('oc:e%_*?[x]:')) {
        expect(e.expiresAt).toBeGreaterThan(Date.now());
        seen.push([e.key, e.value]);
      }
      expect(seen.sort()).toEqual([
        ['oc:e%_*?[x]:1', 1],
        ['oc:e%_*?[x]:2', 2],
      ]);
    });

    it('entries pages through more records than one page', async () => {
      const n = 1234;
      for (let i = 0; i < n; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, n - i) }, (_, j) =>
            store.set(`oc:many:${i + j}`, i + j, 60_000),
          ),
        );
      }
      const keys = new Set<string>();
      for await (const e of store.entries('oc:many:')) keys.add(e.key);
      expect(keys.size).toBe(n);
    });

    it('sweep removes expired records and dead index members, keeps live ones', async () => {
      const now = Date.now();
      await store.set('oc:s:live', 1, 60_000);
      await store.set('oc:s:dead', 2, 100);
      await store.indexAdd('oc:s:ix', 'dead', now + 100, { now });
      await store.indexAdd('oc:s:ix', 'live', now + 60_000, { now });
      await sleep(300);
      const removed = await store.sweep(Date.now());
      if (options.sweepCountsRecords) expect(removed).toBe(1);
      else expect(removed).toBe(0);
      expect(await store.get('oc:s:live')).toBe(1);
      expect(await store.get('oc:s:dead')).toBeUndefined();
      expect(await store.indexRange('oc:s:ix', 0)).toEqual([{ member: 'live', score: now + 60_000 }]);
      expect(await store.sweep(Date.now())).toBe(0);
    });

    it('lock: one holder at a time, release only by the holder, expiry frees it', async () => {
      expect(store.lock).toBeTypeOf('function');
      const first = await acquireLock(store, 'oc:lock:l', 300);
      expect(first?.fencingToken).toMatch(/^[\w-]{20,}$/);
      expect(await acquireLock(store, 'oc:lock:l', 300)).toBeNull();
      await sleep(500);
      const second = await acquireLock(store, 'oc:lock:l', 60_000);
      expect(second).not.toBeNull();
      expect(second!.fencingToken).not.toBe(first!.fencingToken);
      await first!.release(); // expired holder: must not release the new one
      expect(await acquireLock(store, 'oc:lock:l', 60_000)).toBeNull();
      await second!.release();
      const third = await acquireLock(store, 'oc:lock:l', 60_000);
      expect(third).not.toBeNull();
      // waitMs: a waiter gets the lock once the holder releases it
      const waiter = acquireLock(store, 'oc:lock:l', 60_000, { waitMs: 5000, retryDelayMs: 10 });
      await sleep(100);
      await third!.release();
      expect(await waiter).not.toBeNull();
    });

    it('writeBatch writes records and indexes together', async () => {
      const now = Date.now();
      await store.writeBatch!([
        { op: 'set', key: 'oc:w:1', value: { a: 1 }, ttlMs: 60_000 },
        { op: 'set', key: 'oc:w:2', value: 'two', ttlMs: 60_000 },
        { op: 'indexAdd', key: 'oc:w:ix', member: 'm1', score: now + 60_000 },
        { op: 'indexAdd', key: 'oc:w:ix', member: 'm2', score: now + 30_000 },
      ]);
      expect(await store.getMany(['oc:w:1', 'oc:w:2'])).toEqual([{ a: 1 }, 'two']);
      expect((await store.indexRange('oc:w:ix', now)).map((e) => e.member)).toEqual(['m2', 'm1']);
    });

    it('after close every call rejects with StoreUnavailableError', async () => {
      const other = await options.open();
      await other.close();
      await expect(other.get('oc:x')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(other.set('oc:x', 1, 1000)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(other.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}

/**
 * Indexes: indexAdd (re-score, dead members, cap eviction, keepGreater), indexRemove, indexRange,
 * indexPage (order, limit, keyset cursor across ties, dead members), indexCount, indexDelete; the
 * cap under concurrency.
 */
import { describe, expect } from 'vitest';
import type { IndexEntry } from '../../store/contract.js';
import type { StoreSuiteContext } from './harness.js';

export function indexTests({ storeTest }: StoreSuiteContext): void {
  describe('indexes', () => {
    storeTest(
      'indexes add, re-score, range, count, evict beyond the cap and drop expired members',
      async (store) => {
        const now = Date.now();
        await store.indexAdd('t:ix', 'a', now + 10_000, { now });
        await store.indexAdd('t:ix', 'b', now + 20_000, { now });
        await store.indexAdd('t:ix', 'c', now + 30_000, { now });
        await store.indexAdd('t:ix', 'a', now + 40_000, { now });
        expect((await store.indexRange('t:ix', now)).map((e) => e.member)).toEqual(['b', 'c', 'a']);
        expect(await store.indexCount('t:ix', now)).toBe(3);
        const evicted = await store.indexAdd('t:ix', 'd', now + 50_000, { now, cap: 2 });
        expect(evicted.sort()).toEqual(['b', 'c']);
        expect((await store.indexRange('t:ix', now)).map((e) => e.member)).toEqual(['a', 'd']);
        expect(await store.indexCount('t:ix', now + 45_000)).toBe(1);
        await store.indexRemove('t:ix', ['a']);
        expect((await store.indexRange('t:ix', now)).map((e) => e.member)).toEqual(['d']);
        await store.indexDelete('t:ix');
        expect(await store.indexCount('t:ix', now)).toBe(0);
      },
    );

    storeTest(
      'indexAdd re-scores, drops dead members, evicts the lowest beyond the cap but not the member just added',
      async (store) => {
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
      },
    );

    storeTest('never evicts the member just added (unless the cap is 0)', async (store) => {
      const now = Date.now();
      await store.indexAdd('t:new', 'old', now + 50_000, { now });
      const evicted = await store.indexAdd('t:new', 'young', now + 10_000, { now, cap: 1 });
      expect(evicted).toEqual(['old']);
      expect((await store.indexRange('t:new', now)).map((e) => e.member)).toEqual(['young']);
    });

    storeTest('keepGreater only raises a score', async (store) => {
      const now = Date.now();
      await store.indexAdd('t:gt', 'u', now + 50_000, { now });
      await store.indexAdd('t:gt', 'u', now + 10_000, { now, keepGreater: true });
      expect((await store.indexRange('t:gt', now))[0]?.score).toBe(now + 50_000);
      await store.indexAdd('t:gt', 'u', now + 90_000, { now, keepGreater: true });
      expect((await store.indexRange('t:gt', now))[0]?.score).toBe(now + 90_000);
    });

    storeTest('keepGreater only ever raises a score; without it a score may go down', async (store) => {
      const now = Date.now();
      await store.indexAdd('oc:gt', 'u', now + 50_000, { now });
      await store.indexAdd('oc:gt', 'u', now + 10_000, { now, keepGreater: true });
      expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 50_000 }]);
      await store.indexAdd('oc:gt', 'u', now + 90_000, { now, keepGreater: true });
      expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 90_000 }]);
      await store.indexAdd('oc:gt', 'u', now + 5_000, { now });
      expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 5_000 }]);
    });

    storeTest('indexRemove and indexDelete; unknown indexes are empty', async (store) => {
      const now = Date.now();
      for (const m of ['x', 'y', 'z']) await store.indexAdd('oc:ix2', m, now + 10_000, { now });
      await store.indexRemove('oc:ix2', ['y', 'nope']);
      await store.indexRemove('oc:ix2', []);
      expect((await store.indexRange('oc:ix2', now)).map((e) => e.member)).toEqual(['x', 'z']);
      await store.indexDelete('oc:ix2');
      expect(await store.indexCount('oc:ix2', now)).toBe(0);
      expect(await store.indexRange('oc:unknown', now)).toEqual([]);
    });

    storeTest('indexPage: descending (score, member), at most limit, dead members skipped', async (store) => {
      const now = Date.now();
      await store.indexAdd('oc:pg', 'dead', now - 10, { now: now - 1000 });
      await store.indexAdd('oc:pg', 'low', now + 1_000, { now });
      await store.indexAdd('oc:pg', 'b', now + 5_000, { now });
      await store.indexAdd('oc:pg', 'a', now + 5_000, { now });
      await store.indexAdd('oc:pg', 'top', now + 9_000, { now });
      await store.indexAdd('oc:pg', 'c', now + 5_000, { now });
      expect(await store.indexPage('oc:pg', now, { limit: 10 })).toEqual([
        { member: 'top', score: now + 9_000 },
        { member: 'c', score: now + 5_000 },
        { member: 'b', score: now + 5_000 },
        { member: 'a', score: now + 5_000 },
        { member: 'low', score: now + 1_000 },
      ]);
      expect((await store.indexPage('oc:pg', now, { limit: 2 })).map((e) => e.member)).toEqual(['top', 'c']);
      expect(await store.indexPage('oc:pg', now, { limit: 0 })).toEqual([]);
      // Members at or below `now` are dead, whatever the limit.
      expect((await store.indexPage('oc:pg', now + 5_000, { limit: 10 })).map((e) => e.member)).toEqual([
        'top',
      ]);
      expect(await store.indexPage('oc:pg', now + 9_000, { limit: 10 })).toEqual([]);
      expect(await store.indexPage('oc:none', now, { limit: 10 })).toEqual([]);
    });

    storeTest('indexPage: a keyset cursor continues strictly after it, across ties', async (store) => {
      const now = Date.now();
      const members = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, '0')}`);
      // Three scores, four members each: every page boundary but one falls inside a tie.
      for (const [i, m] of members.entries()) {
        await store.indexAdd('oc:keyset', m, now + 10_000 * (1 + Math.floor(i / 4)), { now });
      }
      await store.indexAdd('oc:keyset', 'gone', now - 1, { now: now - 1000 });
      const expected = (await store.indexPage('oc:keyset', now, { limit: 100 })).map((e) => e.member);
      expect(expected).toEqual([
        ...members.slice(8).reverse(),
        ...members.slice(4, 8).reverse(),
        ...members.slice(0, 4).reverse(),
      ]);
      for (const limit of [1, 3, 5]) {
        const seen: string[] = [];
        let after: IndexEntry | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await store.indexPage('oc:keyset', now, after ? { limit, after } : { limit });
          expect(page.length).toBeLessThanOrEqual(limit);
          if (page.length === 0) break;
          seen.push(...page.map((e) => e.member));
          after = page.at(-1);
        }
        expect(seen).toEqual(expected);
      }
      // A cursor that is no member (any more, or with another score) still pages from where it sorts.
      const tie = now + 20_000;
      expect(
        await store.indexPage('oc:keyset', now, { limit: 2, after: { member: 'm06x', score: tie } }),
      ).toEqual([
        { member: 'm06', score: tie },
        { member: 'm05', score: tie },
      ]);
      await store.indexRemove('oc:keyset', ['m06']);
      expect(
        (await store.indexPage('oc:keyset', now, { limit: 2, after: { member: 'm06', score: tie } })).map(
          (e) => e.member,
        ),
      ).toEqual(['m05', 'm04']);
      await store.indexAdd('oc:keyset', 'm05', now + 50_000, { now });
      expect(
        (await store.indexPage('oc:keyset', now, { limit: 3, after: { member: 'm05', score: tie } })).map(
          (e) => e.member,
        ),
      ).toEqual(['m04', 'm03', 'm02']);
      expect(
        (
          await store.indexPage('oc:keyset', now, { limit: 3, after: { member: 'zz', score: now + 99_000 } })
        ).map((e) => e.member),
      ).toEqual(['m05', 'm11', 'm10']);
      expect(
        await store.indexPage('oc:keyset', now, { limit: 3, after: { member: 'm00', score: now + 10_000 } }),
      ).toEqual([]);
    });

    storeTest('keeps the cap under concurrent adds', async (store) => {
      const now = Date.now();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          store.indexAdd('t:cap', `m${i}`, now + 1000 + i, { now, cap: 5 }),
        ),
      );
      expect(await store.indexCount('t:cap', now)).toBe(5);
    });

    storeTest(
      'keeps the cap exact under 40 concurrent adds and evicts each member at most once',
      async (store) => {
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
      },
    );
  });
}

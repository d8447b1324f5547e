/**
 * Listing and upkeep: entries (export, the at-rest checks) and sweep (expired records, dead index
 * members).
 */
import { describe, expect } from 'vitest';
import { type StoreSuiteContext, sleep } from './harness.js';

export function listingTests({ storeTest, capabilities }: StoreSuiteContext): void {
  describe('listing and sweep', () => {
    if (capabilities.entries) {
      storeTest('lists live entries by prefix and sweeps expired ones', async (store) => {
        await store.set('t:e:1', { v: 1 }, 60_000);
        await store.set('t:e:2', { v: 2 }, 60_000);
        await store.set('t:f:1', { v: 3 }, 60_000);
        await store.set('t:e:old', { v: 4 }, 100);
        await sleep(300);
        const seen: string[] = [];
        for await (const entry of store.entries('t:e:')) seen.push(entry.key);
        expect(seen.sort()).toEqual(['t:e:1', 't:e:2']);
        await store.sweep(Date.now());
        expect(await store.get('t:e:old')).toBeUndefined();
        expect(await store.get('t:e:1')).toEqual({ v: 1 });
      });

      storeTest(
        'entries lists live records under a prefix only, with expiry, whatever characters the prefix holds',
        async (store) => {
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
        },
      );

      storeTest('entries pages through more records than one page', async (store) => {
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
    }

    const what = capabilities.sweepDropsDeadMembers ? ' and dead index members' : '';
    storeTest(`sweep removes expired records${what}, keeps live ones`, async (store) => {
      const now = Date.now();
      await store.set('oc:s:live', 1, 60_000);
      await store.set('oc:s:dead', 2, 100);
      await store.indexAdd('oc:s:ix', 'dead', now + 100, { now });
      await store.indexAdd('oc:s:ix', 'live', now + 60_000, { now });
      await sleep(300);
      const removed = await store.sweep(Date.now());
      // Redis expires records itself: its sweep only trims indexes and reports no records.
      expect(removed).toBe(capabilities.sweepCountsRecords ? 1 : 0);
      expect(await store.get('oc:s:live')).toBe(1);
      expect(await store.get('oc:s:dead')).toBeUndefined();
      expect(await store.indexRange('oc:s:ix', Date.now())).toEqual([
        { member: 'live', score: now + 60_000 },
      ]);
      if (capabilities.sweepDropsDeadMembers) {
        // Read at time 0 so a dead member still held would show.
        expect(await store.indexRange('oc:s:ix', 0)).toEqual([{ member: 'live', score: now + 60_000 }]);
      }
      expect(await store.sweep(Date.now())).toBe(0);
    });
  });
}

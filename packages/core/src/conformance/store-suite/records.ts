/**
 * Records: get, getMany, hold, set with a TTL, delete, ping. Set-if-absent and read-once are commits
 * (`absent` / `present` preconditions): see `commit.ts`.
 */
import { describe, expect } from 'vitest';
import { type StoreSuiteContext, sleep } from './harness.js';

export function recordTests({ storeTest, capabilities }: StoreSuiteContext): void {
  describe('records', () => {
    storeTest('get/set/delete round-trips JSON and reports missing keys as undefined', async (store) => {
      await store.set('t:a', { n: 1, s: 'x', l: [1, 2] }, 60_000);
      expect(await store.get('t:a')).toEqual({ n: 1, s: 'x', l: [1, 2] });
      expect(await store.get('t:missing')).toBeUndefined();
      expect(await store.getMany(['t:a', 't:missing'])).toEqual([{ n: 1, s: 'x', l: [1, 2] }, undefined]);
      expect(await store.delete('t:a', 't:missing')).toBe(1);
      expect(await store.get('t:a')).toBeUndefined();
    });

    storeTest(
      'round-trips JSON values exactly, including unicode and strings starting with ":"',
      async (store) => {
        const value = { s: 'Пароль ✓', colon: ':base64:abc', n: 1.5, nested: { a: [1, null, true] } };
        await store.set('oc:v', value, 60_000);
        expect(await store.get('oc:v')).toEqual(value);
        await store.set('oc:str', ':x', 60_000);
        expect(await store.get('oc:str')).toBe(':x');
        expect(await store.get('oc:none')).toBeUndefined();
      },
    );

    storeTest('set overwrites; getMany keeps order and reports missing as undefined', async (store) => {
      await store.set('oc:a', 1, 60_000);
      await store.set('oc:a', 2, 60_000);
      await store.set('oc:b', 'b', 60_000);
      expect(await store.getMany(['oc:b', 'oc:missing', 'oc:a'])).toEqual(['b', undefined, 2]);
      expect(await store.getMany([])).toEqual([]);
    });

    storeTest(
      'hold (optional) gives what get gives or undefined, never a deleted or expired value',
      async (store) => {
        expect(typeof store.hold).toBe(typeof store.stillHolds); // both or neither
        await store.set('oc:at:p', { v: 1 }, 60_000);
        await store.set('oc:at:brief', { v: 2 }, 150);
        const got = await store.get('oc:at:p'); // an L1 holds it from here
        await store.get('oc:at:brief');
        const held = store.hold?.('oc:at:p');
        if (held !== undefined) expect(held.value).toEqual(got);
        expect(store.hold?.('oc:at:missing')).toBeUndefined();
        const brief = store.hold?.('oc:at:brief');
        if (brief !== undefined) brief.derived = 'opened';
        await store.delete('oc:at:p');
        expect(store.hold?.('oc:at:p')).toBeUndefined();
        await sleep(400);
        expect(store.hold?.('oc:at:brief')).toBeUndefined();
        if (brief !== undefined) {
          expect(store.stillHolds!(brief)).toBe(false);
          expect(brief.derived).toBeUndefined(); // what was derived from it goes with it
        }
        expect(await store.get('oc:at:brief')).toBeUndefined();
      },
    );

    if (capabilities.holdsInProcess) {
      storeTest(
        'a held handle stays held until its value is overwritten, deleted or committed away, and drops what was derived',
        async (store) => {
          const hold = async (key: string, value: unknown) => {
            await store.set(key, value, 60_000);
            await store.get(key);
            const held = store.hold!(key)!;
            expect(held.value).toEqual(value);
            held.derived = { opened: value };
            expect(store.stillHolds!(held)).toBe(true);
            expect(store.stillHolds!(held)).toBe(true); // asking does not consume it
            return held;
          };
          const overwritten = await hold('oc:at:w', { v: 1 });
          await store.set('oc:at:w', { v: 2 }, 60_000);
          expect(store.stillHolds!(overwritten)).toBe(false);
          expect(overwritten.derived).toBeUndefined();
          await store.get('oc:at:w');
          expect(store.hold!('oc:at:w')?.value).toEqual({ v: 2 });

          const deleted = await hold('oc:at:d', { v: 3 });
          await store.delete('oc:at:d');
          expect(store.stillHolds!(deleted)).toBe(false);
          expect(deleted.derived).toBeUndefined();

          const committed = await hold('oc:g:c', { v: 4 });
          const kept = await hold('oc:at:k', { v: 5 });
          await store.commit({ now: Date.now(), ops: [{ op: 'delete', keys: ['oc:g:c'] }] });
          expect(store.stillHolds!(committed)).toBe(false);
          expect(committed.derived).toBeUndefined();
          expect(store.stillHolds!(kept)).toBe(true);
          expect(kept.derived).toEqual({ opened: { v: 5 } });
        },
      );
    }

    storeTest('expires values after their TTL', async (store) => {
      await store.set('t:short', { v: 1 }, 150);
      await sleep(400);
      expect(await store.get('t:short')).toBeUndefined();
    });

    storeTest('expires records after their TTL; a TTL <= 0 removes', async (store) => {
      await store.set('oc:short', { v: 1 }, 200);
      expect(await store.get('oc:short')).toEqual({ v: 1 });
      await sleep(450);
      expect(await store.get('oc:short')).toBeUndefined();
      expect(await store.getMany(['oc:short'])).toEqual([undefined]);
      await store.set('oc:gone', 1, 60_000);
      await store.set('oc:gone', 1, 0);
      expect(await store.get('oc:gone')).toBeUndefined();
    });

    if (capabilities.refusesNonFiniteTtl) {
      storeTest('a non-finite TTL is refused', async (store) => {
        await expect(store.set('oc:inf', 1, Number.POSITIVE_INFINITY)).rejects.toThrow(TypeError);
        await expect(store.set('oc:nan', 1, Number.NaN)).rejects.toThrow(TypeError);
        expect(await store.getMany(['oc:inf', 'oc:nan'])).toEqual([undefined, undefined]);
      });
    }

    storeTest('delete removes several keys and counts only those that existed', async (store) => {
      await store.set('oc:d1', 1, 60_000);
      await store.set('oc:d2', 2, 60_000);
      expect(await store.delete('oc:d1', 'oc:d2', 'oc:d3')).toBe(2);
      expect(await store.delete('oc:d1')).toBe(0);
      expect(await store.delete()).toBe(0);
      expect(await store.getMany(['oc:d1', 'oc:d2'])).toEqual([undefined, undefined]);
    });

    storeTest('answers ping', async (store) => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

/**
 * Optional methods and lifecycle: lock, writeBatch, bulkLoad, getWithGrant, close. Each group is
 * registered only when its capability switch is on.
 */
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../errors.js';
import type { CacheStore, StoreLock } from '../../store/contract.js';
import { optionalMethod, type StoreSuiteContext, sleep } from './harness.js';

/** Retry `store.lock` until it is granted or `waitMs` passed (what a waiting caller does). */
async function lockWithin(
  store: CacheStore,
  name: string,
  ttlMs: number,
  waitMs: number,
): Promise<StoreLock | null> {
  const lock = optionalMethod(store, 'lock', 'lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const held = await lock(name, ttlMs);
    if (held || Date.now() >= deadline) return held;
    await sleep(10);
  }
}

export function optionalTests({ storeTest, capabilities, options }: StoreSuiteContext): void {
  if (capabilities.lock) {
    describe('lock', () => {
      storeTest('one holder at a time, release only by the holder, expiry frees it', async (store) => {
        const lock = optionalMethod(store, 'lock', 'lock');
        const first = await lock('oc:lock:l', 300);
        expect(first?.fencingToken).toMatch(/^[\w-]{20,}$/);
        expect(await lock('oc:lock:l', 300)).toBeNull();
        await sleep(500);
        const second = await lock('oc:lock:l', 60_000);
        expect(second).not.toBeNull();
        expect(second?.fencingToken).not.toBe(first?.fencingToken);
        await first?.release(); // expired holder: must not release the new one
        expect(await lock('oc:lock:l', 60_000)).toBeNull();
        await second?.release();
        const third = await lock('oc:lock:l', 60_000);
        expect(third).not.toBeNull();
        // A waiter retrying the lock gets it once the holder releases it.
        const waiter = lockWithin(store, 'oc:lock:l', 60_000, 5000);
        await sleep(100);
        await third?.release();
        expect(await waiter).not.toBeNull();
      });
    });
  }

  if (capabilities.writeBatch) {
    describe('writeBatch', () => {
      storeTest('writes records and indexes together', async (store) => {
        const writeBatch = optionalMethod(store, 'writeBatch', 'writeBatch');
        const now = Date.now();
        await writeBatch([
          { op: 'set', key: 'oc:w:1', value: { a: 1 }, ttlMs: 60_000 },
          { op: 'set', key: 'oc:w:2', value: 'two', ttlMs: 60_000 },
          { op: 'indexAdd', key: 'oc:w:ix', member: 'm1', score: now + 60_000 },
          { op: 'indexAdd', key: 'oc:w:ix', member: 'm2', score: now + 30_000 },
        ]);
        expect(await store.getMany(['oc:w:1', 'oc:w:2'])).toEqual([{ a: 1 }, 'two']);
        expect((await store.indexRange('oc:w:ix', now)).map((e) => e.member)).toEqual(['m2', 'm1']);
      });

      storeTest('keepGreater in a batch only ever raises a score', async (store) => {
        const writeBatch = optionalMethod(store, 'writeBatch', 'writeBatch');
        const now = Date.now();
        await store.indexAdd('oc:gt', 'u', now + 50_000, { now });
        await writeBatch([
          { op: 'indexAdd', key: 'oc:gt', member: 'u', score: now + 20_000, keepGreater: true },
        ]);
        expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 50_000 }]);
        await writeBatch([
          { op: 'indexAdd', key: 'oc:gt', member: 'u', score: now + 70_000, keepGreater: true },
        ]);
        expect(await store.indexRange('oc:gt', now)).toEqual([{ member: 'u', score: now + 70_000 }]);
      });
    });
  }

  if (capabilities.bulkLoad) {
    describe('bulkLoad', () => {
      storeTest(
        "makes every batch of its run readable once it resolves, and passes run's result on",
        async (store) => {
          const bulkLoad = optionalMethod(store, 'bulkLoad', 'bulkLoad');
          const writeBatch = optionalMethod(store, 'writeBatch', 'writeBatch');
          const now = Date.now();
          await store.set('oc:b:kept', 'before', 60_000);
          const result = await bulkLoad(async (load) => {
            expect(typeof load.deferred).toBe('boolean');
            for (let batch = 0; batch < 3; batch++) {
              await writeBatch(
                Array.from({ length: 50 }, (_, i) => ({
                  op: 'set' as const,
                  key: `oc:b:${batch * 50 + i}`,
                  value: { n: batch * 50 + i },
                  ttlMs: 60_000,
                })),
              );
              await writeBatch([
                { op: 'indexAdd', key: 'oc:b:ix', member: `m${batch}`, score: now + 60_000 + batch },
              ]);
            }
            return 'done';
          });
          expect(result).toBe('done');
          const keys = Array.from({ length: 150 }, (_, i) => `oc:b:${i}`);
          expect(await store.getMany(keys)).toEqual(keys.map((_, i) => ({ n: i })));
          expect(await store.get('oc:b:kept')).toBe('before');
          expect((await store.indexRange('oc:b:ix', now)).map((e) => e.member)).toEqual(['m0', 'm1', 'm2']);
        },
      );
    });
  }

  if (capabilities.getWithGrant)
    describe('getWithGrant', () => {
      storeTest(
        'reads a record with the grant it links to: what get gives for each key, the grant undefined when missing, expired or not linked',
        async (store) => {
          const getWithGrant = optionalMethod(store, 'getWithGrant', 'getWithGrant');
          const read = (key: string) => getWithGrant(key, 'oc:g:');
          const exp = Date.now() + 60_000;
          const grant = { v: 1, kind: 'grant', exp, body: { uid: 'u1', scp: ['a'] } };
          const linked = { v: 1, kind: 'access', exp, g: 'Gr4nt_-id', wk: 'w1', body: { iat: 1 } };
          await store.set('oc:g:Gr4nt_-id', grant, 60_000);
          await store.set('oc:at:linked', linked, 60_000);
          const both = await read('oc:at:linked');
          expect(both).toEqual([linked, grant]);
          expect(both).toEqual([await store.get('oc:at:linked'), await store.get('oc:g:Gr4nt_-id')]);

          // Ids a serializer may escape or encode are followed as they are (`:` is escaped by Keyv's).
          for (const g of [':colon', 'Грант✓']) {
            await store.set(`oc:g:${g}`, { ...grant, body: { uid: g } }, 60_000);
            await store.set(`oc:at:${g}`, { ...linked, g }, 60_000);
            expect(await read(`oc:at:${g}`)).toEqual([
              { ...linked, g },
              { ...grant, body: { uid: g } },
            ]);
          }

          const orphan = { ...linked, g: 'gone' };
          await store.set('oc:at:orphan', orphan, 60_000);
          expect(await read('oc:at:orphan')).toEqual([orphan, undefined]);

          // Not linked: no `g`, a `g` that is not a string, a value that is not an object.
          const plain = { v: 1, kind: 'access', exp, body: { n: 1 } };
          await store.set('oc:at:plain', plain, 60_000);
          expect(await read('oc:at:plain')).toEqual([plain, undefined]);
          await store.set('oc:at:numeric', { ...plain, g: 5 }, 60_000);
          await store.set('oc:g:5', grant, 60_000);
          expect(await read('oc:at:numeric')).toEqual([{ ...plain, g: 5 }, undefined]);
          await store.set('oc:at:text', 'Gr4nt_-id', 60_000);
          expect(await read('oc:at:text')).toEqual(['Gr4nt_-id', undefined]);

          expect(await read('oc:at:missing')).toEqual([undefined, undefined]);

          // Revoked: the grant deleted, the record still there.
          await store.delete('oc:g:Gr4nt_-id');
          expect(await read('oc:at:linked')).toEqual([linked, undefined]);
        },
      );

      storeTest('an expired grant or record reads as undefined, as get reports it', async (store) => {
        const getWithGrant = optionalMethod(store, 'getWithGrant', 'getWithGrant');
        const read = (key: string) => getWithGrant(key, 'oc:g:');
        const exp = Date.now() + 60_000;
        const brief = Date.now() + 150;
        // A lasting record whose grant expires, a record that expires whose grant lasts.
        const toShortGrant = { v: 1, kind: 'access', exp, g: 'short' };
        await store.set('oc:g:short', { v: 1, kind: 'grant', exp: brief }, 150);
        await store.set('oc:at:to-short', toShortGrant, 60_000);
        await store.set('oc:g:kept', { v: 1, kind: 'grant', exp }, 60_000);
        await store.set('oc:at:short', { v: 1, kind: 'access', exp: brief, g: 'kept' }, 150);
        // Read once while live (an L1 holds them from here).
        expect((await read('oc:at:to-short'))[1]).toBeDefined();
        expect((await read('oc:at:short'))[1]).toBeDefined();
        await sleep(400);
        expect(await read('oc:at:to-short')).toEqual([toShortGrant, undefined]);
        expect(await store.get('oc:g:short')).toBeUndefined();
        expect(await read('oc:at:short')).toEqual([undefined, undefined]);
      });
    });

  if (capabilities.rejectsAfterClose) {
    describe('close', () => {
      it('after close every call rejects with StoreUnavailableError', async () => {
        const other = await options.open();
        await other.close();
        await expect(other.get('oc:x')).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(other.set('oc:x', 1, 1000)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(other.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      });
    });
  }
}

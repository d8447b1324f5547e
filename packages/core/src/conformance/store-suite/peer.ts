/**
 * Two handles on one backend (what two processes sharing a store see): atomic operations have one
 * winner across handles, writes through one are read through the other, and `onRemoteDelete`
 * reports deletes made through the other handle. Registered when the store gives `openPeer`.
 */
import { describe, expect, it } from 'vitest';
import type { CacheStore } from '../../store/contract.js';
import { optionalMethod, type StoreSuiteContext, sleep } from './harness.js';

export function peerTests({ options, capabilities }: StoreSuiteContext): void {
  const openPeer = options.openPeer;
  if (!openPeer) return;

  const withPair = (fn: (a: CacheStore, b: CacheStore) => Promise<void>) => async () => {
    const a = await options.open();
    try {
      const b = await openPeer(a);
      try {
        await fn(a, b);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  };

  describe('two handles on one backend', () => {
    it(
      'a write through one handle is read through the other, and so is a delete',
      withPair(async (a, b) => {
        await a.set('oc:p:shared', { from: 'a' }, 60_000);
        expect(await b.get('oc:p:shared')).toEqual({ from: 'a' });
        expect(await b.delete('oc:p:shared')).toBe(1);
        expect(await a.get('oc:p:shared')).toBeUndefined();
      }),
    );

    it(
      'a commit requiring a key absent, then setting it, has one winner across handles',
      withPair(async (a, b) => {
        const now = Date.now();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 ? a : b).commit({
              now,
              require: [{ if: 'absent', key: 'oc:p:nx' }],
              ops: [{ op: 'set', key: 'oc:p:nx', value: i, ttlMs: 60_000 }],
            }),
          ),
        );
        const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await a.get('oc:p:nx')).toBe(winners[0]);
        expect(await b.get('oc:p:nx')).toBe(winners[0]);
      }),
    );

    it(
      'a commit requiring a key present, then deleting it, has one winner across handles',
      withPair(async (a, b) => {
        const now = Date.now();
        await a.set('oc:p:rt', 1, 60_000);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 ? a : b).commit({
              now,
              require: [{ if: 'present', key: 'oc:p:rt' }],
              ops: [
                { op: 'delete', keys: ['oc:p:rt'] },
                { op: 'indexAdd', key: 'oc:p:ix', member: `m${i}`, score: now + 60_000 },
              ],
            }),
          ),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(await b.indexCount('oc:p:ix', now)).toBe(1);
      }),
    );

    if (capabilities.remoteDelete) {
      it(
        'onRemoteDelete reports keys deleted, or deleted by a commit, through the other handle',
        withPair(async (a, b) => {
          const heard = new Set<string>();
          const unsubscribe = await optionalMethod(
            b,
            'onRemoteDelete',
            'remoteDelete',
          )((keys) => {
            for (const key of keys) heard.add(key);
          });
          try {
            await a.set('oc:p:d1', 1, 60_000);
            await a.set('oc:p:d2', 2, 60_000);
            await a.set('oc:p:c', 4, 60_000);
            await a.delete('oc:p:d1', 'oc:p:d2');
            await a.commit({
              now: Date.now(),
              require: [{ if: 'present', key: 'oc:p:c' }],
              ops: [{ op: 'delete', keys: ['oc:p:c'] }],
            });
            const expected = ['oc:p:c', 'oc:p:d1', 'oc:p:d2'];
            // Delivery is asynchronous (pub/sub): wait for it, generously on a loaded machine.
            for (let waited = 0; waited < 5000 && expected.some((k) => !heard.has(k)); waited += 20)
              await sleep(20);
            expect([...heard].filter((k) => expected.includes(k)).sort()).toEqual(expected);
          } finally {
            await unsubscribe();
          }
        }),
      );
    }
  });
}

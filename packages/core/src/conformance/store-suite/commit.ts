/**
 * Commit: preconditions, every op, all-or-nothing, and one winner among concurrent commits that
 * require the same record.
 */
import { describe, expect, it } from 'vitest';
import type { CacheStore, Transaction } from '../../store/contract.js';
import type { StoreSuiteContext } from './harness.js';

export function commitTests({ options }: StoreSuiteContext): void {
  describe('commit (one atomic unit per token operation)', () => {
    const withStore = (fn: (store: CacheStore) => Promise<void>) => async () => {
      const store = await options.open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    };

    it(
      'applies every op in order when the preconditions hold',
      withStore(async (store) => {
        const now = Date.now();
        await store.set('oc:old', { v: 'old' }, 60_000);
        await store.indexAdd('oc:ix:a', 'gone', now + 60_000, { now });
        await store.indexAdd('oc:ix:d', 'x', now + 60_000, { now });
        const result = await store.commit({
          now,
          require: [
            { if: 'present', key: 'oc:old' },
            { if: 'absent', key: 'oc:new' },
          ],
          ops: [
            { op: 'delete', keys: ['oc:old', 'oc:never'] },
            { op: 'set', key: 'oc:new', value: { v: 'new', n: [1, 2] }, ttlMs: 60_000 },
            { op: 'indexAdd', key: 'oc:ix:a', member: 'm1', score: now + 30_000 },
            { op: 'indexAdd', key: 'oc:ix:a', member: 'm2', score: now + 10_000 },
            { op: 'indexRemove', key: 'oc:ix:a', members: ['gone', 'absent'] },
            { op: 'indexDelete', key: 'oc:ix:d' },
          ],
        });
        expect(result).toEqual({ ok: true });
        expect(await store.get('oc:old')).toBeUndefined();
        expect(await store.get('oc:new')).toEqual({ v: 'new', n: [1, 2] });
        expect((await store.indexRange('oc:ix:a', now)).map((e) => e.member)).toEqual(['m2', 'm1']);
        expect(await store.indexCount('oc:ix:d', now)).toBe(0);
      }),
    );

    it(
      'writes nothing and names the failed precondition when one does not hold',
      withStore(async (store) => {
        const now = Date.now();
        await store.set('oc:here', 1, 60_000);
        const tx = (require: Transaction['require']): Transaction => ({
          now,
          require,
          ops: [
            { op: 'set', key: 'oc:written', value: 1, ttlMs: 60_000 },
            { op: 'delete', keys: ['oc:here'] },
            { op: 'indexAdd', key: 'oc:ix:w', member: 'm', score: now + 60_000 },
          ],
        });
        expect(await store.commit(tx([{ if: 'absent', key: 'oc:here' }]))).toEqual({ ok: false, failed: 0 });
        expect(
          await store.commit(
            tx([
              { if: 'present', key: 'oc:here' },
              { if: 'present', key: 'oc:missing' },
            ]),
          ),
        ).toEqual({ ok: false, failed: 1 });
        expect(await store.get('oc:written')).toBeUndefined();
        expect(await store.get('oc:here')).toBe(1);
        expect(await store.indexCount('oc:ix:w', now)).toBe(0);
      }),
    );

    it(
      'room and count read live members only',
      withStore(async (store) => {
        const now = Date.now();
        await store.indexAdd('oc:ix:t', 'live1', now + 60_000, { now });
        await store.indexAdd('oc:ix:t', 'live2', now + 60_000, { now });
        await store.indexAdd('oc:ix:t', 'dead', now - 1, { now: now - 10 });
        const probe = (require: Transaction['require']) => store.commit({ now, require, ops: [] });
        expect(await probe([{ if: 'room', index: 'oc:ix:t', adding: 1, cap: 3 }])).toEqual({ ok: true });
        expect(await probe([{ if: 'room', index: 'oc:ix:t', adding: 2, cap: 3 }])).toEqual({
          ok: false,
          failed: 0,
        });
        expect(await probe([{ if: 'room', index: 'oc:ix:none', adding: 3, cap: 3 }])).toEqual({ ok: true });
        expect(await probe([{ if: 'count', index: 'oc:ix:t', equals: 2 }])).toEqual({ ok: true });
        expect(await probe([{ if: 'count', index: 'oc:ix:t', equals: 3 }])).toEqual({ ok: false, failed: 0 });
        expect(await probe([{ if: 'count', index: 'oc:ix:none', equals: 0 }])).toEqual({ ok: true });
      }),
    );

    it(
      'an expired record is absent, not present',
      withStore(async (store) => {
        await store.set('oc:short', 1, 100);
        await store.set('oc:old', 1, 100);
        await new Promise((r) => setTimeout(r, 300));
        const consumed = await store.commit({
          now: Date.now(),
          require: [{ if: 'present', key: 'oc:old' }],
          ops: [{ op: 'delete', keys: ['oc:old'] }],
        });
        expect(consumed).toEqual({ ok: false, failed: 0 });
        const result = await store.commit({
          now: Date.now(),
          require: [{ if: 'absent', key: 'oc:short' }],
          ops: [{ op: 'set', key: 'oc:short', value: 2, ttlMs: 60_000 }],
        });
        expect(result).toEqual({ ok: true });
        expect(await store.get('oc:short')).toBe(2);
      }),
    );

    it(
      'indexAdd in a commit drops dead members and keepGreater only raises',
      withStore(async (store) => {
        const now = Date.now();
        await store.indexAdd('oc:ix:u', 'dead', now + 1_000, { now });
        await store.indexAdd('oc:ix:u', 'user', now + 50_000, { now });
        const later = now + 2_000;
        await store.commit({
          now: later,
          ops: [
            { op: 'indexAdd', key: 'oc:ix:u', member: 'user', score: now + 20_000, keepGreater: true },
            { op: 'indexAdd', key: 'oc:ix:u', member: 'other', score: now + 30_000, keepGreater: true },
          ],
        });
        expect(await store.indexRange('oc:ix:u', now)).toEqual([
          { member: 'other', score: now + 30_000 },
          { member: 'user', score: now + 50_000 },
        ]);
      }),
    );

    it(
      'one winner among 20 concurrent commits that consume the same record',
      withStore(async (store) => {
        const now = Date.now();
        await store.set('oc:rt', { n: 0 }, 60_000);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.commit({
              now,
              require: [{ if: 'present', key: 'oc:rt' }],
              ops: [
                { op: 'delete', keys: ['oc:rt'] },
                { op: 'set', key: `oc:next:${i}`, value: i, ttlMs: 60_000 },
                { op: 'indexAdd', key: 'oc:ix:f', member: `m${i}`, score: now + 60_000 },
              ],
            }),
          ),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(await store.indexCount('oc:ix:f', now)).toBe(1);
        const written = await store.getMany(Array.from({ length: 20 }, (_, i) => `oc:next:${i}`));
        expect(written.filter((v) => v !== undefined)).toHaveLength(1);
      }),
    );

    it(
      'one winner among 25 concurrent commits that require a key absent, then set it',
      withStore(async (store) => {
        const now = Date.now();
        const setIfAbsent = (key: string, value: unknown) =>
          store.commit({
            now,
            require: [{ if: 'absent', key }],
            ops: [{ op: 'set', key, value, ttlMs: 60_000 }],
          });
        expect(await setIfAbsent('oc:nx', 'first')).toEqual({ ok: true });
        expect(await setIfAbsent('oc:nx', 'second')).toEqual({ ok: false, failed: 0 });
        expect(await store.get('oc:nx')).toBe('first');
        const results = await Promise.all(Array.from({ length: 25 }, (_, i) => setIfAbsent('oc:race', i)));
        const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.get('oc:race')).toBe(winners[0]);
      }),
    );

    it(
      'a room precondition holds under 30 concurrent commits: the cap is never exceeded',
      withStore(async (store) => {
        const now = Date.now();
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            store.commit({
              now,
              require: [{ if: 'room', index: 'oc:ix:tokens', adding: 2, cap: 10 }],
              ops: [
                { op: 'indexAdd', key: 'oc:ix:tokens', member: `a${i}`, score: now + 60_000 },
                { op: 'indexAdd', key: 'oc:ix:tokens', member: `r${i}`, score: now + 60_000 },
              ],
            }),
          ),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(5);
        expect(await store.indexCount('oc:ix:tokens', now)).toBe(10);
      }),
    );
  });
}

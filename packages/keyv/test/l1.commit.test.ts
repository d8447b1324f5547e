import { MemoryStore } from '@oauth-cache/core';
import { describe, expect, it } from 'vitest';
import { L1Store } from '../src/l1/l1-store.js';

// The inner store here has no onRemoteDelete: only the L1's own invalidation on commit can drop an
// entry before `maxStaleMs` (10 minutes), so a stale read would show.
const options = { maxStaleMs: 600_000, match: () => true };
const record = (n: number) => ({ v: 1, kind: 'access', exp: Date.now() + 600_000, n });

describe('L1Store.commit', () => {
  it('drops the entries of every key a commit deleted or overwrote; never serves them stale', async () => {
    const l1 = await L1Store.wrap(new MemoryStore(), options);
    try {
      for (const key of ['oc:a', 'oc:b', 'oc:c', 'oc:keep']) await l1.set(key, record(1), 600_000);
      for (const key of ['oc:a', 'oc:b', 'oc:c', 'oc:keep']) await l1.get(key);
      const hits = l1.l1Stats.hits;
      expect(await l1.get('oc:keep')).toEqual(expect.objectContaining({ n: 1 }));
      expect(l1.l1Stats.hits).toBe(hits + 1); // entries are held

      const now = Date.now();
      expect(
        await l1.commit({
          now,
          require: [{ if: 'present', key: 'oc:a' }],
          ops: [
            { op: 'delete', keys: ['oc:a', 'oc:b'] },
            { op: 'set', key: 'oc:c', value: record(2), ttlMs: 600_000 },
            { op: 'indexAdd', key: 'oc:ix', member: 'm', score: now + 600_000 },
          ],
        }),
      ).toEqual({ ok: true });
      expect(await l1.get('oc:a')).toBeUndefined();
      expect(await l1.get('oc:b')).toBeUndefined();
      expect(await l1.get('oc:c')).toEqual(expect.objectContaining({ n: 2 }));
      const before = l1.l1Stats.hits;
      expect(await l1.get('oc:keep')).toEqual(expect.objectContaining({ n: 1 }));
      expect(l1.l1Stats.hits).toBe(before + 1); // a key the commit did not touch stays cached
    } finally {
      await l1.close();
    }
  });

  it('passes a failed precondition through and writes nothing', async () => {
    const l1 = await L1Store.wrap(new MemoryStore(), options);
    try {
      await l1.set('oc:a', record(1), 600_000);
      await l1.get('oc:a');
      expect(
        await l1.commit({
          now: Date.now(),
          require: [{ if: 'absent', key: 'oc:a' }],
          ops: [{ op: 'delete', keys: ['oc:a'] }],
        }),
      ).toEqual({ ok: false, failed: 0 });
      expect(await l1.get('oc:a')).toEqual(expect.objectContaining({ n: 1 }));
      expect(await l1.inner.get('oc:a')).toEqual(expect.objectContaining({ n: 1 }));
    } finally {
      await l1.close();
    }
  });
});

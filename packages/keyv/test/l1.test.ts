import { join } from 'node:path';
import type { CacheStore } from '@oauth-cache/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { L1Store } from '../src/l1/l1-store.js';
import { RedisStore } from '../src/redis/redis-store.js';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { counted } from './support/counted-reads.js';
import { adminClient, freshDbUrl } from './support/redis-admin.js';
import { cleanupTempDirs, sleep, tempDir } from './support/temp.js';

let server: RedisServerHandle;
const opened: CacheStore[] = [];
const track = <T extends CacheStore>(s: T): T => {
  opened.push(s);
  return s;
};

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
});
afterAll(async () => {
  await server?.stop();
  await cleanupTempDirs();
});

const record = (n: number) => ({ v: 1, kind: 'access', exp: Date.now() + 60_000, body: { n } });

async function sqlitePair(maxStaleMs: number) {
  const path = join(await tempDir(), 'l1.db');
  const a = track(await L1Store.wrap(await SqliteStore.open({ path }), { maxStaleMs }));
  const b = track(await SqliteStore.open({ path }));
  return { a, b };
}

describe('L1Store', () => {
  it('returns the same object on every hit and only caches access-token keys', async () => {
    const { a } = await sqlitePair(60_000);
    await a.set('oc:at:x', record(1), 60_000);
    await a.set('oc:rt:x', record(2), 60_000);
    const first = await a.get('oc:at:x');
    expect(first).toMatchObject({ kind: 'access', body: { n: 1 } });
    expect(await a.get('oc:at:x')).toBe(first);
    expect((await a.getMany(['oc:at:x']))[0]).toBe(first);
    expect(await a.get('oc:rt:x')).not.toBe(await a.get('oc:rt:x')); // read through: a new object each time
    expect(a.l1Stats).toMatchObject({ hits: 2, misses: 1, size: 1 });
  });

  it('never caches a miss: a token stored by another process is seen at once', async () => {
    const { a, b } = await sqlitePair(60_000);
    expect(await a.get('oc:at:new')).toBeUndefined();
    await b.set('oc:at:new', record(3), 60_000);
    expect(await a.get('oc:at:new')).toMatchObject({ body: { n: 3 } });
  });

  it('local set, commit and delete invalidate', async () => {
    const { a } = await sqlitePair(60_000);
    const key = 'oc:at:k';
    await a.set(key, record(1), 60_000);
    await a.get(key);
    await a.set(key, record(2), 60_000);
    expect(await a.get(key)).toMatchObject({ body: { n: 2 } });
    const now = Date.now();
    const consumed = await a.commit({
      now,
      require: [{ if: 'present', key }],
      ops: [{ op: 'delete', keys: [key] }],
    });
    expect(consumed).toEqual({ ok: true });
    expect(await a.get(key)).toBeUndefined();
    const added = await a.commit({
      now,
      require: [{ if: 'absent', key }],
      ops: [{ op: 'set', key, value: record(4), ttlMs: 60_000 }],
    });
    expect(added).toEqual({ ok: true });
    expect(await a.get(key)).toMatchObject({ body: { n: 4 } });
    await a.commit({ now, ops: [{ op: 'set', key, value: record(5), ttlMs: 60_000 }] });
    expect(await a.get(key)).toMatchObject({ body: { n: 5 } });
    expect(await a.delete(key)).toBe(1);
    expect(await a.get(key)).toBeUndefined();
  });

  it('on SQLite a delete by another process is seen within maxStaleMs, the entry held or not', async () => {
    const { a, b } = await sqlitePair(300);
    for (const held of [false, true]) {
      const key = `oc:at:rev-${held}`;
      await a.set(key, record(1), 60_000);
      await a.get(key);
      if (held) {
        await sleep(450); // older than maxStaleMs: served only on data_version's proof
        const hits = a.l1Stats.hits;
        expect(await a.get(key)).toBeDefined();
        expect(a.l1Stats.hits).toBe(hits + 1);
      }
      const started = performance.now();
      await b.delete(key);
      while ((await a.get(key)) !== undefined) await sleep(5);
      expect(performance.now() - started).toBeLessThan(300 + 150);
    }
  });

  it('on SQLite holds entries past maxStaleMs while no other connection commits (data_version)', async () => {
    const { a, b } = await sqlitePair(100);
    await a.set('oc:at:warm', record(1), 60_000);
    const first = await a.get('oc:at:warm');
    const misses = a.l1Stats.misses;
    for (let i = 0; i < 6; i++) {
      await sleep(100);
      expect(await a.get('oc:at:warm')).toBe(first); // the same object: never read again
    }
    expect(a.l1Stats.misses).toBe(misses);
    // Another connection writes any key: which one is unknown, so everything held is read again.
    await b.set('oc:rt:other', record(2), 60_000);
    await sleep(150);
    expect(await a.get('oc:at:warm')).not.toBe(first);
    expect(a.l1Stats.misses).toBe(misses + 1);
  });

  it('never serves a record past its own expiry, whatever maxStaleMs', async () => {
    const { a } = await sqlitePair(60_000);
    await a.set('oc:at:brief', { exp: Date.now() + 200 }, 200);
    expect(await a.get('oc:at:brief')).toBeDefined();
    await sleep(350);
    expect(await a.get('oc:at:brief')).toBeUndefined();
  });

  it('stays within max entries', async () => {
    const path = join(await tempDir(), 'max.db');
    const a = track(await L1Store.wrap(await SqliteStore.open({ path }), { max: 3 }));
    for (let i = 0; i < 10; i++) {
      await a.set(`oc:at:${i}`, record(i), 60_000);
      await a.get(`oc:at:${i}`);
    }
    expect(a.l1Stats.size).toBe(3);
  });

  it('a read racing with a delete does not put the deleted value back', async () => {
    const path = join(await tempDir(), 'race.db');
    const inner = await SqliteStore.open({ path });
    const a = track(await L1Store.wrap(inner, { maxStaleMs: 60_000 }));
    for (let round = 0; round < 20; round++) {
      const key = `oc:at:race${round}`;
      await a.set(key, record(round), 60_000);
      // get and delete issued together: whichever order the database runs them, a later get
      // must not be served from the L1.
      await Promise.all([a.get(key), a.delete(key)]);
      expect(await a.get(key)).toBeUndefined();
    }
  });

  it('concurrent misses of one key share one read (single flight) and get the same object', async () => {
    const { a } = await sqlitePair(60_000);
    const stored = record(1);
    await a.set('oc:at:hot', stored, 60_000);
    const values = await Promise.all(Array.from({ length: 50 }, () => a.get('oc:at:hot')));
    expect(new Set(values).size).toBe(1);
    expect(values[0]).toEqual(stored);
    expect(a.l1Stats).toMatchObject({ misses: 50, coalesced: 49, hits: 0 });
    // getMany joins a read in flight too, and fills the L1 for the rest.
    await a.set('oc:at:hot2', { ...stored, body: { n: 2 } }, 60_000);
    const [single, many] = await Promise.all([a.get('oc:at:hot2'), a.getMany(['oc:at:hot2', 'oc:at:hot'])]);
    expect(many).toEqual([single, values[0]]);
    expect(a.l1Stats.coalesced).toBe(50);
    expect(await a.get('oc:at:hot2')).toBe(single);
  });

  it('a hot key under sustained concurrent load stays in the L1 (no miss storm after it leaves)', async () => {
    // Before single flight, every concurrent miss superseded the read in flight, so none could
    // fill the L1 while misses kept coming: 0 hits under load, one store read per request.
    const { a } = await sqlitePair(50); // entries leave every 50 ms: the L1 must refill each time
    const stored = record(1);
    await a.set('oc:at:busy', stored, 60_000);
    const until = Date.now() + 600;
    let calls = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < until) {
          expect(await a.get('oc:at:busy')).toEqual(stored);
          calls += 1;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    const { hits, misses } = a.l1Stats;
    console.log(`L1 under 16 concurrent callers: ${calls} gets, ${hits} hits, ${misses} misses`);
    expect(hits + misses).toBe(calls);
    expect(hits / calls).toBeGreaterThan(0.5);
  });

  it('reads in flight around a delete never put the deleted value back in the L1', async () => {
    const { a } = await sqlitePair(60_000);
    for (let round = 0; round < 20; round++) {
      const key = `oc:at:flight${round}`;
      await a.set(key, record(round), 60_000);
      // A flight started before the delete, misses joining it, and a flight started while the
      // delete runs: whichever lands when, none may fill the L1 once the delete is done.
      const before = [a.get(key), a.get(key)];
      const deleted = a.delete(key);
      const during = [a.get(key), a.getMany([key])];
      await Promise.all([...before, deleted, ...during]);
      expect(await a.get(key)).toBeUndefined();
      expect(await a.getMany([key])).toEqual([undefined]);
    }
  });

  it('on Redis holds entries past maxStaleMs while its heartbeats come back', async () => {
    const url = await freshDbUrl(server.url);
    const a = track(await L1Store.wrap(await RedisStore.open({ url }), { maxStaleMs: 100 }));
    await a.set('oc:at:warm', record(1), 60_000);
    const first = await a.get('oc:at:warm');
    const misses = a.l1Stats.misses;
    for (let i = 0; i < 6; i++) {
      await sleep(100);
      expect(await a.get('oc:at:warm')).toBe(first);
    }
    expect(a.l1Stats.misses).toBe(misses);
  });

  it('on Redis a dropped subscription ends the hold: a delete published meanwhile is never served past maxStaleMs', async () => {
    const url = await freshDbUrl(server.url);
    const a = track(await L1Store.wrap(await RedisStore.open({ url }), { maxStaleMs: 100 }));
    const admin = await adminClient(url);
    try {
      await a.set('oc:at:gap', record(1), 60_000);
      await a.get('oc:at:gap');
      await sleep(150); // held on the heartbeats' proof from now on
      expect(await a.get('oc:at:gap')).toBeDefined();
      const held = a.hold('oc:at:gap')!;
      // The subscriber's connection goes (node-redis reconnects and subscribes again in ~50 ms).
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      const started = performance.now();
      // Deleted with its message lost (as one published while the subscriber reconnects would be).
      await admin.sendCommand(['DEL', 'oc:at:gap']);
      let servedAfter = 0;
      while (performance.now() - started < 2000) {
        // Neither a read nor a handle kept from before (the validation hot path's) serves it.
        const stillHeld = a.stillHolds(held);
        if ((await a.get('oc:at:gap')) !== undefined || stillHeld) servedAfter = performance.now() - started;
        await sleep(5);
      }
      expect(servedAfter).toBeLessThan(100 + 50);
      expect(await a.get('oc:at:gap')).toBeUndefined();
    } finally {
      admin.destroy();
    }
  });

  it('getWithGrant: one inner read, then both from memory; a delete of the grant, remote or local, drops it', async () => {
    const url = await freshDbUrl(server.url);
    const { store: inner, reads } = counted(await RedisStore.open({ url }));
    const a = track(await L1Store.wrap(inner, { maxStaleMs: 60_000 }));
    const b = track(await RedisStore.open({ url }));
    const grant = { v: 1, kind: 'grant', exp: Date.now() + 60_000, body: { uid: 'u' } };
    await b.set('oc:g:G1', grant, 60_000);
    const token = { ...record(1), g: 'G1' };
    await b.set('oc:at:t1', token, 60_000);
    const first = await a.getWithGrant('oc:at:t1', 'oc:g:');
    expect(first).toEqual([token, grant]);
    expect(reads).toEqual({ getWithGrantAndExpiry: 1 }); // record and grant in one script call
    const second = await a.getWithGrant('oc:at:t1', 'oc:g:');
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
    const heldGrant = a.hold('oc:g:G1')!;
    expect(heldGrant.value).toBe(first[1]);
    expect(a.stillHolds(heldGrant)).toBe(true);
    expect(reads).toEqual({ getWithGrantAndExpiry: 1 });

    // Revoked in another process: the published delete drops the held grant (and its handle).
    await b.delete('oc:g:G1');
    const started = performance.now();
    while (a.stillHolds(heldGrant)) {
      if (performance.now() - started > 5000) throw new Error('L1 never invalidated');
      await sleep(1);
    }
    expect(a.hold('oc:g:G1')).toBeUndefined();
    const revoked = await a.getWithGrant('oc:at:t1', 'oc:g:');
    expect(revoked).toEqual([first[0], undefined]);
    expect(revoked[0]).toBe(first[0]); // the record is still held: only the grant is read
    expect(reads).toEqual({ getWithGrantAndExpiry: 1, getWithExpiry: 1 });

    // Issued again, held again, then deleted here: dropped at once.
    await a.set('oc:g:G1', grant, 60_000);
    const [, held] = await a.getWithGrant('oc:at:t1', 'oc:g:');
    expect(held).toEqual(grant);
    expect((await a.getWithGrant('oc:at:t1', 'oc:g:'))[1]).toBe(held);
    const heldAgain = a.hold('oc:g:G1')!;
    expect(heldAgain.value).toBe(held);
    expect(reads).toEqual({ getWithGrantAndExpiry: 1, getWithExpiry: 2 });
    await a.delete('oc:g:G1');
    expect(a.hold('oc:g:G1')).toBeUndefined();
    expect(a.stillHolds(heldAgain)).toBe(false);
    expect(await a.getWithGrant('oc:at:t1', 'oc:g:')).toEqual([first[0], undefined]);
  });

  it('on Redis a delete in another process invalidates this L1 (pub/sub), far below maxStaleMs', async () => {
    const url = await freshDbUrl(server.url);
    const a = track(await L1Store.wrap(await RedisStore.open({ url }), { maxStaleMs: 60_000 }));
    const b = track(await RedisStore.open({ url }));
    const latencies: number[] = [];
    for (let round = 0; round < 20; round++) {
      const key = `oc:at:pub${round}`;
      await b.set(key, record(round), 60_000);
      await a.get(key);
      expect(await a.get(key)).toBeDefined(); // held by the L1
      const before = a.l1Stats.hits;
      const started = performance.now();
      await (round % 2 === 0
        ? b.delete(key)
        : b.commit({
            now: Date.now(),
            require: [{ if: 'present', key }],
            ops: [{ op: 'delete', keys: [key] }],
          }));
      while ((await a.get(key)) !== undefined) {
        if (performance.now() - started > 5000) throw new Error('L1 never invalidated');
        await sleep(1);
      }
      latencies.push(performance.now() - started);
      expect(a.l1Stats.hits).toBeGreaterThanOrEqual(before);
    }
    latencies.sort((x, y) => x - y);
    const median = latencies[Math.floor(latencies.length / 2)]!;
    console.log(`L1 remote invalidation (same process, two connections): median ${median.toFixed(2)} ms`);
    expect(median).toBeLessThan(100);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/redis/redis-store.js';
import { RedisCommandMonitor, type RedisServerHandle, startRedisServer } from '../src/testing/index.js';
import { adminClient, freshDbUrl } from './support/redis-admin.js';
import { sleep } from './support/temp.js';

let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('Redis: what is really stored (raw SCAN + GET)', () => {
  it('keys are the cache keys verbatim; values are Keyv envelopes with a native PTTL; indexes are sorted sets that expire', async () => {
    const url = await freshDbUrl(server.url);
    const store = await RedisStore.open({ url });
    const now = Date.now();
    await store.set('oc:at:abc', { v: 1, kind: 'access', exp: now + 60_000 }, 60_000);
    await store.commit({
      now,
      require: [{ if: 'absent', key: 'oc:lock:x' }],
      ops: [{ op: 'set', key: 'oc:lock:x', value: 'token', ttlMs: 5000 }],
    });
    await store.indexAdd('oc:ix:u:h', 'a:abc', now + 60_000, { now });
    await store.indexAdd('oc:ix:u:h', 'a:def', now + 90_000, { now });
    const raw = await adminClient(url);
    try {
      const keys: string[] = [];
      for await (const batch of raw.scanIterator({ COUNT: 100 })) keys.push(...batch);
      expect(keys.sort()).toEqual(['oc:at:abc', 'oc:ix:u:h', 'oc:lock:x']);
      const envelope = JSON.parse((await raw.get('oc:at:abc'))!);
      expect(envelope.value).toEqual({ v: 1, kind: 'access', exp: now + 60_000 });
      expect(envelope.expires).toBeGreaterThanOrEqual(now + 60_000);
      const pttl = await raw.pTTL('oc:at:abc');
      expect(pttl).toBeGreaterThan(55_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(await raw.pTTL('oc:lock:x')).toBeLessThanOrEqual(5000);
      expect(await raw.type('oc:ix:u:h')).toBe('zset');
      expect(await raw.zRangeWithScores('oc:ix:u:h', 0, -1)).toEqual([
        { value: 'a:abc', score: now + 60_000 },
        { value: 'a:def', score: now + 90_000 },
      ]);
      // The index dies with its last member.
      expect(await raw.pExpireTime('oc:ix:u:h')).toBe(now + 90_000);
    } finally {
      raw.destroy();
      await store.close();
    }
  });

  it('getWithGrant is ONE client command: the record and its grant are read inside one script call', async () => {
    const url = await freshDbUrl(server.url);
    const store = await RedisStore.open({ url });
    const monitor = await RedisCommandMonitor.start({ port: server.port, ignoreCommands: ['ping'] });
    try {
      const exp = Date.now() + 60_000;
      // Ids Keyv's serializer escapes (a leading ':') or cjson reads byte by byte are followed
      // inside the script too, never by a second read.
      for (const g of ['G1', ':colon', 'Грант✓']) {
        const grant = { v: 1, kind: 'grant', exp, body: { uid: g } };
        const token = { v: 1, kind: 'access', exp, g, wk: 'w' };
        await store.set(`oc:g:${g}`, grant, 60_000);
        await store.set(`oc:at:${g}`, token, 60_000);
        await store.getWithGrant(`oc:at:${g}`, 'oc:g:'); // the first loads the script (NOSCRIPT, EVAL)
        const { result, span } = await monitor.measure(() => store.getWithGrant(`oc:at:${g}`, 'oc:g:'));
        expect(result).toEqual([token, grant]);
        expect(span).toEqual({ clientCommands: ['evalsha'], scriptCommands: ['get', 'get'], roundTrips: 1 });
      }
      const { span: unlinked } = await monitor.measure(() => store.getWithGrant('oc:g:G1', 'oc:g:'));
      expect(unlinked).toEqual({ clientCommands: ['evalsha'], scriptCommands: ['get'], roundTrips: 1 });
    } finally {
      await monitor.close();
      await store.close();
    }
  });

  it('delete and a commit that deletes publish the deleted keys on <prefix>invalidate', async () => {
    const url = await freshDbUrl(server.url);
    const store = await RedisStore.open({ url, prefix: 'app:' });
    expect(store.channel).toBe('app:invalidate');
    const raw = await adminClient(url);
    const messages: string[] = [];
    await raw.subscribe('app:invalidate', (m) => messages.push(m));
    await store.set('app:at:1', 1, 60_000);
    await store.set('app:at:2', 2, 60_000);
    await store.delete('app:at:1', 'app:at:missing');
    const consume = () =>
      store.commit({
        now: Date.now(),
        require: [{ if: 'present', key: 'app:at:2' }],
        ops: [{ op: 'delete', keys: ['app:at:2'] }],
      });
    expect(await consume()).toEqual({ ok: true });
    expect(await consume()).toEqual({ ok: false, failed: 0 }); // nothing there: nothing published
    await store.delete('app:at:none'); // idem
    await sleep(100);
    expect(messages).toEqual(['["app:at:1","app:at:missing"]', '["app:at:2"]']);
    raw.destroy();
    await store.close();
  });
});

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';
import { StoreWorker } from './support/worker.js';

afterAll(cleanupTempDirs);

describe('SQLite durability', () => {
  it('close and reopen: records, expiries and indexes are all there', async () => {
    const path = join(await tempDir(), 'restart.db');
    const now = Date.now();
    const first = await SqliteStore.open({ path });
    for (let i = 0; i < 200; i++) await first.set(`oc:r:${i}`, { i }, 600_000);
    for (let i = 0; i < 20; i++) await first.indexAdd('oc:ix:r', `m${i}`, now + 600_000 + i, { now });
    await first.close();
    const second = await SqliteStore.open({ path });
    expect(await second.getMany(Array.from({ length: 200 }, (_, i) => `oc:r:${i}`))).toEqual(
      Array.from({ length: 200 }, (_, i) => ({ i })),
    );
    expect(await second.indexCount('oc:ix:r', now)).toBe(20);
    const listed = [];
    for await (const e of second.entries('oc:r:')) listed.push(e);
    expect(listed).toHaveLength(200);
    expect(listed.every((e) => e.expiresAt! > now + 500_000)).toBe(true);
    await second.close();
  });

  it('a writer killed with SIGKILL loses nothing it acknowledged', async () => {
    const path = join(await tempDir(), 'crash.db');
    const worker = await StoreWorker.start();
    await worker.request('open', { url: `sqlite://${path}` });
    void worker.request('writeLoop', { prefix: 'oc:c:', n: 100_000 }).catch(() => undefined);
    let last = -1;
    while (last < 150) last = Number((await worker.nextEvent((m) => m.event === 'acked')).i);
    worker.kill('SIGKILL');
    await worker.exited();
    const store = await SqliteStore.open({ path });
    const keys = Array.from({ length: last + 1 }, (_, i) => `oc:c:${i}`);
    const values = await store.getMany(keys);
    expect(values.filter((v) => v === undefined)).toHaveLength(0);
    expect(await store.indexCount('oc:c:ix', Date.now())).toBeGreaterThanOrEqual(Math.floor(last / 5));
    await store.close();
  });
});

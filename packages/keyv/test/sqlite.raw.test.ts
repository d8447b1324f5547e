import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { sqliteRows } from './support/sqlite-raw.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

afterAll(cleanupTempDirs);

describe('SQLite: what is really in the file (read with the sqlite3 shell)', () => {
  it('rows are keyed by the cache key verbatim, values are Keyv envelopes with an absolute expiry', async () => {
    const path = join(await tempDir(), 'raw.db');
    const store = await SqliteStore.open({ path });
    const before = Date.now();
    await store.set('oc:at:abc', { v: 1, kind: 'access', exp: before + 60_000 }, 60_000);
    await store.commit({
      now: before,
      require: [{ if: 'absent', key: 'oc:lock:x' }],
      ops: [{ op: 'set', key: 'oc:lock:x', value: 'token', ttlMs: 5000 }],
    });
    await store.indexAdd('oc:ix:u:h', 'a:abc', before + 60_000, { now: before });
    await store.close();
    const rows = await sqliteRows(path, 'SELECT key, value FROM oc_kv ORDER BY key');
    expect(rows.map((r) => r.split('|')[0])).toEqual(['oc:at:abc', 'oc:lock:x']);
    const envelope = JSON.parse(rows[0]!.slice('oc:at:abc|'.length));
    expect(envelope.value).toEqual({ v: 1, kind: 'access', exp: before + 60_000 });
    expect(envelope.expires).toBeGreaterThanOrEqual(before + 60_000);
    expect(envelope.expires).toBeLessThan(before + 61_000);
    expect(await sqliteRows(path, 'SELECT ikey, member, score FROM oc_index')).toEqual([
      `oc:ix:u:h|a:abc|${before + 60_000}`,
    ]);
  });

  it('the file is in WAL mode and the sweep runs on the expiry index, not a table scan', async () => {
    const path = join(await tempDir(), 'wal.db');
    const store = await SqliteStore.open({ path });
    await store.close();
    expect(await sqliteRows(path, 'PRAGMA journal_mode')).toEqual(['wal']);
    const plan = await sqliteRows(
      path,
      "EXPLAIN QUERY PLAN DELETE FROM oc_kv WHERE key IN (SELECT key FROM oc_kv WHERE json_extract(value, '$.expires') <= 5 LIMIT 1000)",
    );
    expect(plan.join('\n')).toContain('USING INDEX oc_kv_expires');
    const indexPlan = await sqliteRows(
      path,
      'EXPLAIN QUERY PLAN SELECT ikey, member FROM oc_index WHERE score <= 5',
    );
    expect(indexPlan.join('\n')).toMatch(/USING (COVERING )?INDEX oc_index_expiry/);
  });

  it('a plain Keyv on the same table reads our records and we read its records', async () => {
    const path = join(await tempDir(), 'interop.db');
    const store = await SqliteStore.open({ path });
    const plain = new Keyv({
      store: new KeyvSqlite({ uri: `sqlite://${path}`, table: 'oc_kv' }),
      namespace: '',
      useKeyPrefix: false,
    });
    await store.set('oc:x:ours', { from: 'store' }, 60_000);
    await plain.set('oc:x:theirs', { from: 'keyv' }, 60_000);
    expect(await plain.get('oc:x:ours')).toEqual({ from: 'store' });
    expect(await store.get('oc:x:theirs')).toEqual({ from: 'keyv' });
    await plain.disconnect();
    await store.close();
  });

  it('a large writeBatch lands whole, and not at all when its last row fails', async () => {
    const path = join(await tempDir(), 'bulk.db');
    const store = await SqliteStore.open({ path });
    const now = Date.now();
    const rows = 5000;
    const batch = (tag: string) =>
      Array.from({ length: rows }, (_, i) => [
        { op: 'set' as const, key: `oc:at:${tag}${i}`, value: { v: 1, i }, ttlMs: 60_000 },
        { op: 'indexAdd' as const, key: `oc:ix:u:${tag}`, member: `a:${i}`, score: now + 60_000 },
      ]).flat();
    await store.writeBatch(batch('ok'));
    expect(await sqliteRows(path, "SELECT count(*) FROM oc_kv WHERE key LIKE 'oc:at:ok%'")).toEqual([
      String(rows),
    ]);
    expect(await store.indexCount('oc:ix:u:ok', now)).toBe(rows);
    // The last record is refused by a trigger: every row written before it (index rows and
    // records) must be rolled back with it.
    await promisify(execFile)('/usr/bin/sqlite3', [
      path,
      `CREATE TRIGGER refuse AFTER INSERT ON oc_kv WHEN new.key = 'oc:at:bad${rows - 1}' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    ]);
    await expect(store.writeBatch(batch('bad'))).rejects.toThrow();
    expect(await sqliteRows(path, "SELECT count(*) FROM oc_kv WHERE key LIKE 'oc:at:bad%'")).toEqual(['0']);
    expect(await store.indexCount('oc:ix:u:bad', now)).toBe(0);
    expect(await store.get('oc:at:ok0')).toEqual({ v: 1, i: 0 });
    await store.close();
  });
});

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BatchOp } from '@oauth-cache/core';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { sqliteRows } from './support/sqlite-raw.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

afterAll(cleanupTempDirs);

const sqlite = (path: string, sql: string) => promisify(execFile)('/usr/bin/sqlite3', [path, sql]);

/** The schema files were created with before `oc_index_size` existed (kept verbatim). */
const PREVIOUS_SCHEMA = `
PRAGMA journal_mode=WAL;
CREATE TABLE oc_kv(key VARCHAR(255) PRIMARY KEY, value TEXT);
CREATE INDEX oc_kv_expires ON oc_kv(json_extract(value, '$.expires'));
CREATE TABLE oc_index(ikey TEXT NOT NULL, member TEXT NOT NULL, score INTEGER NOT NULL, PRIMARY KEY(ikey, member)) WITHOUT ROWID;
CREATE INDEX oc_index_by_score ON oc_index(ikey, score);
CREATE INDEX oc_index_expiry ON oc_index(score);
CREATE TABLE oc_meta(k TEXT PRIMARY KEY, v TEXT);
INSERT INTO oc_meta(k, v) VALUES('schema', '1');`;

/** Tracked set sizes next to the real member counts, for every tracked set. */
async function trackedSizes(path: string): Promise<string[]> {
  return sqliteRows(
    path,
    'SELECT s.ikey, s.n, (SELECT count(*) FROM oc_index i WHERE i.ikey = s.ikey) FROM oc_index_size s ORDER BY s.ikey',
  );
}

describe('SQLite writeBatch (one statement per batch)', () => {
  it('keeps batch order, keepGreater keeps the max score, expired sets write nothing', async () => {
    const path = join(await tempDir(), 'order.db');
    const store = await SqliteStore.open({ path });
    const now = Date.now();
    await store.indexAdd('oc:ix:users', 'u1', now + 90_000, { now });
    const ops: BatchOp[] = [
      { op: 'set', key: 'oc:at:a', value: { n: 1 }, ttlMs: 60_000 },
      { op: 'set', key: 'oc:at:a', value: { n: 2 }, ttlMs: 60_000 },
      { op: 'set', key: 'oc:at:gone', value: { n: 3 }, ttlMs: 0 },
      { op: 'indexAdd', key: 'oc:ix:users', member: 'u1', score: now + 30_000, keepGreater: true },
      { op: 'indexAdd', key: 'oc:ix:users', member: 'u2', score: now + 30_000, keepGreater: true },
      { op: 'indexAdd', key: 'oc:ix:u:1', member: 'a:a', score: now + 90_000 },
      { op: 'indexAdd', key: 'oc:ix:u:1', member: 'a:a', score: now + 60_000 },
    ];
    await store.writeBatch(ops);
    expect(await store.get('oc:at:a')).toEqual({ n: 2 });
    expect(await store.get('oc:at:gone')).toBeUndefined();
    expect(await store.indexRange('oc:ix:users', now)).toEqual([
      { member: 'u2', score: now + 30_000 },
      { member: 'u1', score: now + 90_000 },
    ]);
    // A plain index add replaces the score, even with a lower one (last op wins).
    expect(await store.indexRange('oc:ix:u:1', now)).toEqual([{ member: 'a:a', score: now + 60_000 }]);
    await store.close();
    expect(await sqliteRows(path, "SELECT count(*) FROM oc_kv WHERE key = 'oc:at:gone'")).toEqual(['0']);
  });

  it('a bad TTL refuses the whole batch before anything is written', async () => {
    const path = join(await tempDir(), 'ttl.db');
    const store = await SqliteStore.open({ path });
    await expect(
      store.writeBatch([
        { op: 'set', key: 'oc:at:ok', value: 1, ttlMs: 60_000 },
        { op: 'set', key: 'oc:at:bad', value: 1, ttlMs: Number.NaN },
      ]),
    ).rejects.toThrow();
    expect(await store.get('oc:at:ok')).toBeUndefined();
    await store.close();
  });

  it('ordinary writes and transactions work after bulk batches, and everything survives a reopen', async () => {
    const path = join(await tempDir(), 'after.db');
    const store = await SqliteStore.open({ path });
    const now = Date.now();
    for (let b = 0; b < 3; b++) {
      await store.writeBatch(
        Array.from({ length: 300 }, (_, i): BatchOp[] => [
          { op: 'set', key: `oc:at:${b}-${i}`, value: { b, i }, ttlMs: 60_000 },
          { op: 'indexAdd', key: 'oc:ix:tokens', member: `a:${b}-${i}`, score: now + 60_000 + i },
        ]).flat(),
      );
    }
    await store.set('oc:x:plain', { ok: true }, 60_000);
    expect(
      await store.commit({
        now,
        require: [{ if: 'absent', key: 'oc:x:plain' }],
        ops: [{ op: 'set', key: 'oc:x:plain', value: 'again', ttlMs: 60_000 }],
      }),
    ).toEqual({ ok: false, failed: 0 });
    expect(await store.indexAdd('oc:ix:u:z', 'm', now + 1000, { now, cap: 5 })).toEqual([]);
    await store.close();
    const reopened = await SqliteStore.open({ path });
    expect(await reopened.get('oc:at:2-299')).toEqual({ b: 2, i: 299 });
    expect(await reopened.get('oc:x:plain')).toEqual({ ok: true });
    expect(await reopened.indexCount('oc:ix:tokens', now)).toBe(900);
    await reopened.close();
    // Closing the last connection checkpointed the write-ahead log into the database file.
    expect(await sqliteRows(path, 'PRAGMA journal_mode')).toEqual(['wal']);
  });
});

describe('SQLite capped sets: tracked sizes', () => {
  it('cap counts members written by writeBatch, and the tracked size stays exact through removals', async () => {
    const path = join(await tempDir(), 'cap.db');
    const store = await SqliteStore.open({ path });
    const now = Date.now();
    const member = (i: number) => `a:${String(i).padStart(3, '0')}`;
    await store.writeBatch(
      Array.from(
        { length: 50 },
        (_, i): BatchOp => ({
          op: 'indexAdd',
          key: 'oc:ix:tokens',
          member: member(i),
          score: now + 10_000 + i,
        }),
      ),
    );
    // The first capped add counts the set once (50 + the new member), then evicts the lowest scores.
    expect(await store.indexAdd('oc:ix:tokens', 'a:new', now + 99_000, { now, cap: 48 })).toEqual([
      member(0),
      member(1),
      member(2),
    ]);
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|48|48']);
    // From then on every path keeps the size: bulk adds (new and existing members), removals,
    // sweeping dead members, whole-set deletes.
    await store.writeBatch([
      { op: 'indexAdd', key: 'oc:ix:tokens', member: member(10), score: now + 50_000 },
      { op: 'indexAdd', key: 'oc:ix:tokens', member: 'a:bulk', score: now + 1 },
    ]);
    await store.indexRemove('oc:ix:tokens', [member(20), member(21), 'a:absent']);
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|47|47']);
    await store.sweep(now + 5_000);
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|46|46']);
    expect(await store.indexAdd('oc:ix:tokens', 'a:more', now + 99_000, { now, cap: 45 })).toEqual([
      member(3),
      member(4),
    ]);
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|45|45']);
    await store.indexDelete('oc:ix:tokens');
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|0|0']);
    // Sets never capped are not tracked.
    await store.indexAdd('oc:ix:u:1', 'x', now + 1000, { now });
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|0|0']);
    await store.close();
  });

  it('a file created by the previous schema opens, gains the size table, and keeps its data', async () => {
    const path = join(await tempDir(), 'previous.db');
    const now = Date.now();
    const member = (i: number) => `a:${String(i).padStart(2, '0')}`;
    const rows = Array.from(
      { length: 20 },
      (_, i) => `('oc:ix:tokens', '${member(i)}', ${now + 10_000 + i})`,
    );
    const envelope = JSON.stringify({ value: { old: true }, expires: now + 60_000 });
    await sqlite(
      path,
      `${PREVIOUS_SCHEMA}
       INSERT INTO oc_index(ikey, member, score) VALUES ${rows.join(',')};
       INSERT INTO oc_kv(key, value) VALUES('oc:at:old', '${envelope}');`,
    );
    const store = await SqliteStore.open({ path });
    expect(await store.get('oc:at:old')).toEqual({ old: true });
    expect(await store.indexCount('oc:ix:tokens', now)).toBe(20);
    expect(await store.indexAdd('oc:ix:tokens', 'a:new', now + 99_000, { now, cap: 19 })).toEqual([
      member(0),
      member(1),
    ]);
    await store.writeBatch([
      { op: 'set', key: 'oc:at:new', value: { old: false }, ttlMs: 60_000 },
      { op: 'indexAdd', key: 'oc:ix:tokens', member: 'a:bulk', score: now + 20_000 },
    ]);
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|20|20']);
    await store.close();
    // The older indexes are still there and still used; the new objects were added next to them.
    const names = await sqliteRows(
      path,
      "SELECT name FROM sqlite_master WHERE name LIKE 'oc_%' ORDER BY name",
    );
    expect(names).toEqual([
      'oc_index',
      'oc_index_by_score',
      'oc_index_expiry',
      'oc_index_size',
      'oc_index_size_add',
      'oc_index_size_remove',
      'oc_kv',
      'oc_kv_expires',
      'oc_meta',
    ]);
    const reopened = await SqliteStore.open({ path });
    expect(await reopened.get('oc:at:new')).toEqual({ old: false });
    expect(await reopened.indexCount('oc:ix:tokens', now)).toBe(20);
    await reopened.close();
  });

  it('a failed capped add leaves the tracked size unchanged (one transaction)', async () => {
    const path = join(await tempDir(), 'rollback.db');
    const store = await SqliteStore.open({ path });
    const now = Date.now();
    await store.indexAdd('oc:ix:tokens', 'a', now + 1000, { now, cap: 10 });
    await sqlite(
      path,
      "CREATE TRIGGER refuse AFTER INSERT ON oc_index WHEN new.member = 'b' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    await expect(store.indexAdd('oc:ix:tokens', 'b', now + 1000, { now, cap: 10 })).rejects.toThrow();
    expect(await trackedSizes(path)).toEqual(['oc:ix:tokens|1|1']);
    await store.close();
  });
});

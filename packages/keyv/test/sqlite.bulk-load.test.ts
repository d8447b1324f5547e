import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { BatchOp } from '@oauth-cache/core';
import { afterAll, describe, expect, it } from 'vitest';
import { BulkStage } from '../src/sqlite/bulk-stage.js';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { sqliteRows } from './support/sqlite-raw.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

afterAll(cleanupTempDirs);

const SECONDARY_INDEXES = ['oc_index_by_score', 'oc_index_expiry', 'oc_kv_expires'];

/**
 * Batches of a token import with every ordering case of `writeBatch`: a key set twice (the last
 * value wins), a member re-added with a lower plain score, a lower and a higher keepGreater after a
 * plain add and a plain add after keepGreater, already-expired sets, and members shared by many
 * batches.
 */
function importBatches(batches: number, tokensPerBatch: number, now: number): BatchOp[][] {
  const out: BatchOp[][] = [];
  for (let b = 0; b < batches; b++) {
    const ops: BatchOp[] = [];
    for (let i = 0; i < tokensPerBatch; i++) {
      const t = b * tokensPerBatch + i;
      const exp = now + 600_000 + ((t * 7919) % 100_000);
      ops.push(
        { op: 'indexAdd', key: `oc:ix:u:${t % 37}`, member: `a:${t}`, score: exp },
        { op: 'indexAdd', key: 'oc:ix:tokens', member: `a:${t}`, score: exp },
        { op: 'indexAdd', key: 'oc:ix:users', member: `u${t % 37}`, score: exp, keepGreater: true },
        { op: 'set', key: `oc:at:${t}`, value: { t, first: true }, ttlMs: exp - now },
      );
    }
    // Later batches overwrite keys and re-score members of earlier ones.
    const earlier = (b * tokensPerBatch) >> 1;
    ops.push(
      { op: 'set', key: `oc:at:${earlier}`, value: { t: earlier, rewrittenIn: b }, ttlMs: 700_000 },
      { op: 'set', key: `oc:at:gone${b}`, value: 'expired', ttlMs: 0 },
      { op: 'indexAdd', key: 'oc:ix:tokens', member: `a:${earlier}`, score: now + 1_000 },
      { op: 'indexAdd', key: 'oc:ix:mix', member: 'm', score: now + 500_000 + b },
      { op: 'indexAdd', key: 'oc:ix:mix', member: 'm', score: now + 400_000, keepGreater: true },
      { op: 'indexAdd', key: 'oc:ix:mix', member: 'g', score: now + 900_000 - b, keepGreater: true },
      { op: 'indexAdd', key: 'oc:ix:mix', member: 'g', score: now + 200_000 + b },
      { op: 'indexAdd', key: 'oc:ix:mix', member: 'h', score: now + 300_000 + b },
      { op: 'indexAdd', key: 'oc:ix:mix', member: 'h', score: now + 800_000 - b, keepGreater: true },
    );
    out.push(ops);
  }
  return out;
}

/** One batch of MIN_MERGE_ROWS records `oc:at:<prefix><i>` = i: a staged load merges it at once. */
function bigBatch(prefix: string): BatchOp[] {
  return Array.from({ length: BulkStage.MIN_MERGE_ROWS }, (_, i) => ({
    op: 'set',
    key: `oc:at:${prefix}${i}`,
    value: i,
    ttlMs: 60_000,
  }));
}

/** What the file holds, independent of when each record was written (its envelope's expiry). */
async function contents(path: string): Promise<string[]> {
  return [
    ...(await sqliteRows(path, "SELECT key, json_extract(value, '$.value') FROM oc_kv ORDER BY key")),
    ...(await sqliteRows(path, 'SELECT ikey, member, score FROM oc_index ORDER BY ikey, member')),
    ...(await sqliteRows(path, 'SELECT ikey, n FROM oc_index_size ORDER BY ikey')),
  ];
}

async function indexNames(path: string): Promise<string[]> {
  return sqliteRows(
    path,
    "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
}

describe('SqliteStore.bulkLoad (staged import)', () => {
  it('on an empty file, ends with exactly what batch-by-batch writes give, indexes rebuilt', async () => {
    const dir = await tempDir();
    const now = Date.now();
    // 40 batches of ~600 rows: merged at 5000 staged rows, then at three times what was merged.
    const batches = importBatches(40, 150, now);
    const staged = await SqliteStore.open({ path: join(dir, 'staged.db') });
    const direct = await SqliteStore.open({ path: join(dir, 'direct.db') });
    // As core's storeTokens does: the batch, then one capped add (a tracked set size).
    const write = async (store: SqliteStore, ops: BatchOp[]) => {
      await store.writeBatch(ops);
      await store.indexAdd('oc:ix:tokens', 'a:0', now + 600_000, { now, cap: 1_000_000 });
    };
    await staged.bulkLoad(async (load) => {
      expect(load).toEqual({ deferred: true });
      await write(staged, batches[0]!);
      expect(await staged.get('oc:at:0')).toBeUndefined(); // staged, not merged yet
      for (const ops of batches.slice(1)) await write(staged, ops);
    });
    for (const ops of batches) await write(direct, ops);
    // Capped adds made during the load were staged, with no cap judged: the next one after it
    // starts counting the set, exactly.
    expect(await sqliteRows(join(dir, 'staged.db'), 'SELECT count(*) FROM oc_index_size')).toEqual(['0']);
    for (const store of [staged, direct]) {
      expect(await store.indexAdd('oc:ix:tokens', 'a:1', now + 600_000, { now, cap: 1_000_000 })).toEqual([]);
    }
    await staged.close();
    await direct.close();

    const expected = await contents(join(dir, 'direct.db'));
    expect(expected.length).toBeGreaterThan(6000 * 3);
    expect(await contents(join(dir, 'staged.db'))).toEqual(expected);
    expect(await indexNames(join(dir, 'staged.db'))).toEqual(SECONDARY_INDEXES);
    expect(await sqliteRows(join(dir, 'staged.db'), 'PRAGMA integrity_check')).toEqual(['ok']);
  });

  it('staged batches become readable at each merge and all of them when run resolves', async () => {
    const path = join(await tempDir(), 'visible.db');
    const store = await SqliteStore.open({ path });
    const now = Date.now();
    const big: BatchOp[] = Array.from({ length: BulkStage.MIN_MERGE_ROWS }, (_, i) => ({
      op: 'set',
      key: `oc:at:big${i}`,
      value: i,
      ttlMs: 60_000,
    }));
    await store.bulkLoad(async () => {
      await store.writeBatch([{ op: 'set', key: 'oc:at:small', value: 'small', ttlMs: 60_000 }]);
      expect(await store.get('oc:at:small')).toBeUndefined(); // still staged
      await store.writeBatch(big); // the stage now holds MIN_MERGE_ROWS rows: merged
      expect(await store.get('oc:at:small')).toBe('small');
      expect(await store.get(`oc:at:big${big.length - 1}`)).toBe(big.length - 1);
      await store.writeBatch([{ op: 'indexAdd', key: 'oc:ix:late', member: 'm', score: now + 60_000 }]);
      expect(await store.indexRange('oc:ix:late', now)).toEqual([]);
      // Other operations go straight to the tables meanwhile.
      await store.set('oc:x:direct', 'direct', 60_000);
      expect(await store.get('oc:x:direct')).toBe('direct');
      // A load started inside this one joins its stage.
      await store.bulkLoad(async (nested) => {
        expect(nested).toEqual({ deferred: true });
      });
    });
    expect(await store.indexRange('oc:ix:late', now)).toEqual([{ member: 'm', score: now + 60_000 }]);
    await store.close();
  });

  it('judges no cap while staging; the first capped add after the load evicts what is over', async () => {
    const path = join(await tempDir(), 'cap.db');
    const store = await SqliteStore.open({ path });
    const now = Date.now();
    await store.bulkLoad(async () => {
      await store.writeBatch(
        [1, 2, 3, 4, 5].map((n) => ({
          op: 'indexAdd',
          key: 'oc:ix:tokens',
          member: `a:${n}`,
          score: now + n * 1000,
        })),
      );
      expect(await store.indexAdd('oc:ix:tokens', 'a:6', now + 6000, { now, cap: 2 })).toEqual([]);
      expect(await store.indexCount('oc:ix:tokens', now)).toBe(0); // staged with the batch
    });
    expect(await store.indexCount('oc:ix:tokens', now)).toBe(6);
    expect(await store.indexAdd('oc:ix:tokens', 'a:7', now + 7000, { now, cap: 2 })).toEqual([
      'a:1',
      'a:2',
      'a:3',
      'a:4',
      'a:5',
    ]);
    expect(await store.indexRange('oc:ix:tokens', now)).toEqual([
      { member: 'a:6', score: now + 6000 },
      { member: 'a:7', score: now + 7000 },
    ]);
    await store.close();
  });

  it('a run that throws still lands what it staged, and its error comes out', async () => {
    const path = join(await tempDir(), 'throws.db');
    const store = await SqliteStore.open({ path });
    const failure = new Error('malformed dump');
    await expect(
      store.bulkLoad(async () => {
        await store.writeBatch([{ op: 'set', key: 'oc:at:before', value: 1, ttlMs: 60_000 }]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await store.get('oc:at:before')).toBe(1);
    // Back to ordinary writes after the bulk load.
    await store.writeBatch([{ op: 'set', key: 'oc:at:after', value: 2, ttlMs: 60_000 }]);
    expect(await store.get('oc:at:after')).toBe(2);
    await store.close();
  });

  it('on a file that already holds data, batches are written as they come', async () => {
    const path = join(await tempDir(), 'nonempty.db');
    const store = await SqliteStore.open({ path });
    await store.set('oc:at:existing', 'kept', 60_000);
    await store.bulkLoad(async (load) => {
      expect(load).toEqual({ deferred: false }); // the caller may size its batches by it
      await store.writeBatch([{ op: 'set', key: 'oc:at:new', value: 'new', ttlMs: 60_000 }]);
      expect(await store.get('oc:at:new')).toBe('new');
      // Nested: the outer load decides.
      await store.bulkLoad(async (nested) => {
        expect(nested).toEqual({ deferred: false });
        await store.writeBatch([{ op: 'set', key: 'oc:at:nested', value: 'n', ttlMs: 60_000 }]);
      });
      expect(await store.get('oc:at:nested')).toBe('n');
    });
    expect(await store.get('oc:at:existing')).toBe('kept');
    await store.close();
  });

  it('into a file no other connection has open, merges use a rollback journal; WAL again after', async () => {
    const path = join(await tempDir(), 'journal.db');
    const store = await SqliteStore.open({ path });
    const modes: string[] = [];
    await store.bulkLoad(async () => {
      modes.push(...(await sqliteRows(path, 'PRAGMA journal_mode')));
      await store.writeBatch(bigBatch('a'));
      expect(await store.get('oc:at:a0')).toBe(0); // merged
    });
    modes.push(...(await sqliteRows(path, 'PRAGMA journal_mode')));
    expect(modes).toEqual(['delete', 'wal']);
    expect(await store.get(`oc:at:a${BulkStage.MIN_MERGE_ROWS - 1}`)).toBe(BulkStage.MIN_MERGE_ROWS - 1);
    await store.close();
    expect(await sqliteRows(path, 'PRAGMA integrity_check')).toEqual(['ok']);
  });

  it('with another connection on the file, the load keeps WAL and that connection reads each merge', async () => {
    const path = join(await tempDir(), 'shared.db');
    const store = await SqliteStore.open({ path });
    const other = await SqliteStore.open({ path });
    await store.bulkLoad(async (load) => {
      expect(load).toEqual({ deferred: true });
      expect(await sqliteRows(path, 'PRAGMA journal_mode')).toEqual(['wal']);
      await store.writeBatch(bigBatch('a'));
      expect(await other.get('oc:at:a0')).toBe(0);
    });
    expect(await sqliteRows(path, 'PRAGMA journal_mode')).toEqual(['wal']);
    await Promise.all([store.close(), other.close()]);
  });

  it('a store opened between two merges of a load switches the file back to WAL; the load ends whole', async () => {
    const path = join(await tempDir(), 'late.db');
    const store = await SqliteStore.open({ path });
    let late: SqliteStore | undefined;
    await store.bulkLoad(async () => {
      await store.writeBatch(bigBatch('a'));
      late = await SqliteStore.open({ path });
      expect(await sqliteRows(path, 'PRAGMA journal_mode')).toEqual(['wal']);
      expect(await late.get('oc:at:a0')).toBe(0);
      await store.writeBatch([{ op: 'set', key: 'oc:at:last', value: 'last', ttlMs: 60_000 }]);
    });
    expect(await late?.get('oc:at:last')).toBe('last');
    await Promise.all([store.close(), late?.close()]);
    expect(await sqliteRows(path, 'PRAGMA integrity_check')).toEqual(['ok']);
  });

  it('stores opened again and again while a load merges all open (they wait for the merge)', async () => {
    const path = join(await tempDir(), 'busy.db');
    const store = await SqliteStore.open({ path });
    const opened: string[] = [];
    await store.bulkLoad(async () => {
      await store.writeBatch(bigBatch('a')); // merged: the file now has a rollback journal
      const pad = 'x'.repeat(400);
      const large: BatchOp[] = Array.from({ length: 60_000 }, (_, i) => ({
        op: 'set',
        key: `oc:at:b${(i * 7919) % 60_000}`,
        value: pad,
        ttlMs: 60_000,
      }));
      const merging = store.writeBatch(large); // staged, then merged: a long transaction
      let done = false;
      void merging.finally(() => {
        done = true;
      });
      // Open once the merge runs (its rollback journal exists). Switching the file back to WAL needs
      // it to itself: SQLite answers SQLITE_BUSY at once while a merge holds it, where a lock would
      // be waited for. Opening retries until the busy timeout.
      while (!done && !existsSync(`${path}-journal`)) await sleep(2);
      while (!done) {
        const other = await SqliteStore.open({ path, busyTimeoutMs: 20_000 });
        opened.push(String(await other.get('oc:at:a0')));
        await other.close();
      }
      await merging;
    });
    expect(opened.length).toBeGreaterThan(0);
    expect(new Set(opened)).toEqual(new Set(['0']));
    expect(await store.get('oc:at:b59999')).toBe('x'.repeat(400));
    await store.close();
  });

  it('a process killed while staging leaves the file as its last merge left it; open rebuilds the indexes', async () => {
    const path = join(await tempDir(), 'killed.db');
    const child = fork(fileURLToPath(new URL('./fixtures/bulk-load-child.mjs', import.meta.url)), [path], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const message = await new Promise<{ merged: number }>((resolve) =>
      child.once('message', resolve as never),
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The load's first merge dropped the secondary indexes; only its last would have rebuilt them.
    expect(await indexNames(path)).toEqual([]);
    const store = await SqliteStore.open({ path });
    // The merged batch is there whole, the staged one is not there at all.
    expect(await store.get('oc:at:merged0')).toBe(0);
    expect(await store.get(`oc:at:merged${message.merged - 1}`)).toBe(message.merged - 1);
    expect(await store.get('oc:at:staged')).toBeUndefined();
    await store.close();
    expect(await indexNames(path)).toEqual(SECONDARY_INDEXES);
    expect(await sqliteRows(path, 'PRAGMA integrity_check')).toEqual(['ok']);
  });
});

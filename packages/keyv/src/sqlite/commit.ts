import { type CommitResult, failedPrecondition, type Transaction, type TxOp } from '@oauth-cache/core';
import type { EnvelopeCodec } from '../envelope.js';
import { assertTtl } from '../errors.js';
import type { Query } from './query.js';
import type { SqliteSql } from './schema.js';

/** The body of a commit: run inside `BEGIN IMMEDIATE … COMMIT`, with the store's gate held. */
export type CommitBody = (q: Query) => Promise<CommitResult>;

/**
 * Validate `tx` and encode its records before the write lock is taken (a bad TTL throws a
 * `TypeError` with nothing written; encoding is the slow part of a write and needs no lock).
 * Records expire `ttlMs` after this call, as with `set`. Resolves the body the store runs as one
 * transaction: see {@link applyCommit}.
 */
export async function prepareCommit(
  tx: Transaction,
  sql: SqliteSql,
  codec: EnvelopeCodec,
): Promise<CommitBody> {
  const now = Date.now();
  const texts = new Map<TxOp, string>();
  for (const op of tx.ops) {
    if (op.op !== 'set') continue;
    assertTtl(op.ttlMs);
    if (op.ttlMs > 0) texts.set(op, await codec.encode(op.value, now + Math.ceil(op.ttlMs)));
  }
  return (q) => applyCommit(q, sql, codec, tx, texts);
}

/**
 * Read what the preconditions need, judge them with core's {@link failedPrecondition}, and only
 * if all hold apply the ops in order. The caller runs this inside one `BEGIN IMMEDIATE`
 * transaction: the write lock is held from the first read to the last write, so no other process
 * (or caller on this connection, kept out by the gate) can change a record or index in between.
 */
async function applyCommit(
  q: Query,
  sql: SqliteSql,
  codec: EnvelopeCodec,
  tx: Transaction,
  texts: ReadonlyMap<TxOp, string>,
): Promise<CommitResult> {
  const keys = new Set<string>();
  const indexes = new Set<string>();
  for (const p of tx.require ?? []) {
    if (p.if === 'present' || p.if === 'absent') keys.add(p.key);
    else indexes.add(p.index);
  }
  const live = new Set<string>();
  if (keys.size > 0) {
    const rows = await q(sql.readMany, JSON.stringify([...keys]));
    // Wall clock read under the lock: a record is live exactly when `get` would return it now.
    const now = Date.now();
    for (const row of rows) if (codec.live(row.value, now) !== undefined) live.add(String(row.key));
  }
  const counts = new Map<string, number>();
  for (const index of indexes) {
    counts.set(index, Number((await q(sql.indexCount, index, tx.now))[0]?.n ?? 0));
  }
  const failed = failedPrecondition(tx, {
    present: (key) => live.has(key),
    liveCount: (index) => counts.get(index) ?? 0,
  });
  if (failed !== undefined) return { ok: false, failed };
  for (const op of tx.ops) await applyOp(q, sql, op, tx.now, texts);
  return { ok: true };
}

/** One op, with the statements the store's own methods use. */
async function applyOp(
  q: Query,
  sql: SqliteSql,
  op: TxOp,
  now: number,
  texts: ReadonlyMap<TxOp, string>,
): Promise<void> {
  switch (op.op) {
    case 'set': {
      const text = texts.get(op);
      // No text: TTL <= 0, already expired, so a delete (as `set` does: Keyv reads 0 as "forever").
      if (text === undefined) await q(sql.deleteMany, JSON.stringify([op.key]));
      else await q(sql.put, op.key, text);
      return;
    }
    case 'delete':
      if (op.keys.length > 0) await q(sql.deleteMany, JSON.stringify(op.keys));
      return;
    case 'indexAdd':
      // Dead members go first, then the upsert (like the memory store): never evicts.
      await q(sql.indexDropDead, op.key, now);
      await q(op.keepGreater ? sql.indexUpsertGreater : sql.indexUpsert, op.key, op.member, op.score);
      return;
    case 'indexRemove':
      if (op.members.length > 0) await q(sql.indexRemove, op.key, JSON.stringify(op.members));
      return;
    case 'indexDelete':
      await q(sql.indexDelete, op.key);
      return;
  }
}

import type { BatchOp } from '@oauth-cache/core';
import { recordTexts } from '../batch-records.js';
import type { EnvelopeCodec } from '../envelope.js';
import { BULK_INDEX, BULK_INDEX_GREATER, BULK_SET, type BulkRow } from './schema.js';

/**
 * The rows of one bulk statement, in batch order (a key written twice keeps its last value).
 * A `set` with a TTL <= 0 is already expired: it writes nothing (as `set` would delete, and a bulk
 * import never has anything to delete). Throws on a bad TTL before anything is written.
 * Synchronous unless the codec needs Keyv's (async) serializer (see `recordTexts`).
 */
export function bulkRows(
  ops: readonly BatchOp[],
  codec: EnvelopeCodec,
  now: number,
): BulkRow[] | Promise<BulkRow[]> {
  const texts = recordTexts(ops, now, (value, expires) => codec.encode(value, expires));
  return Array.isArray(texts) ? rowsOf(ops, texts) : texts.then((done) => rowsOf(ops, done));
}

/** The rows of `ops` whose live records' stored texts are `texts`, in op order. */
function rowsOf(ops: readonly BatchOp[], texts: readonly string[]): BulkRow[] {
  const rows: BulkRow[] = [];
  let records = 0;
  for (const op of ops) {
    if (op.op === 'set') {
      if (op.ttlMs > 0) rows.push([BULK_SET, op.key, texts[records++]!, null]);
    } else {
      rows.push([op.keepGreater ? BULK_INDEX_GREATER : BULK_INDEX, op.key, op.member, op.score]);
    }
  }
  return rows;
}

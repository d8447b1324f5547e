import type { BatchOp } from '@oauth-cache/core';
import type { EnvelopeCodec } from '../envelope.js';
import { assertTtl } from '../errors.js';
import { BULK_INDEX, BULK_INDEX_GREATER, BULK_SET, type BulkRow } from './schema.js';

/**
 * The rows of one bulk statement, in batch order (a key written twice keeps its last value).
 * A `set` with a TTL <= 0 is already expired: it writes nothing (as `set` would delete, and a bulk
 * import never has anything to delete). Throws on a bad TTL before anything is written.
 * Synchronous unless the codec needs Keyv's (async) serializer for a value: a caller can then take
 * its place on the connection before anything else it issues (core's cap check follows its batch).
 */
export function bulkRows(
  ops: readonly BatchOp[],
  codec: EnvelopeCodec,
  now: number,
): BulkRow[] | Promise<BulkRow[]> {
  const rows: BulkRow[] = [];
  const waiting: Array<Promise<void>> = [];
  for (const op of ops) {
    if (op.op === 'set') {
      assertTtl(op.ttlMs);
      if (op.ttlMs <= 0) continue;
      const text = codec.encode(op.value, now + Math.ceil(op.ttlMs));
      const row: BulkRow = [BULK_SET, op.key, '', null];
      if (typeof text === 'string') row[2] = text;
      else {
        waiting.push(
          text.then((done) => {
            row[2] = done;
          }),
        );
      }
      rows.push(row);
    } else {
      rows.push([op.keepGreater ? BULK_INDEX_GREATER : BULK_INDEX, op.key, op.member, op.score]);
    }
  }
  return waiting.length === 0 ? rows : Promise.all(waiting).then(() => rows);
}

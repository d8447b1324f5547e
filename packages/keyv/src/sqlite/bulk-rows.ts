import type { BatchOp } from '@oauth-cache/core';
import type { EnvelopeCodec } from '../envelope.js';
import { assertTtl } from '../errors.js';
import { BULK_INDEX, BULK_INDEX_GREATER, BULK_SET, type BulkRow } from './schema.js';

/**
 * The rows of one bulk statement, in batch order (a key written twice keeps its last value).
 * A `set` with a TTL <= 0 is already expired: it writes nothing (as `set` would delete, and a bulk
 * import never has anything to delete). Throws on a bad TTL before anything is written.
 */
export async function bulkRows(
  ops: readonly BatchOp[],
  codec: EnvelopeCodec,
  now: number,
): Promise<BulkRow[]> {
  const rows: BulkRow[] = [];
  for (const op of ops) {
    if (op.op === 'set') {
      assertTtl(op.ttlMs);
      if (op.ttlMs <= 0) continue;
      const text = codec.encode(op.value, now + Math.ceil(op.ttlMs));
      // Await only when the codec needs Keyv's (async) serializer: no promise per plain record.
      rows.push([BULK_SET, op.key, typeof text === 'string' ? text : await text, null]);
    } else {
      rows.push([op.keepGreater ? BULK_INDEX_GREATER : BULK_INDEX, op.key, op.member, op.score]);
    }
  }
  return rows;
}

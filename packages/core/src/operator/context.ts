import type { CacheContext } from '../context.js';
import type { DecodedRecord } from '../records/codec.js';
import type { SessionService } from '../session-service.js';
import type { TokenService } from '../token-service.js';

/** What the directory's parts share: the cache's context and services. Internal. */
export interface DirectoryContext {
  ctx: CacheContext;
  tokens: TokenService;
  sessions: SessionService;
}

/**
 * Read records by their prefixed keys in one batch and decode them WITHOUT a token (what the
 * server's keys open: never `userData`, at `maximum` not the user id of a token record).
 */
export async function readRecords(
  dc: DirectoryContext,
  keys: string[],
): Promise<Array<DecodedRecord | undefined>> {
  if (keys.length === 0) return [];
  const values = await dc.ctx.store.getMany(keys);
  return keys.map((key, i) => dc.tokens.decodeRecord(key, values[i]));
}

/** The login a record shows without its token (token records below `maximum`, session records). */
export function readableUserId(record: DecodedRecord | undefined, now: number): string | undefined {
  if (record === undefined || record.exp <= now) return undefined;
  const uid = record.body.uid;
  return typeof uid === 'string' && uid.length > 0 ? uid : undefined;
}

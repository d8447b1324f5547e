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
  // Token records come with their grants (what they share is kept there).
  return dc.tokens.readRecords(keys);
}

/** The login a record shows without its token (token records below `maximum`, session records). */
export function readableUserId(record: DecodedRecord | undefined, now: number): string | undefined {
  if (record === undefined || record.exp <= now) return undefined;
  const uid = record.body.uid;
  return typeof uid === 'string' && uid.length > 0 ? uid : undefined;
}

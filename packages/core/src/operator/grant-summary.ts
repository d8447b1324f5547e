import type { DecodedRecord } from '../records/codec.js';
import type { GrantSummary } from './types.js';

/**
 * Fold the live token records of one family (decoded without a token) into its summary, or
 * `undefined` when none is live. The metadata (client, scopes, resource, session) comes from the
 * most recently issued token; `sessionOf` turns a stored session id into its digest, so the
 * summary never carries the id itself.
 */
export function summarizeGrant(
  familyId: string,
  records: Array<DecodedRecord | undefined>,
  now: number,
  sessionOf: (sessionId: string) => string,
): GrantSummary | undefined {
  let latest: DecodedRecord | undefined;
  let createdAt: number | undefined;
  let lastIssuedAt: number | undefined;
  let expiresAt = 0;
  let rotations = 0;
  let liveTokens = 0;
  for (const record of records) {
    if (record === undefined || record.exp <= now) continue;
    if (record.kind !== 'access' && record.kind !== 'refresh') continue;
    const b = record.body;
    liveTokens += 1;
    expiresAt = Math.max(expiresAt, record.exp);
    if (typeof b.rot === 'number') rotations = Math.max(rotations, b.rot);
    if (typeof b.iat === 'number') {
      createdAt = createdAt === undefined ? b.iat : Math.min(createdAt, b.iat);
      if (lastIssuedAt === undefined || b.iat >= lastIssuedAt) {
        lastIssuedAt = b.iat;
        latest = record;
      }
    } else if (latest === undefined) {
      latest = record;
    }
  }
  if (liveTokens === 0 || latest === undefined) return undefined;
  const b = latest.body;
  const summary: GrantSummary = { id: familyId, expiresAt, rotations, liveTokens };
  if (b.cid !== undefined) summary.clientId = b.cid;
  if (Array.isArray(b.scp)) summary.scopes = [...b.scp];
  if (b.res !== undefined) summary.resource = b.res;
  if (b.sid !== undefined) summary.sessionRef = sessionOf(b.sid);
  if (createdAt !== undefined) summary.createdAt = createdAt;
  if (lastIssuedAt !== undefined) summary.lastIssuedAt = lastIssuedAt;
  return summary;
}

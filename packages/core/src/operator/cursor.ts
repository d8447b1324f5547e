import type { IndexEntry } from '../store/contract.js';

/** Longest cursor accepted (a user digest and a score take ~80 characters). */
const MAX_CURSOR_LENGTH = 1024;

/** The opaque cursor of a page that ends with `entry`: base64url of `[score, member]`. */
export function encodeCursor(entry: IndexEntry): string {
  return Buffer.from(JSON.stringify([entry.score, entry.member]), 'utf8').toString('base64url');
}

/** The entry an {@link encodeCursor} cursor names. Throws `TypeError` for anything else. */
export function decodeCursor(cursor: unknown): IndexEntry {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) {
    throw new TypeError('malformed cursor: pass the `next` of the previous page');
  }
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new TypeError('malformed cursor: not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new TypeError('malformed cursor: not a page cursor');
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'number' ||
    !Number.isFinite(parsed[0]) ||
    typeof parsed[1] !== 'string'
  ) {
    throw new TypeError('malformed cursor: not a page cursor');
  }
  return { score: parsed[0], member: parsed[1] };
}

import { LRUCache } from 'lru-cache';
import type { DecodedRecord } from './records/codec.js';
import type { CacheStore, Held } from './store/contract.js';
import { RECENCY_REFRESH_MS } from './store/held-value.js';

/**
 * What the validation hot path keeps per access token that validated lately: its digest and store
 * key, the grant its record links to with that grant's store key, and, when the store holds records
 * in this process (`CacheStore.hold`), the handles of the token's record and of its grant as they
 * were read. One object per token, reached with one lookup by the token.
 */
export interface HotToken {
  id: string;
  key: string;
  /** The grant id the record linked to when it validated (`undefined`: none, or not yet seen). */
  grantId: string | undefined;
  grantKey: string | undefined;
  /** The token record's handle; its `derived` slot holds the record as this token opened it. */
  record: Held | undefined;
  /** The grant record's handle; `null` when the record links to no grant. */
  grant: Held | null | undefined;
  /** When the entry last refreshed its place in the recency order (epoch ms). */
  touchedAt: number;
}

/**
 * Hot access tokens, by the token (see {@link HotToken}).
 *
 * Why: with many distinct tokens, a validation's cost was memory, not instructions: between two
 * requests the HTTP work evicts from the CPU caches what a validation touches, and each of the
 * digest memo, the token record, the grant record and the decoded record was a lookup of its own
 * (about 8 µs per validation in a server against 1.9 µs in a tight loop). Here a validation of a
 * hot token is one lookup and two handle checks (`CacheStore.stillHolds`), which the store answers
 * from the handles exactly as a read would: a deleted, replaced, evicted, expired or stale record
 * is not held, so revocation is seen at once, as before.
 *
 * Only tokens that validated are remembered: made-up tokens cannot push the hot ones out. It holds
 * raw tokens in process memory for as long as they are hot, and the decoded records (1C
 * credentials included) hang on the store's handles, which drop them with the record: nothing
 * reaches a store, and a revoked token's record leaves memory when the store deletes it.
 */
export class HotTokens {
  readonly #tokens: LRUCache<string, HotToken>;

  constructor(max: number) {
    this.#tokens = new LRUCache<string, HotToken>({ max: Math.max(1, max) });
  }

  /**
   * The entry of `token`, or `undefined` (compute its keys, then {@link remember}). The recency
   * order is refreshed once per {@link RECENCY_REFRESH_MS} per token, as the stores do: a full LRU
   * update on every call was about 40 % of a hot validation's profiled time.
   */
  recall(token: string): HotToken | undefined {
    const entry = this.#tokens.peek(token);
    if (entry === undefined) return undefined;
    const now = Date.now();
    if (now - entry.touchedAt >= RECENCY_REFRESH_MS) {
      entry.touchedAt = now;
      this.#tokens.get(token);
    }
    return entry;
  }

  /** Keep the entry of a token that just validated. */
  remember(token: string, entry: HotToken): void {
    this.#tokens.set(token, entry);
  }
}

/**
 * The record `entry` remembers for its token, when the store still holds both the token's record
 * and its grant exactly as they were read then; `undefined` otherwise (read the store).
 */
export function heldRecord(entry: HotToken, store: CacheStore): DecodedRecord | undefined {
  const { record, grant } = entry;
  if (record === undefined || grant === undefined || store.stillHolds === undefined) return undefined;
  const decoded = record.derived as DecodedRecord | undefined;
  if (decoded === undefined || !store.stillHolds(record)) return undefined;
  if (grant !== null && !store.stillHolds(grant)) return undefined;
  return decoded;
}

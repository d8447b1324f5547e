import { LRUCache } from 'lru-cache';

/**
 * A token's digest and the store key derived from it, and the grant its record links to with that
 * grant's store key (flat strings, hashed once by the engine: building the grant's key and hashing
 * it anew was about a third of a validation held in process).
 */
export interface TokenKeys {
  id: string;
  key: string;
  /** The grant id the record linked to when it validated (`undefined`: none, or not yet seen). */
  grantId: string | undefined;
  grantKey: string | undefined;
}

/**
 * Digests (and store keys) of recently validated access tokens, by the token: the keyed digest is
 * the largest CPU cost of a validation that the memos above the store answer (about half of it),
 * and the digest of a string never changes, so a remembered one is always exact and needs no
 * invalidation.
 *
 * Only tokens that validated are remembered (`remember` after a hit): made-up tokens cannot push
 * the hot ones out. It holds raw tokens in process memory for as long as they are hot, next to the
 * validation memo, which holds their decoded records (1C credentials included) already: it adds
 * nothing a reader of this process's memory could not take anyway, and nothing reaches a store.
 */
export class DigestMemo {
  readonly #keys: LRUCache<string, TokenKeys>;

  constructor(max: number) {
    this.#keys = new LRUCache<string, TokenKeys>({ max: Math.max(1, max) });
  }

  /** The remembered keys of `token`, or `undefined` (compute them, then {@link remember}). */
  recall(token: string): TokenKeys | undefined {
    return this.#keys.get(token);
  }

  /** Keep the keys of a token that just validated. */
  remember(token: string, keys: TokenKeys): void {
    this.#keys.set(token, keys);
  }
}

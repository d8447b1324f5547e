import type { CacheContext } from './context.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys } from './records/keys.js';
import { type TokenService, toValidation } from './token-service.js';
import type { StoredTokenInfo, TokenValidation } from './types.js';

/** What a retry of a consumed refresh token may do next (decided by {@link RefreshRetry.claim}). */
export type RetryClaim =
  /** The pair the first rotation issued is revoked: issue a new one from `previous`. */
  | {
      kind: 'replace';
      /** The consumed token's record as the first rotation saw it (metadata to carry over). */
      consumed: DecodedRecord;
      previous: TokenValidation;
      familyId: string;
      retrievable: boolean;
      /** When the first rotation happened: the leeway still counts from there. */
      at: number;
    }
  /** The first rotation (or a concurrent retry) has not finished: one winner, the family is kept. */
  | { kind: 'race' }
  /** The pair the first rotation issued has been used: the presentation is reuse. */
  | { kind: 'reused'; reason: 'new_pair_used' }
  | { kind: 'family_revoked' };

/**
 * Retry-safe rotation (RFC 9700 §4.14.2): a client that lost the `/token` response presents the
 * same refresh token again. Within `reuseLeewayMs` of the rotation, from the same client, and while
 * the pair that rotation issued is unused, the retry gets a new pair and the missed one is revoked.
 *
 * When a rotation completes, a short-lived retry record `rr:<digest>` (TTL: the rest of the leeway)
 * keeps the ids of the pair it issued and the metadata it carried over, the private part (1C
 * credentials) sealed under the consumed token, so only its holder can retry. Raw tokens are
 * never kept: the missed pair cannot be handed out again, only replaced.
 *
 * A retry claims the missed pair by taking its refresh token record with the store's atomic `take`
 * (its access token when it had none): of concurrent retries exactly one wins, across processes.
 * The missed refresh token is then marked consumed with `via` (presenting it later is reuse).
 * "Used" is judged by the refresh token only: rotated (its normal consumed marker exists) means
 * used. Access token validations are not tracked: the validation hot path stays write-free.
 */
export class RefreshRetry {
  readonly #ctx: CacheContext;
  readonly #tokens: TokenService;

  constructor(ctx: CacheContext, tokens: TokenService) {
    this.#ctx = ctx;
    this.#tokens = tokens;
  }

  /**
   * Record, once a rotation of `presented` (digest `id`) at `at` has issued `info`, what a retry
   * within the leeway needs. `consumed` is the consumed token's record (decoded with the token).
   */
  async remember(
    id: string,
    presented: string,
    consumed: DecodedRecord,
    at: number,
    info: StoredTokenInfo,
  ): Promise<void> {
    const ctx = this.#ctx;
    const until = at + ctx.config.reuseLeewayMs;
    const ttlMs = until - ctx.now();
    if (ttlMs <= 0) return;
    const { tok: _rawToken, ...carried } = consumed.body;
    const key = ctx.key(Keys.retry(id));
    const body = {
      ...carried,
      uh: this.#tokens.userHashOf(consumed),
      at,
      rex: consumed.exp,
      nat: info.accessTokenId,
      nrt: info.refreshTokenId,
    };
    await ctx.store.set(key, ctx.codec.encode(key, 'consumed', until, body, presented), ttlMs);
  }

  /**
   * Claim the pair the last rotation (or retry) of `presented` issued. The caller has checked the
   * leeway and the client; this settles the rest.
   */
  async claim(id: string, presented: string): Promise<RetryClaim> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const key = ctx.key(Keys.retry(id));
    const pending = this.#tokens.decodeRecord(key, await ctx.store.get(key), presented);
    // No retry record yet: the first rotation is still issuing (a truly concurrent duplicate).
    if (pending?.kind !== 'consumed' || pending.exp <= now) return { kind: 'race' };
    const { nat, nrt, fam, rex, at } = pending.body;
    const familyId = fam ?? '';
    const claimKey =
      nrt !== undefined
        ? ctx.key(Keys.refresh(nrt))
        : nat !== undefined
          ? ctx.key(Keys.access(nat))
          : undefined;
    if (claimKey === undefined) return { kind: 'race' };
    const claimed = this.#tokens.decodeRecord(claimKey, await ctx.store.take(claimKey));
    if (claimed === undefined || claimed.exp <= now) return this.#notClaimed(id, nrt, familyId);

    if (nrt !== undefined) {
      const markerKey = ctx.key(Keys.consumed(nrt));
      const uh = pending.body.uh;
      // Never delivered, now consumed by this retry. No user id: at `maximum` it is sealed under
      // a token we do not hold, and the server's keys must not open it.
      await ctx.store.set(
        markerKey,
        ctx.codec.encode(markerKey, 'consumed', claimed.exp, {
          fam: familyId,
          uh,
          cid: pending.body.cid,
          at: now,
          via: id,
        }),
        Math.max(1, claimed.exp - now),
      );
      await this.#tokens.unindexToken(claimed, nrt);
    }
    if (nat !== undefined) await this.#tokens.revokeTokenById(nat);
    if (await this.#tokens.isFamilyRevoked(familyId)) return { kind: 'family_revoked' };

    const consumed: DecodedRecord = { kind: 'refresh', exp: rex ?? pending.exp, body: pending.body };
    return {
      kind: 'replace',
      consumed,
      previous: toValidation(consumed, now, ctx.config.refreshThreshold),
      familyId,
      retrievable: claimed.body.tok !== undefined,
      at: at ?? now,
    };
  }

  /** Someone else has the missed pair's refresh token: its holder rotated it, or a retry did. */
  async #notClaimed(id: string, nrt: string | undefined, familyId: string): Promise<RetryClaim> {
    const ctx = this.#ctx;
    if (nrt !== undefined) {
      const markerKey = ctx.key(Keys.consumed(nrt));
      const marker = this.#tokens.decodeRecord(markerKey, await ctx.store.get(markerKey));
      if (marker?.kind === 'consumed') {
        return marker.body.via === id ? { kind: 'race' } : { kind: 'reused', reason: 'new_pair_used' };
      }
    }
    if (await this.#tokens.isFamilyRevoked(familyId)) return { kind: 'family_revoked' };
    // Taken by a concurrent retry that has not written its marker yet (or evicted): one winner.
    return { kind: 'race' };
  }
}

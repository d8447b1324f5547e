import type { CacheContext } from './context.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys } from './records/keys.js';
import type { Precondition, TxOp } from './store/contract.js';
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
      /** Commit with the new pair: the missed pair is still there (one winner among retries)... */
      require: Precondition[];
      /** ...and these take it out (records, indexes, the reuse marker of its refresh token). */
      ops: TxOp[];
      /** Live tokens those ops delete. */
      freed: number;
      /** Id of the missed refresh token, when the pair had one. */
      missedRefresh: string | undefined;
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
 * A rotation commits, with the new pair, a short-lived retry record `rr:<digest>` (TTL: the rest
 * of the leeway) that keeps the ids of the pair it issued and the metadata it carried over, the private part (1C
 * credentials) sealed under the consumed token, so only its holder can retry. Raw tokens are
 * never kept: the missed pair cannot be handed out again, only replaced.
 *
 * A retry takes the missed pair out in the same commit that writes its replacement, under the
 * precondition that the missed refresh token (its access token when it had none) is still there:
 * of concurrent retries exactly one wins, across processes. The missed refresh token is marked
 * consumed with `via` (presenting it later is reuse).
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
   * The write that records, for a rotation of `presented` (digest `id`) at `at` issuing `info`,
   * what a retry within the leeway needs: committed with the rotation itself. `consumed` is the
   * consumed token's record (decoded with the token). None once the leeway is over.
   */
  rememberOp(
    id: string,
    presented: string,
    consumed: DecodedRecord,
    at: number,
    info: StoredTokenInfo,
  ): TxOp | undefined {
    const ctx = this.#ctx;
    const until = at + ctx.config.reuseLeewayMs;
    const ttlMs = until - ctx.now();
    if (ttlMs <= 0) return undefined;
    const { tok: _rawToken, ...carried } = consumed.body;
    const key = ctx.key(Keys.retry(id));
    const grantKey = consumed.grant?.key;
    const body = {
      ...carried,
      uh: this.#tokens.userHashOf(consumed),
      at,
      rex: consumed.exp,
      nat: info.accessTokenId,
      nrt: info.refreshTokenId,
      // Sealed for the presented token's holder with the rest of the private part: the retry
      // wraps the grant's key for its replacement pair.
      ...(grantKey !== undefined ? { gk: grantKey.toString('base64url') } : {}),
    };
    return { op: 'set', key, value: ctx.codec.encode(key, 'consumed', until, body, presented), ttlMs };
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
    // The missed pair, read together; taken out in the commit that issues its replacement.
    const missed = [
      ...(nrt !== undefined ? [{ id: nrt, key: ctx.key(Keys.refresh(nrt)) }] : []),
      ...(nat !== undefined ? [{ id: nat, key: ctx.key(Keys.access(nat)) }] : []),
    ];
    const records = await this.#tokens.readRecords(
      missed.map((m) => m.key),
      [familyId],
    );
    const claimed = records[0];
    if (claimed === undefined || claimed.exp <= now) return this.notClaimed(id, nrt, familyId);

    const ops: TxOp[] = [{ op: 'delete', keys: missed.map((m) => m.key) }];
    missed.forEach((m, i) => {
      const record = records[i];
      if (record) ops.push(...this.#tokens.revocations.unindexOps(record, m.id));
    });
    if (nrt !== undefined) {
      const markerKey = ctx.key(Keys.consumed(nrt));
      // Never delivered, now consumed by this retry. No user id: at `maximum` it is sealed under
      // a token we do not hold, and the server's keys must not open it.
      ops.push({
        op: 'set',
        key: markerKey,
        value: ctx.codec.encode(markerKey, 'consumed', claimed.exp, {
          fam: familyId,
          uh: pending.body.uh,
          cid: pending.body.cid,
          at: now,
          via: id,
        }),
        ttlMs: Math.max(1, claimed.exp - now),
      });
    }

    const { gk, ...carried } = pending.body;
    const grantKey = ctx.codec.grantKeyFrom(gk);
    const consumed: DecodedRecord = {
      kind: 'refresh',
      exp: rex ?? pending.exp,
      body: carried,
      // Without the key (a retry record of the previous release) the replacement gets a new grant.
      ...(claimed.grant !== undefined && grantKey !== undefined
        ? { grant: { ...claimed.grant, key: grantKey } }
        : {}),
    };
    return {
      kind: 'replace',
      consumed,
      previous: toValidation(consumed, now, ctx.config.refreshThreshold),
      familyId,
      retrievable: claimed.body.tok !== undefined,
      at: at ?? now,
      require: [{ if: 'present', key: missed[0]!.key }],
      ops,
      freed: records.filter((r) => r !== undefined && r.exp > now).length,
      missedRefresh: nrt,
    };
  }

  /**
   * Someone else has the missed pair's refresh token: its holder rotated it (reuse), or a
   * concurrent retry did (a race). Also settles a claim whose commit found the pair gone.
   */
  async notClaimed(id: string, nrt: string | undefined, familyId: string): Promise<RetryClaim> {
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

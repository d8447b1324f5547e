import type { CacheContext } from './context.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys } from './records/keys.js';
import { grantIdOf, type Precondition, type TxOp } from './store/contract.js';
import { type TokenService, toValidation } from './token-service.js';
import type { StoredTokenInfo, TokenValidation } from './types.js';

/** What a retry record keeps of the rotation it follows. */
interface RetryFields {
  /** When the rotation happened (the leeway counts from there). */
  at?: number;
  /** The consumed refresh token's own expiry. */
  rex?: number;
  /** Digests of the access and refresh token the rotation issued. */
  nat?: string;
  nrt?: string;
}

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
 * of the leeway) that keeps the ids of the pair it issued and what the consumed token held of its
 * own. It links to the grant as the consumed token did, the grant's key wrapped under that token,
 * so only its holder can retry, and the 1C credentials stay in the grant alone. Raw tokens are
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
    const key = ctx.key(Keys.retry(id));
    const retry: RetryFields = { at, rex: consumed.exp, nat: info.accessTokenId, nrt: info.refreshTokenId };
    const grant = consumed.grant;
    if (grant !== undefined) {
      // Linked to the grant as the consumed token was, its key wrapped for the presented token:
      // the credentials stay in the grant alone. The retry's own fields ride in `data`.
      const b = consumed.body;
      const own = { scp: b.scp, typ: b.typ, iat: b.iat, rot: b.rot, data: retry };
      const value = ctx.codec.encodeLinked(
        key,
        'consumed',
        until,
        { id: grant.id, key: grant.key },
        own,
        presented,
      );
      return { op: 'set', key, value, ttlMs };
    }
    // A consumed token that held everything itself: so does its retry record.
    const { tok: _rawToken, ...carried } = consumed.body;
    const body = { ...carried, uh: this.#tokens.userHashOf(consumed), ...retry };
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
    const [value, grant] = await this.#tokens.readWithGrant(key);
    const link = grantIdOf(value);
    // The grant went since the rotation: revoked, or a race with a revocation.
    if (link !== undefined && grant === undefined) return this.notClaimed(id, undefined, link);
    const pending = this.#tokens.decodeRecord(key, value, presented, grant);
    // No retry record yet: the first rotation is still issuing (a truly concurrent duplicate).
    if (pending?.kind !== 'consumed' || pending.exp <= now) return { kind: 'race' };
    const { data: linkedRetry, ...carried } = pending.body;
    const { nat, nrt, rex, at } = (pending.grant !== undefined ? linkedRetry : pending.body) as RetryFields;
    const familyId = pending.body.fam ?? '';
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

    const grantKey = pending.grant?.key;
    const consumed: DecodedRecord = {
      kind: 'refresh',
      exp: rex ?? pending.exp,
      body: carried,
      // The replacement pair joins the grant with the key the presented token unwrapped. A retry
      // record that held everything itself (or one of the previous release) has none: the pair
      // then starts a grant or holds everything itself (`newGrantGuard`).
      ...(claimed.grant !== undefined && pending.grant !== undefined
        ? { grant: grantKey !== undefined ? { ...claimed.grant, key: grantKey } : claimed.grant }
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

import type { CacheContext } from './context.js';
import { InvalidGrantError } from './errors.js';
import { assertToken } from './limits.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys } from './records/keys.js';
import { RefreshRetry } from './refresh-retry.js';
import { randomToken, type TokenService, toValidation } from './token-service.js';
import type { IssuedTokens, RotateOptions, RotationResult, TokenValidation } from './types.js';

/** Why a consumed refresh token's presentation is reuse (the `reason` of `reuse_detected`). */
type ReuseReason = 'after_leeway' | 'other_client' | 'new_pair_used' | 'replaced_by_retry';

/**
 * Refresh token rotation with reuse detection (node-oidc-provider, fosite).
 *
 * The presented token's record is taken with the store's atomic `take`, so among concurrent
 * rotations of one token exactly one caller gets it, across processes on a shared store. The winner
 * leaves a `consumed` marker; a later presentation finds the marker and revokes the whole family.
 *
 * Within `reuseLeewayMs` of the rotation, from the same client, a presentation is a retry
 * (RFC 9700 §4.14.2, see {@link RefreshRetry}): while the rotation is still issuing it is refused
 * with `race` (one winner, family kept); once it has issued, the retry gets a new pair and the pair
 * it missed is revoked, unless that pair's refresh token was used (then: reuse). Another client, or
 * a presentation after the leeway, is reuse.
 */
export class RefreshRotation {
  readonly #ctx: CacheContext;
  readonly #tokens: TokenService;
  readonly #retry: RefreshRetry;

  constructor(ctx: CacheContext, tokens: TokenService) {
    this.#ctx = ctx;
    this.#tokens = tokens;
    this.#retry = new RefreshRetry(ctx, tokens);
  }

  async rotate(refreshToken: string, options: RotateOptions = {}): Promise<RotationResult> {
    const ctx = this.#ctx;
    const started = performance.now();
    assertToken(refreshToken, 'refreshToken');
    const id = ctx.digester.digest(refreshToken);
    const key = ctx.key(Keys.refresh(id));
    const now = ctx.now();

    // Read before taking: a client mismatch must not consume the legitimate client's token.
    const peeked = this.#tokens.decodeRecord(key, await ctx.store.get(key), refreshToken);
    if (peeked && peeked.kind === 'refresh' && peeked.exp > now) {
      if (
        options.clientId !== undefined &&
        peeked.body.cid !== undefined &&
        peeked.body.cid !== options.clientId
      ) {
        ctx.security({
          type: 'client_mismatch',
          familyId: peeked.body.fam,
          ...presenter(options),
          tokenId: id.slice(0, 12),
        });
        ctx.operation('token', 'rotate', 'mismatch', started);
        throw new InvalidGrantError('mismatch', 'the refresh token was issued to another client');
      }
      // Judged before taking, too: a rotation refused for a full cache (`CapacityError`) leaves
      // the client its refresh token to retry with. It writes two tokens and consumes one.
      await this.#tokens.assertRoom(1, { userId: peeked.body.uid, familyId: peeked.body.fam });
    }

    const taken = this.#tokens.decodeRecord(key, await ctx.store.take(key), refreshToken);
    if (taken?.kind !== 'refresh' || taken.exp <= now) {
      return this.#refuse(id, refreshToken, options, started);
    }
    const familyId = taken.body.fam ?? '';
    const consumedKey = ctx.key(Keys.consumed(id));
    await ctx.store.set(
      consumedKey,
      ctx.codec.encode(
        consumedKey,
        'consumed',
        taken.exp,
        {
          fam: familyId,
          uid: taken.body.uid,
          uh: this.#tokens.userHashOf(taken),
          cid: taken.body.cid,
          at: now,
        },
        refreshToken,
      ),
      Math.max(1, taken.exp - now),
    );
    await this.#tokens.unindexToken(taken, id);
    if (await this.#tokens.isFamilyRevoked(familyId)) {
      ctx.operation('token', 'rotate', 'family_revoked', started);
      throw new InvalidGrantError('family_revoked', 'the grant of this refresh token has been revoked');
    }

    const previous = toValidation(taken, now, ctx.config.refreshThreshold);
    const result = await this.#issue(previous, familyId, taken, taken.body.tok !== undefined, options);
    await this.#retry.remember(id, refreshToken, taken, now, result.info);
    ctx.counters.tokens.rotations += 1;
    ctx.operation('token', 'rotate', 'ok', started);
    return result;
  }

  /** Issue and store the next pair of `familyId` (rotation counter: the consumed token's + 1). */
  async #issue(
    previous: TokenValidation,
    familyId: string,
    consumed: DecodedRecord,
    retrievable: boolean,
    options: RotateOptions,
  ): Promise<RotationResult> {
    const ctx = this.#ctx;
    const issued: IssuedTokens = options.issue
      ? await options.issue(previous)
      : { accessToken: randomToken(), refreshToken: randomToken() };
    const expiresIn = issued.expiresIn ?? ctx.config.tokenTtl;
    const scopes = issued.scopes ?? previous.scopes;
    const info = await this.#tokens.storeToken(
      {
        userId: previous.userId,
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        tokenType: issued.tokenType ?? previous.tokenType,
        expiresIn,
        refreshExpiresIn: issued.refreshExpiresIn,
        scopes,
        clientId: previous.clientId,
        resource: previous.resource,
        sessionId: previous.sessionId,
        userData: previous.userData,
        familyId,
        retrievable,
      },
      { rot: (consumed.body.rot ?? 0) + 1 },
    );
    // A reuse detected elsewhere while we were issuing revoked the family: what we just wrote
    // must not outlive it.
    if (await this.#tokens.isFamilyRevoked(familyId)) {
      await this.#tokens.revokeFamily(familyId, 'revoked_during_rotation');
      throw new InvalidGrantError('family_revoked', 'the grant of this refresh token has been revoked');
    }
    return {
      tokens: { ...issued, expiresIn, tokenType: issued.tokenType ?? previous.tokenType, scopes },
      info,
      previous,
    };
  }

  /** A refresh token that is not live: unknown, a retry, a concurrent duplicate, or reuse. */
  async #refuse(
    id: string,
    refreshToken: string,
    options: RotateOptions,
    started: number,
  ): Promise<RotationResult> {
    const ctx = this.#ctx;
    const consumedKey = ctx.key(Keys.consumed(id));
    const consumed = this.#tokens.decodeRecord(consumedKey, await ctx.store.get(consumedKey), refreshToken);
    if (consumed?.kind !== 'consumed') {
      ctx.operation('token', 'rotate', 'unknown', started);
      throw new InvalidGrantError('unknown', 'the refresh token is invalid, expired or revoked');
    }
    if (consumed.body.via !== undefined)
      return this.#reused(id, consumed, options, 'replaced_by_retry', started);
    if (
      options.clientId !== undefined &&
      consumed.body.cid !== undefined &&
      consumed.body.cid !== options.clientId
    ) {
      return this.#reused(id, consumed, options, 'other_client', started);
    }
    if (ctx.now() - (consumed.body.at ?? 0) >= ctx.config.reuseLeewayMs) {
      return this.#reused(id, consumed, options, 'after_leeway', started);
    }
    const familyId = consumed.body.fam ?? '';
    const claim = await this.#retry.claim(id, refreshToken);
    switch (claim.kind) {
      case 'reused':
        return this.#reused(id, consumed, options, claim.reason, started);
      case 'family_revoked':
        ctx.operation('token', 'rotate', 'family_revoked', started);
        throw new InvalidGrantError('family_revoked', 'the grant of this refresh token has been revoked');
      case 'race':
        ctx.security({
          type: 'refresh_race',
          familyId,
          userId: consumed.body.uid,
          ...presenter(options),
          tokenId: id.slice(0, 12),
        });
        ctx.operation('token', 'rotate', 'race', started);
        throw new InvalidGrantError('race', 'the refresh token was just rotated by a concurrent request');
    }
    const result = await this.#issue(
      claim.previous,
      claim.familyId,
      claim.consumed,
      claim.retrievable,
      options,
    );
    await this.#retry.remember(id, refreshToken, claim.consumed, claim.at, result.info);
    ctx.counters.tokens.rotations += 1;
    ctx.security({
      type: 'refresh_retry',
      familyId,
      userId: consumed.body.uid,
      ...presenter(options),
      tokenId: id.slice(0, 12),
      reason: 'the pair issued by the first rotation was replaced',
    });
    ctx.operation('token', 'rotate', 'retried', started);
    return result;
  }

  /** Reuse of a consumed refresh token: the whole family is revoked. */
  async #reused(
    id: string,
    consumed: DecodedRecord,
    options: RotateOptions,
    reason: ReuseReason,
    started: number,
  ): Promise<never> {
    const ctx = this.#ctx;
    const familyId = consumed.body.fam ?? '';
    ctx.counters.security.reuseDetected += 1;
    ctx.security({
      type: 'reuse_detected',
      familyId,
      userId: consumed.body.uid,
      ...presenter(options),
      tokenId: id.slice(0, 12),
      reason,
    });
    await this.#tokens.revokeFamily(familyId, 'reuse_detected');
    ctx.operation('token', 'rotate', 'reused', started);
    throw new InvalidGrantError('reused', 'the refresh token was already used; its grant has been revoked');
  }
}

/** Who presented the token, for security events (only the fields given). */
function presenter(options: RotateOptions): { clientId?: string; clientAddress?: string } {
  return {
    ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
    ...(options.clientAddress !== undefined ? { clientAddress: options.clientAddress } : {}),
  };
}

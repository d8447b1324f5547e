import type { CacheContext } from './context.js';
import { InvalidGrantError } from './errors.js';
import { assertToken } from './limits.js';
import { randomToken, type TokenService, toValidation } from './token-service.js';
import type { IssuedTokens, RotateOptions, RotationResult } from './types.js';

/**
 * Refresh token rotation with reuse detection (node-oidc-provider, fosite).
 *
 * The presented token's record is taken with the store's atomic `take`, so among concurrent
 * rotations of one token exactly one caller gets it, across processes on a shared store. The winner
 * leaves a `consumed` marker; a later presentation finds the marker and revokes the whole family.
 * A presentation within `reuseLeewayMs` of the rotation is a concurrent retry of the same client
 * (two tabs, a retried request): it is refused with `race` and the family is kept.
 */
export class RefreshRotation {
  readonly #ctx: CacheContext;
  readonly #tokens: TokenService;

  constructor(ctx: CacheContext, tokens: TokenService) {
    this.#ctx = ctx;
    this.#tokens = tokens;
  }

  async rotate(refreshToken: string, options: RotateOptions = {}): Promise<RotationResult> {
    const ctx = this.#ctx;
    const started = performance.now();
    assertToken(refreshToken, 'refreshToken');
    const id = ctx.digester.digest(refreshToken);
    const key = ctx.key(`rt:${id}`);
    const now = ctx.now();

    // Read before taking: a client mismatch must not consume the legitimate client's token.
    const peeked = this.#tokens.decodeRecord(key, await ctx.store.get(key));
    if (peeked && peeked.kind === 'refresh' && peeked.exp > now) {
      if (
        options.clientId !== undefined &&
        peeked.body.cid !== undefined &&
        peeked.body.cid !== options.clientId
      ) {
        ctx.security({
          type: 'client_mismatch',
          familyId: peeked.body.fam,
          clientId: options.clientId,
          tokenId: id.slice(0, 12),
        });
        ctx.operation('token', 'rotate', 'mismatch', started);
        throw new InvalidGrantError('mismatch', 'the refresh token was issued to another client');
      }
    }

    const taken = this.#tokens.decodeRecord(key, await ctx.store.take(key));
    if (taken?.kind !== 'refresh' || taken.exp <= now) {
      return this.#refuse(id, started);
    }
    const familyId = taken.body.fam ?? '';
    const consumedKey = ctx.key(`rc:${id}`);
    await ctx.store.set(
      consumedKey,
      ctx.codec.encode(consumedKey, 'consumed', taken.exp, { fam: familyId, uid: taken.body.uid, at: now }),
      Math.max(1, taken.exp - now),
    );
    await ctx.store.indexRemove(ctx.key(`ix:f:${familyId}`), [`r:${id}`]);
    await ctx.store.indexRemove(ctx.key('ix:tokens'), [`r:${id}`]);
    if (taken.body.uid)
      await ctx.store.indexRemove(ctx.key(`ix:u:${ctx.userHash(taken.body.uid)}`), [`r:${id}`]);
    if (await this.#tokens.isFamilyRevoked(familyId)) {
      ctx.operation('token', 'rotate', 'family_revoked', started);
      throw new InvalidGrantError('family_revoked', 'the grant of this refresh token has been revoked');
    }

    const previous = toValidation(taken, now, ctx.config.refreshThreshold);
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
        retrievable: taken.body.tok !== undefined,
      },
      { rot: (taken.body.rot ?? 0) + 1 },
    );
    // A reuse detected elsewhere while we were issuing revoked the family: what we just wrote
    // must not outlive it.
    if (await this.#tokens.isFamilyRevoked(familyId)) {
      await this.#tokens.revokeFamily(familyId, 'revoked_during_rotation');
      throw new InvalidGrantError('family_revoked', 'the grant of this refresh token has been revoked');
    }
    ctx.counters.tokens.rotations += 1;
    ctx.operation('token', 'rotate', 'ok', started);
    return {
      tokens: { ...issued, expiresIn, tokenType: issued.tokenType ?? previous.tokenType, scopes },
      info,
      previous,
    };
  }

  async #refuse(id: string, started: number): Promise<never> {
    const ctx = this.#ctx;
    const consumedKey = ctx.key(`rc:${id}`);
    const consumed = this.#tokens.decodeRecord(consumedKey, await ctx.store.get(consumedKey));
    if (consumed?.kind !== 'consumed') {
      ctx.operation('token', 'rotate', 'unknown', started);
      throw new InvalidGrantError('unknown', 'the refresh token is invalid, expired or revoked');
    }
    const familyId = consumed.body.fam ?? '';
    const sinceRotation = ctx.now() - (consumed.body.at ?? 0);
    if (sinceRotation < ctx.config.reuseLeewayMs) {
      ctx.security({ type: 'refresh_race', familyId, userId: consumed.body.uid, tokenId: id.slice(0, 12) });
      ctx.operation('token', 'rotate', 'race', started);
      throw new InvalidGrantError('race', 'the refresh token was just rotated by a concurrent request');
    }
    ctx.counters.security.reuseDetected += 1;
    ctx.security({ type: 'reuse_detected', familyId, userId: consumed.body.uid, tokenId: id.slice(0, 12) });
    await this.#tokens.revokeFamily(familyId, 'reuse_detected');
    ctx.operation('token', 'rotate', 'reused', started);
    throw new InvalidGrantError('reused', 'the refresh token was already used; its grant has been revoked');
  }
}

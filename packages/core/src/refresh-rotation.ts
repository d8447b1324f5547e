import type { CacheContext } from './context.js';
import { InvalidGrantError } from './errors.js';
import { assertToken } from './limits.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys } from './records/keys.js';
import { RefreshRetry } from './refresh-retry.js';
import type { Precondition, TxOp } from './store/contract.js';
import { randomToken, type TokenService, toValidation } from './token-service.js';
import type { IssuedTokens, RotateOptions, RotationResult, TokenValidation } from './types.js';

/** Why a consumed refresh token's presentation is reuse (the `reason` of `reuse_detected`). */
type ReuseReason = 'after_leeway' | 'other_client' | 'new_pair_used' | 'replaced_by_retry';

/**
 * Refresh token rotation with reuse detection (node-oidc-provider, fosite).
 *
 * A rotation is one read and one store commit. The commit consumes the presented token only if it
 * is still there, so among concurrent rotations of one token exactly one commits, across processes
 * on a shared store; the others, which also found it live, are refused with `race` (one winner,
 * family kept). The winner's commit leaves a `consumed` marker with the new pair; a later
 * presentation finds the marker and revokes the whole family.
 *
 * Within `reuseLeewayMs` of the rotation, from the same client, a later presentation is a retry
 * (RFC 9700 §4.14.2, see {@link RefreshRetry}): it gets a new pair and the pair it missed is
 * revoked in the same commit, unless that pair's refresh token was used (then: reuse). Another
 * client, or a presentation after the leeway, is reuse.
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

  /**
   * One read (the presented token's record), then ONE commit that consumes it (present, else a
   * concurrent rotation won), checks the family is not revoked and the cache has room, and writes
   * the new pair, the reuse marker and the retry record together.
   */
  async rotate(refreshToken: string, options: RotateOptions = {}): Promise<RotationResult> {
    const ctx = this.#ctx;
    const started = performance.now();
    assertToken(refreshToken, 'refreshToken');
    const id = ctx.digester.digest(refreshToken);
    const key = ctx.key(Keys.refresh(id));
    const now = ctx.now();

    const presented = await this.#tokens.readRecord(key, refreshToken);
    if (presented?.kind !== 'refresh' || presented.exp <= now) {
      return this.#refuse(id, refreshToken, options, started);
    }
    // Judged before anything is consumed: a mismatch must not cost the legitimate client its token.
    if (
      options.clientId !== undefined &&
      presented.body.cid !== undefined &&
      presented.body.cid !== options.clientId
    ) {
      ctx.security({
        type: 'client_mismatch',
        familyId: presented.body.fam,
        ...presenter(options),
        tokenId: id.slice(0, 12),
      });
      ctx.operation('token', 'rotate', 'mismatch', started);
      throw new InvalidGrantError('mismatch', 'the refresh token was issued to another client');
    }
    const familyId = presented.body.fam ?? '';
    const consumedKey = ctx.key(Keys.consumed(id));
    const consumption: TxOp[] = [
      { op: 'delete', keys: [key] },
      {
        op: 'set',
        key: consumedKey,
        value: ctx.codec.encode(
          consumedKey,
          'consumed',
          presented.exp,
          {
            fam: familyId,
            uid: presented.body.uid,
            uh: this.#tokens.userHashOf(presented),
            cid: presented.body.cid,
            at: now,
          },
          refreshToken,
        ),
        ttlMs: Math.max(1, presented.exp - now),
      },
      ...this.#tokens.revocations.unindexOps(presented, id),
    ];
    const outcome = await this.#issue(
      toValidation(presented, now, ctx.config.refreshThreshold),
      familyId,
      presented,
      presented.body.tok !== undefined,
      options,
      {
        // One writes two tokens and consumes one.
        adding: 1,
        require: [{ if: 'present', key }],
        ops: consumption,
        remember: { id, presented: refreshToken, at: now },
      },
    );
    // Both saw the token live: a concurrent duplicate, not a retry. One winner, family kept.
    if (outcome === 'lost') return this.#race(id, familyId, presented.body.uid, options, started);
    ctx.counters.tokens.rotations += 1;
    ctx.operation('token', 'rotate', 'ok', started);
    return outcome;
  }

  /**
   * Issue the next pair of `familyId` (rotation counter: the consumed token's + 1) and commit it
   * with `with.ops` under `with.require`, the family not revoked and room for `with.adding` more
   * tokens. Resolves `'lost'` when one of `with.require` failed.
   */
  async #issue(
    previous: TokenValidation,
    familyId: string,
    consumed: DecodedRecord,
    retrievable: boolean,
    options: RotateOptions,
    commit: {
      adding: number;
      require: Precondition[];
      ops: TxOp[];
      remember: { id: string; presented: string; at: number };
    },
    selfContained = false,
  ): Promise<RotationResult | 'lost'> {
    const ctx = this.#ctx;
    // The new pair joins the consumed token's grant (wrapping its key). A consumed token that held
    // everything itself (an earlier format) starts a grant, guarded (`newGrantGuard`).
    const linking = consumed.grant?.key !== undefined;
    const rot = (consumed.body.rot ?? 0) + 1;
    const carried = linking
      ? { rot, grant: consumed.grant! }
      : selfContained
        ? { rot, selfContained: true as const }
        : { rot };
    const issued: IssuedTokens = options.issue
      ? await options.issue(previous)
      : { accessToken: randomToken(), refreshToken: randomToken() };
    const expiresIn = issued.expiresIn ?? ctx.config.tokenTtl;
    const scopes = issued.scopes ?? previous.scopes;
    const now = ctx.now();
    const ops = [...commit.ops];
    const info = this.#tokens.planIssue(
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
      carried,
      now,
      ops,
    );
    const { id, presented, at } = commit.remember;
    const remember = this.#retry.rememberOp(id, presented, consumed, at, info);
    if (remember) ops.push(remember);
    const require: Precondition[] = [
      ...commit.require,
      // A reuse detected elsewhere revoked the family: nothing may be written into it.
      { if: 'absent', key: ctx.key(Keys.familyRevoked(familyId)) },
      this.#tokens.caps.room(commit.adding),
    ];
    const guard = !linking && !selfContained ? this.#tokens.newGrantGuard(familyId) : undefined;
    if (guard) require.push(guard);
    const result = await ctx.store.commit({ now, require, ops });
    if (!result.ok) {
      const failed = require[result.failed]!;
      if (failed === guard) {
        return this.#issue(previous, familyId, consumed, retrievable, options, commit, true);
      }
      if (failed.if === 'absent') {
        ctx.operation('token', 'rotate', 'family_revoked', performance.now());
        throw new InvalidGrantError('family_revoked', 'the grant of this refresh token has been revoked');
      }
      if (failed.if === 'room') {
        // Nothing consumed: the client keeps its refresh token to retry with.
        return this.#tokens.caps.refuse(commit.adding, 'rotate', { userId: previous.userId, familyId });
      }
      return 'lost';
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
        return this.#race(id, familyId, consumed.body.uid, options, started);
    }
    const result = await this.#issue(
      claim.previous,
      claim.familyId,
      claim.consumed,
      claim.retrievable,
      options,
      {
        adding: 2 - claim.freed,
        require: claim.require,
        ops: claim.ops,
        remember: { id, presented: refreshToken, at: claim.at },
      },
    );
    if (result === 'lost') {
      // The missed pair went meanwhile: a concurrent retry (race) or its holder (reuse).
      const settled = await this.#retry.notClaimed(id, claim.missedRefresh, familyId);
      if (settled.kind === 'reused') return this.#reused(id, consumed, options, settled.reason, started);
      return this.#race(id, familyId, consumed.body.uid, options, started);
    }
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

  /** A concurrent presentation lost to another rotation of the same token: one winner, family kept. */
  #race(
    id: string,
    familyId: string,
    userId: string | undefined,
    options: RotateOptions,
    started: number,
  ): never {
    const ctx = this.#ctx;
    ctx.security({ type: 'refresh_race', familyId, userId, ...presenter(options), tokenId: id.slice(0, 12) });
    ctx.operation('token', 'rotate', 'race', started);
    throw new InvalidGrantError('race', 'the refresh token was just rotated by a concurrent request');
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

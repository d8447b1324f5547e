import type { SecurityEvent } from '../events.js';
import { Keys } from '../records/keys.js';
import type { DirectoryContext } from './context.js';
import type { OperatorActor } from './types.js';

/** The `reason` of an `operator_revoked` event: what was revoked. */
type OperatorRevocation = 'grant' | 'session' | 'user';

/** The reason of the `family_revoked` events an operator's revocation causes. */
const FAMILY_REASON = 'operator';

/**
 * What an operator revokes, each through the path the cache itself uses (the token service's
 * family and user revocations: one commit each, access tokens dropped from every L1 as any
 * revocation does; the session service's removal), then one `operator_revoked` event naming
 * the operator. Each checks first that what it is asked to revoke belongs to the user named.
 */
export class OperatorRevocations {
  readonly #dc: DirectoryContext;

  constructor(dc: DirectoryContext) {
    this.#dc = dc;
  }

  /** Revoke one grant of the user; resolves how many live tokens went (0: not that user's grant). */
  async grant(userHash: string, grantId: string, actor: OperatorActor): Promise<number> {
    const { ctx, tokens } = this.#dc;
    const grantsKey = ctx.key(Keys.userGrants(userHash));
    const grants = await ctx.store.indexRange(grantsKey, ctx.now());
    if (!grants.some((g) => g.member === grantId)) return 0;
    const revoked = await tokens.revokeFamily(grantId, FAMILY_REASON);
    // A grant whose tokens were already gone leaves no token to take it out of the index.
    if (revoked === 0) await ctx.store.indexRemove(grantsKey, [grantId]);
    this.#emit('grant', userHash, actor, { familyId: grantId });
    return revoked;
  }

  /** End one session of the user (and its tokens); `false` when it is not a live session of theirs. */
  async session(userHash: string, sessionRef: string, actor: OperatorActor): Promise<boolean> {
    const { ctx, sessions } = this.#dc;
    const live = await ctx.store.indexRange(ctx.key(Keys.userSessions(userHash)), ctx.now());
    if (!live.some((s) => s.member === sessionRef)) return false;
    const ended = await sessions.revokeByDigest(sessionRef);
    if (ended) this.#emit('session', userHash, actor);
    return ended;
  }

  /** Revoke every token and end every session of the user; resolves how many of both went. */
  async user(userHash: string, actor: OperatorActor): Promise<number> {
    const { ctx, tokens, sessions } = this.#dc;
    let removed = await tokens.revokeUserTokensByHash(userHash, FAMILY_REASON);
    const now = ctx.now();
    const live = await ctx.store.indexRange(ctx.key(Keys.userSessions(userHash)), now);
    const ended = await Promise.all(live.map((s) => sessions.revokeByDigest(s.member)));
    removed += ended.filter(Boolean).length;
    // Out of the listing too, unless something was added meanwhile (a login racing the revocation).
    const [grantsLeft, sessionsLeft] = await Promise.all([
      ctx.store.indexCount(ctx.key(Keys.userGrants(userHash)), now),
      ctx.store.indexCount(ctx.key(Keys.userSessions(userHash)), now),
    ]);
    if (grantsLeft === 0 && sessionsLeft === 0) await ctx.store.indexRemove(ctx.key(Keys.users), [userHash]);
    if (removed > 0) this.#emit('user', userHash, actor);
    return removed;
  }

  #emit(
    reason: OperatorRevocation,
    userHash: string,
    actor: OperatorActor,
    extra: Pick<SecurityEvent, 'familyId'> = {},
  ): void {
    const event: Omit<SecurityEvent, 'at'> = {
      type: 'operator_revoked',
      reason,
      userHash,
      actor: actor.operator,
      ...extra,
    };
    if (actor.address !== undefined) event.clientAddress = actor.address;
    this.#dc.ctx.security(event);
  }
}

import type { CacheContext } from './context.js';
import { CapacityError } from './errors.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys, recordKeyOfMember } from './records/keys.js';

/** One live grant (token family) of a user, as the per-user cap judges it. */
export interface UserGrant {
  familyId: string;
  /** Greatest issue time among the family's live tokens: its login, or its latest rotation. */
  issuedAt: number;
  /** Live tokens of the family in the user's index (what revoking it frees). */
  tokens: number;
}

/** One issuance, as {@link TokenCaps.admit} judges it. */
export interface Issuance {
  userId: string;
  familyId: string;
  /** The caller named the family: it is a new grant only when no live token of it exists. */
  explicitFamily: boolean;
  /** How many tokens the issuance writes. */
  adding: number;
}

/**
 * The two token caps. Neither can be turned against another user:
 *
 * - per user (`maxGrantsPerUser`): a new grant beyond it revokes the user's OWN oldest grant;
 * - global (`maxTokens`): a token that does not fit is refused with {@link CapacityError}; nothing
 *   is evicted (evicting the soonest-expiring tokens let one user's logins log everyone else out).
 *
 * "Oldest" is the grant whose newest live token was issued first, i.e. the least recently used
 * login (rotation re-issues), as the session cap evicts the least recently active session. Not
 * the earliest expiry: lifetimes are chosen per issuance (migrated tokens carry their old ones),
 * so a grant issued a moment ago with a short token would count as the oldest.
 *
 * Both checks read before they write and are not atomic with the write: N issuances racing at the
 * limit may overshoot it by up to N (tokens, or grants of one user). That is accepted: the
 * alternative is a store-wide lock on every login, and an overshoot is corrected by the next
 * issuance (the per-user cap revokes every grant beyond it) or by expiry; nothing is ever evicted.
 */
export class TokenCaps {
  readonly #ctx: CacheContext;
  readonly #decode: (key: string, value: unknown) => DecodedRecord | undefined;

  constructor(ctx: CacheContext, decode: (key: string, value: unknown) => DecodedRecord | undefined) {
    this.#ctx = ctx;
    this.#decode = decode;
  }

  /**
   * Judge one issuance before anything of it is written: resolves the user's grants to revoke so
   * it fits `maxGrantsPerUser` (none when the family exists already), or throws
   * {@link CapacityError} when it would take the cache above `maxTokens` even with those revoked.
   * Revokes nothing itself: the caller revokes, then writes.
   */
  async admit(issuance: Issuance, now: number): Promise<UserGrant[]> {
    const ctx = this.#ctx;
    const existing =
      issuance.explicitFamily &&
      (await ctx.store.indexCount(ctx.key(Keys.familyTokens(issuance.familyId)), now)) > 0;
    const victims = existing
      ? []
      : oldestBeyond(
          [...(await this.grantsOf(issuance.userId, now)).values()],
          ctx.config.maxGrantsPerUser - 1,
        );
    const freed = victims.reduce((sum, grant) => sum + grant.tokens, 0);
    await this.assertRoom(issuance.adding - freed, now, 'store', {
      userId: issuance.userId,
      familyId: issuance.familyId,
    });
    return victims;
  }

  /**
   * Throw {@link CapacityError} (with a `capacity_reached` security event and the `refused`
   * counter) when `adding` more live tokens would take the cache above `maxTokens`. One
   * `indexCount` of `ix:tokens`.
   */
  async assertRoom(
    adding: number,
    now: number,
    operation: string,
    subject: { userId?: string | undefined; familyId?: string | undefined } = {},
  ): Promise<void> {
    if (adding <= 0) return;
    const ctx = this.#ctx;
    const started = performance.now();
    const held = await ctx.store.indexCount(ctx.key(Keys.tokens), now);
    const max = ctx.config.maxTokens;
    if (held + adding <= max) return;
    ctx.counters.tokens.refused += 1;
    ctx.security({
      type: 'capacity_reached',
      ...(subject.userId !== undefined ? { userId: subject.userId } : {}),
      ...(subject.familyId !== undefined ? { familyId: subject.familyId } : {}),
      reason: `MAX_TOKEN_CACHE_SIZE (${max}) reached: ${held} live tokens, ${adding} more refused`,
    });
    ctx.operation('token', operation, 'refused', started);
    throw new CapacityError(
      `the token cache is full (MAX_TOKEN_CACHE_SIZE ${max}, ${held} live tokens): new tokens are refused until some expire or are revoked`,
    );
  }

  /** The user's live grants, by family id (read from the user index and the token records). */
  async grantsOf(userId: string, now: number): Promise<Map<string, UserGrant>> {
    const ctx = this.#ctx;
    const grants = new Map<string, UserGrant>();
    const entries = await ctx.store.indexRange(ctx.key(Keys.userTokens(ctx.userHash(userId))), now);
    if (entries.length === 0) return grants;
    const keys = entries.map((e) => ctx.key(recordKeyOfMember(e.member)));
    const values = await ctx.store.getMany(keys);
    values.forEach((value, i) => {
      const record = this.#decode(keys[i]!, value);
      const familyId = record?.body.fam;
      if (!record || !familyId || record.exp <= now) return;
      if (record.kind !== 'access' && record.kind !== 'refresh') return;
      const issuedAt = record.body.iat ?? 0;
      const grant = grants.get(familyId);
      if (grant) {
        grant.tokens += 1;
        grant.issuedAt = Math.max(grant.issuedAt, issuedAt);
      } else grants.set(familyId, { familyId, issuedAt, tokens: 1 });
    });
    return grants;
  }
}

/**
 * The grants to revoke so at most `keep` remain: the oldest first (least recently issued; equal
 * times by the order given, so a caller can put the ones it just wrote last).
 */
export function oldestBeyond(grants: UserGrant[], keep: number): UserGrant[] {
  if (grants.length <= keep) return [];
  const order = new Map(grants.map((g, i) => [g, i]));
  return [...grants]
    .sort((a, b) => a.issuedAt - b.issuedAt || order.get(a)! - order.get(b)!)
    .slice(0, grants.length - Math.max(0, keep));
}

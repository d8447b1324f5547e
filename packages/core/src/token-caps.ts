import type { CacheContext } from './context.js';
import { CapacityError } from './errors.js';
import { Keys, recordKeyOfMember } from './records/keys.js';
import type { Precondition } from './store/contract.js';
import type { RecordReader } from './token-revocation.js';

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
 * The global cap is a `room` precondition of the issuing commit: racing issuances cannot
 * overshoot it. The per-user cap reads the user's grants index before the commit; N logins of one
 * user racing at the limit may leave up to N grants too many until that user's next issuance.
 */
export class TokenCaps {
  readonly #ctx: CacheContext;
  readonly #read: RecordReader;

  /** `read` reads token records with their grants (`TokenService.readRecords`). */
  constructor(ctx: CacheContext, read: RecordReader) {
    this.#ctx = ctx;
    this.#read = read;
  }

  /**
   * The user's grants to revoke so a new one fits `maxGrantsPerUser` (none when the named family
   * exists already): one read of the user's grants index, and only when the user is at the cap,
   * two more to find the oldest. Revokes nothing itself: the caller revokes in its commit.
   */
  async admit(issuance: Issuance, now: number): Promise<string[]> {
    const ctx = this.#ctx;
    const max = ctx.config.maxGrantsPerUser;
    const held = await ctx.store.indexRange(ctx.key(Keys.userGrants(ctx.userHash(issuance.userId))), now);
    if (issuance.explicitFamily && held.some((g) => g.member === issuance.familyId)) return [];
    if (held.length < max) return [];
    const grants = [...(await this.grantsOf(issuance.userId, now)).values()].filter(
      (g) => g.familyId !== issuance.familyId,
    );
    return oldestBeyond(grants, max - 1).map((g) => g.familyId);
  }

  /** The `room` precondition for `adding` more tokens under `maxTokens` (none needed when <= 0). */
  room(adding: number): Precondition {
    const ctx = this.#ctx;
    return {
      if: 'room',
      index: ctx.key(Keys.tokens),
      adding: Math.max(0, adding),
      cap: ctx.config.maxTokens,
    };
  }

  /**
   * Refuse `adding` tokens that did not fit: a `capacity_reached` security event, the `refused`
   * counter, and {@link CapacityError}. Nothing was written.
   */
  async refuse(
    adding: number,
    operation: string,
    subject: { userId?: string | undefined; familyId?: string | undefined } = {},
  ): Promise<never> {
    const ctx = this.#ctx;
    const started = performance.now();
    const held = await ctx.store.indexCount(ctx.key(Keys.tokens), ctx.now());
    const max = ctx.config.maxTokens;
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

  /**
   * Throw {@link CapacityError} when `adding` more live tokens would take the cache above
   * `maxTokens` (bulk imports judge a whole batch with it before writing). One `indexCount`.
   */
  async assertRoom(adding: number, now: number, operation: string): Promise<void> {
    if (adding <= 0) return;
    const ctx = this.#ctx;
    const held = await ctx.store.indexCount(ctx.key(Keys.tokens), now);
    if (held + adding <= ctx.config.maxTokens) return;
    await this.refuse(adding, operation);
  }

  /** The user's live grants, by family id (read from the user index and the token records). */
  async grantsOf(userId: string, now: number): Promise<Map<string, UserGrant>> {
    const ctx = this.#ctx;
    const grants = new Map<string, UserGrant>();
    const entries = await ctx.store.indexRange(ctx.key(Keys.userTokens(ctx.userHash(userId))), now);
    if (entries.length === 0) return grants;
    const keys = entries.map((e) => ctx.key(recordKeyOfMember(e.member)));
    const records = await this.#read(keys);
    records.forEach((record) => {
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

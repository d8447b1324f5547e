/**
 * Every store key of the cache (relative to its prefix) and every index a record belongs to: the
 * one place for both, used by the token, session and rotation services and by the record
 * transfer. The key table with lifetimes is documented in `store/contract.ts`.
 */

/** Index member prefixes of token records: `a:<id>` access, `r:<id>` refresh. */
export const ACCESS_MEMBER = 'a:';
export const REFRESH_MEMBER = 'r:';

/** Store keys, relative to the prefix. Ids are keyed digests (of tokens, session ids, user ids). */
export const Keys = {
  access: (id: string) => `at:${id}`,
  refresh: (id: string) => `rt:${id}`,
  /** A rotated refresh token, kept to detect reuse. */
  consumed: (id: string) => `rc:${id}`,
  /** A completed rotation's retry record (lives for the reuse leeway; `refresh-retry.ts`). */
  retry: (id: string) => `rr:${id}`,
  /** A grant (family): what its tokens share; they link to it by its id. */
  grant: (familyId: string) => `g:${familyId}`,
  /** Marker of a revoked family (grant). */
  familyRevoked: (familyId: string) => `fr:${familyId}`,
  session: (sessionDigest: string) => `s:${sessionDigest}`,
  lock: (name: string) => `lock:${name}`,
  /** Index of a user's tokens (members `a:`/`r:` + id). */
  userTokens: (userHash: string) => `ix:u:${userHash}`,
  /** Index of a family's tokens. */
  familyTokens: (familyId: string) => `ix:f:${familyId}`,
  /** Index of the tokens bound to a session. */
  sessionTokens: (sessionDigest: string) => `ix:st:${sessionDigest}`,
  /**
   * Index of a user's live grants (members: family ids; score: the latest expiry of the grant's
   * tokens, only raised): the per-user grant cap counts it in one read.
   */
  userGrants: (userHash: string) => `ix:ug:${userHash}`,
  /** Index of a user's sessions. */
  userSessions: (userHash: string) => `ix:us:${userHash}`,
  /** Every live token (the `maxTokens` cap). */
  tokens: 'ix:tokens',
  /** Every live session (the `maxSessions` cap). */
  sessions: 'ix:sessions',
  /** Every user with a live token or session (score: the latest expiry, kept with "greater"). */
  users: 'ix:users',
} as const;

/**
 * Family ids of grants imported from the legacy server, named after their one imported token:
 * `legacy-a-<digest>` (an access token) or `legacy-r-<digest>` (a refresh token). That token's
 * membership in the family's tokens index is implied by the name and not stored: a migration
 * writes one index entry less per token (a million-token import spends ~15 % of its time per
 * index entry kind). Tokens the grant gets later (rotations) are indexed as usual.
 */
const LEGACY_FAMILY = { access: 'legacy-a-', refresh: 'legacy-r-' } as const;

/** The family id of a legacy token imported alone (see {@link impliedFamilyMember}). */
export function legacyFamilyId(kind: 'access' | 'refresh', id: string): string {
  return LEGACY_FAMILY[kind] + id;
}

/**
 * The index member a family id names, for a legacy family ({@link legacyFamilyId}); `undefined`
 * for every other family. Readers of a family's tokens add it to what the index holds, and
 * take it only if that record's own family is this one (a caller-chosen family id cannot pull
 * another grant's token into a revocation).
 */
export function impliedFamilyMember(familyId: string): string | undefined {
  if (familyId.startsWith(LEGACY_FAMILY.access))
    return ACCESS_MEMBER + familyId.slice(LEGACY_FAMILY.access.length);
  if (familyId.startsWith(LEGACY_FAMILY.refresh))
    return REFRESH_MEMBER + familyId.slice(LEGACY_FAMILY.refresh.length);
  return undefined;
}

/** The token record key of an index member (`a:<id>` -> `at:<id>`, `r:<id>` -> `rt:<id>`). */
export function recordKeyOfMember(member: string): string {
  return member.startsWith(ACCESS_MEMBER) ? Keys.access(member.slice(2)) : Keys.refresh(member.slice(2));
}

/** One index a record belongs to. */
export interface Membership {
  /** Index key, relative to the prefix. */
  key: string;
  member: string;
  /** Re-adding only raises the score (the users index keeps a user while any token lives). */
  keepGreater?: boolean;
}

/** What decides a token record's indexes. */
export interface TokenIndexing {
  kind: 'access' | 'refresh';
  /** The token's digest. */
  id: string;
  userHash: string | undefined;
  familyId: string | undefined;
  /** Digest of the session id, when the token is bound to a session. */
  sessionDigest: string | undefined;
}

/**
 * Every index a token record belongs to: its user's, its family's, its session's and the global
 * token index. Adding a record adds it to all of them, removing it removes it from all of them;
 * the users index ({@link usersMembership}) is kept apart: it outlives single tokens.
 */
export function tokenMemberships(t: TokenIndexing): Membership[] {
  const member = (t.kind === 'access' ? ACCESS_MEMBER : REFRESH_MEMBER) + t.id;
  const out: Membership[] = [];
  if (t.userHash !== undefined) out.push({ key: Keys.userTokens(t.userHash), member });
  // A legacy family's own token is implied by the family id, not stored in its index.
  if (t.familyId !== undefined && impliedFamilyMember(t.familyId) !== member) {
    out.push({ key: Keys.familyTokens(t.familyId), member });
  }
  if (t.sessionDigest !== undefined) out.push({ key: Keys.sessionTokens(t.sessionDigest), member });
  out.push({ key: Keys.tokens, member });
  return out;
}

/** The users index entry of a user (score: the latest expiry of what they hold, only raised). */
export function usersMembership(userHash: string): Membership {
  return { key: Keys.users, member: userHash, keepGreater: true };
}

/** The user's grants index entry of a grant (score: the latest expiry of its tokens, only raised). */
export function grantMembership(userHash: string, familyId: string): Membership {
  return { key: Keys.userGrants(userHash), member: familyId, keepGreater: true };
}

/** Every index a session record belongs to. */
export function sessionMemberships(sessionDigest: string, userHash: string): Membership[] {
  return [
    { key: Keys.userSessions(userHash), member: sessionDigest },
    { key: Keys.sessions, member: sessionDigest },
    usersMembership(userHash),
  ];
}

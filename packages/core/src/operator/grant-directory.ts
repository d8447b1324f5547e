import { assertUserId } from '../limits.js';
import type { DirectoryContext } from './context.js';
import { OperatorRevocations } from './operator-revocations.js';
import type { ListUsersOptions, OperatorActor, UserDetail, UsersPage } from './types.js';
import { getUser } from './user-detail.js';
import { listUsers } from './user-listing.js';

/** A user or session digest: base64url (43 characters for HMAC-SHA-256). */
const DIGEST = /^[A-Za-z0-9_-]{16,128}$/;
/** Longest grant (family) id taken: ids are generated (43 characters) or given by the caller. */
const MAX_GRANT_ID = 512;
const MAX_ACTOR = 256;

/**
 * The data side of an operator console: who holds what, and revoking it. Users are listed from
 * the users index, most recently active first, by keyset pages; a user's grants and sessions are
 * read from their indexes and records, decoded without a token. Nothing returned is a secret (see
 * `operator/types.ts`). Revocations go through the cache's own paths and emit an
 * `operator_revoked` security event naming the operator.
 *
 * Get it as `cache.directory`. Unknown users, grants and sessions answer `null`, `0` or `false`;
 * a malformed cursor or actor throws `TypeError`; a store that cannot answer throws
 * `StoreUnavailableError` as everywhere in the cache.
 */
export class GrantDirectory {
  readonly #dc: DirectoryContext;
  readonly #revocations: OperatorRevocations;

  /** Built by `TokenCache` from its own context and services. */
  constructor(dc: DirectoryContext) {
    this.#dc = dc;
    this.#revocations = new OperatorRevocations(dc);
  }

  /**
   * One page of users, most recently active (latest expiry) first, with their live grant and
   * session counts. `limit` defaults to 50 and is capped at 200; pass the page's `next` as
   * `cursor` for the following page. Throws `TypeError` for a malformed cursor or limit.
   */
  async listUsers(options: ListUsersOptions = {}): Promise<UsersPage> {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    return listUsers(this.#dc, options);
  }

  /**
   * The user-index digest of a login: the same keyed digest the cache keys the user's indexes by,
   * so an operator can find a user by login. Throws `InvalidInputError` for an invalid user id.
   */
  userHashOf(userId: string): string {
    assertUserId(userId);
    return this.#dc.ctx.userHash(userId);
  }

  /**
   * A user's live grants (with client, scopes, resource, session digest, issue times, expiry,
   * rotations, live token count) and sessions, or `null` when the digest is malformed or the user
   * holds nothing live.
   */
  async getUser(userHash: string): Promise<UserDetail | null> {
    if (!isDigest(userHash)) return null;
    return getUser(this.#dc, userHash);
  }

  /**
   * Revoke one grant of a user (its whole token family, as `revokeFamily`: one commit, access
   * tokens dropped from every instance's L1). Resolves how many live tokens were revoked; `0`
   * without effect when `grantId` is not one of that user's live grants.
   */
  async revokeGrant(userHash: string, grantId: string, actor: OperatorActor): Promise<number> {
    assertActor(actor);
    if (!isDigest(userHash) || !isGrantId(grantId)) return 0;
    return this.#revocations.grant(userHash, grantId, actor);
  }

  /**
   * End one session of a user, by its digest (`SessionSummary.ref`), with the tokens bound to it.
   * Resolves `false` when it is not a live session of that user.
   */
  async revokeSession(userHash: string, sessionRef: string, actor: OperatorActor): Promise<boolean> {
    assertActor(actor);
    if (!isDigest(userHash) || !isDigest(sessionRef)) return false;
    return this.#revocations.session(userHash, sessionRef, actor);
  }

  /**
   * Revoke every token and end every session of a user, and take them out of the listing.
   * Resolves how many tokens and sessions were removed (`0`: the user held nothing).
   */
  async revokeUser(userHash: string, actor: OperatorActor): Promise<number> {
    assertActor(actor);
    if (!isDigest(userHash)) return 0;
    return this.#revocations.user(userHash, actor);
  }
}

function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

function isGrantId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_GRANT_ID;
}

/** An actor names the operator (a non-empty string); the address is optional. */
function assertActor(actor: unknown): asserts actor is OperatorActor {
  const a = actor as Partial<OperatorActor> | null | undefined;
  if (
    typeof a !== 'object' ||
    a === null ||
    typeof a.operator !== 'string' ||
    a.operator.length === 0 ||
    a.operator.length > MAX_ACTOR ||
    (a.address !== undefined && (typeof a.address !== 'string' || a.address.length > MAX_ACTOR))
  ) {
    throw new TypeError('actor must be { operator: non-empty string, address?: string }');
  }
}

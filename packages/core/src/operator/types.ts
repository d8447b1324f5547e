/**
 * What the operator directory hands out. Nothing here is a secret: no raw token, no token digest
 * (the ids logs show as token ids), no session id, no `userData` (1C credentials). Grant ids
 * (family ids) and user and session digests are handles, not credentials.
 */

/** Who acted, for the `operator_revoked` security event. */
export interface OperatorActor {
  /** The operator's name (e.g. `console`, or a person's login). */
  operator: string;
  /** Network address the operator acted from, when known. */
  address?: string;
}

/** One user as the directory lists them. */
export interface UserSummary {
  /** The user-index digest (`uh`): the user's handle in the directory. */
  userHash: string;
  /**
   * The login, when it is readable without a token: at security levels `basic` and `enhanced`, or
   * from one of the user's session records; `undefined` at `maximum` otherwise (the user id is
   * sealed for the token's holder there).
   */
  userId?: string;
  /** Live grants (token families). */
  grants: number;
  /** Live sessions. */
  sessions: number;
  /** The latest expiry of what the user holds (epoch ms): the listing's sort key. */
  expiresAt: number;
}

/** One page of {@link GrantDirectory.listUsers}. */
export interface UsersPage {
  /** Most recently active (latest expiry) first. */
  users: UserSummary[];
  /** Users with anything live, on every page. */
  total: number;
  /** Opaque cursor of the next page; `undefined` on the last page. */
  next?: string;
}

/** Options of {@link GrantDirectory.listUsers}. */
export interface ListUsersOptions {
  /** Users per page: 50 by default, at most 200 (more is read as 200). */
  limit?: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

/** One grant (token family) of a user, from its live token records read without a token. */
export interface GrantSummary {
  /** The family id: what `revokeGrant` takes. */
  id: string;
  /** OAuth client the grant was issued to. */
  clientId?: string;
  scopes?: string[];
  /** RFC 8707 resource (audience). */
  resource?: string;
  /** Digest of the session the grant is bound to (a {@link SessionSummary.ref}), never its id. */
  sessionRef?: string;
  /** Issue time of its earliest live token (epoch ms). */
  createdAt?: number;
  /** Issue time of its latest live token: the login or last refresh (epoch ms). */
  lastIssuedAt?: number;
  /** The latest expiry of its live tokens (epoch ms). */
  expiresAt: number;
  /** Refresh rotations so far (the highest counter among its refresh tokens). */
  rotations: number;
  /** Live access and refresh tokens. */
  liveTokens: number;
}

/** One session of a user. */
export interface SessionSummary {
  /** Digest of the session id: what `revokeSession` takes (the id itself is not stored). */
  ref: string;
  /** Epoch ms. */
  createdAt?: number;
  /** Idle expiry (epoch ms). */
  expiresAt: number;
  /** Live grants bound to the session. */
  grants: number;
}

/** Everything the directory shows of one user. */
export interface UserDetail {
  user: UserSummary;
  /** Most recently issued first. */
  grants: GrantSummary[];
  /** Latest expiry first. */
  sessions: SessionSummary[];
}

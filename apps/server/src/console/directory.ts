/**
 * The operator-facing view of the token store, as `@oauth-cache/core` exposes it on
 * `cache.directory` (a `GrantDirectory`). Declared here structurally, so the console compiles and is
 * tested against the same shape whichever core build is installed: the real class satisfies it.
 */

/** Who revoked: recorded in the `operator_revoked` security event. */
export interface OperatorActor {
  operator: string;
  address?: string;
}

/** One user with live grants. `userId` is undefined at security level `maximum`. */
export interface UserSummary {
  userHash: string;
  userId?: string;
  grants: number;
  sessions: number;
  expiresAt: number;
}

/** A page of users; `next` is an opaque cursor. */
export interface UsersPage {
  users: UserSummary[];
  total: number;
  next?: string;
}

/** One grant (token family). Holds ids and times, never a token. */
export interface GrantSummary {
  id: string;
  clientId?: string;
  scopes?: string[];
  resource?: string;
  sessionRef?: string;
  createdAt?: number;
  lastIssuedAt?: number;
  expiresAt: number;
  rotations: number;
  liveTokens: number;
}

/** One session, named by a reference that is not its id. */
export interface SessionSummary {
  ref: string;
  createdAt?: number;
  expiresAt: number;
  grants: number;
}

export interface UserDetail {
  user: UserSummary;
  grants: GrantSummary[];
  sessions: SessionSummary[];
}

/** What the console reads and revokes through. */
export interface GrantDirectory {
  /** Throws `TypeError` on a malformed cursor. */
  listUsers(options?: { limit?: number; cursor?: string }): Promise<UsersPage>;
  userHashOf(userId: string): string;
  getUser(userHash: string): Promise<UserDetail | null>;
  revokeGrant(userHash: string, grantId: string, actor: OperatorActor): Promise<number>;
  revokeSession(userHash: string, sessionRef: string, actor: OperatorActor): Promise<boolean>;
  revokeUser(userHash: string, actor: OperatorActor): Promise<number>;
}

/**
 * The cache's directory, or `undefined` on a core build without one (the console then answers 503
 * on its data pages rather than failing to start the whole gateway).
 */
export function directoryOf(cache: object): GrantDirectory | undefined {
  const directory = (cache as { directory?: unknown }).directory;
  return typeof directory === 'object' && directory !== null ? (directory as GrantDirectory) : undefined;
}

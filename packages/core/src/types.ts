import type { SecurityEvent } from './events.js';
import type { PendingGrant } from './pending-grant.js';

/** What `storeToken` takes. Lifetimes are in seconds. */
export interface StoreTokenInput {
  userId: string;
  /** At least one of `accessToken` and `refreshToken` is required. */
  accessToken?: string;
  refreshToken?: string;
  /** Usually `Bearer`. */
  tokenType?: string;
  /** Access token lifetime in seconds (defaults to the config's `tokenTtl`). */
  expiresIn?: number;
  /** Refresh token lifetime in seconds (defaults to the config's `refreshTokenTtl`). */
  refreshExpiresIn?: number;
  /** Absolute access token expiry (epoch ms); wins over `expiresIn` (migrations). */
  expiresAt?: number;
  /** Absolute refresh token expiry (epoch ms); wins over `refreshExpiresIn`. */
  refreshExpiresAt?: number;
  /** Rotation counter carried over (migrations). */
  rotation?: number;
  scopes?: string[];
  clientId?: string;
  /** RFC 8707 resource (audience) the token is issued for. */
  resource?: string;
  /** Session id the tokens die with. */
  sessionId?: string;
  /** Opaque JSON carried with the token, sealed at rest from `enhanced` on (e.g. 1C credentials). */
  userData?: unknown;
  /** Family (grant) id; a new one is generated when missing. */
  familyId?: string;
  /** Keep the raw tokens sealed in the record so {@link TokenCache.getFreshToken} can hand them back. */
  retrievable?: boolean;
  /**
   * The grant an authorization code stands for (`TokenCache.openPendingGrant`): the tokens link to
   * it and take its user data and session from it (leave `userData` and `sessionId` out; `userId`,
   * `clientId`, `resource` and `familyId`, when given, must be the grant's). `scopes` may narrow it.
   */
  pendingGrant?: PendingGrant;
}

/**
 * A grant the user authorised, before any token exists: an authorization code's
 * (`TokenCache.storePendingGrant`).
 */
export interface PendingGrantInput {
  /** The authorization code: it alone opens the grant (43 random base64url characters, say). */
  code: string;
  /** The code record's key, relative to the prefix, under `x:` (the caller's records). */
  key: string;
  /** Lifetime of the code (and of the grant until it has tokens), seconds. */
  expiresIn: number;
  userId: string;
  clientId?: string;
  scopes?: string[];
  resource?: string;
  sessionId?: string;
  /** Opaque JSON (the 1C credentials): sealed under the grant's key from `enhanced` on. */
  userData?: unknown;
  /** Opaque JSON the code keeps of its own (redirect URI, PKCE challenge); sealed per level. */
  data?: unknown;
}

/** What `storeToken` and `rotateRefreshToken` resolve. Never contains a raw token. */
export interface StoredTokenInfo {
  familyId: string;
  /** Stable id of the access token record (a digest, usable with `revokeTokenById`). */
  accessTokenId?: string;
  refreshTokenId?: string;
  expiresAt?: number;
  refreshExpiresAt?: number;
}

/** A successful validation. */
export interface TokenValidation {
  valid: true;
  userId: string;
  clientId: string | undefined;
  scopes: string[];
  resource: string | undefined;
  tokenType: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Whole seconds left. */
  expiresIn: number;
  sessionId: string | undefined;
  familyId: string;
  userData: unknown;
  /** True inside `refreshThreshold` of expiry. */
  needsRefresh: boolean;
}

/** One token of a user as listed by `getTokensForUser` (no raw token). */
export interface TokenListing {
  id: string;
  kind: 'access' | 'refresh';
  familyId: string;
  clientId: string | undefined;
  scopes: string[];
  resource: string | undefined;
  issuedAt: number;
  expiresAt: number;
  sessionId: string | undefined;
}

/** New tokens issued by a rotation or a refresher. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  /** Seconds. */
  expiresIn?: number;
  refreshExpiresIn?: number;
  tokenType?: string;
  scopes?: string[];
}

/** What `rotateRefreshToken` takes besides the presented token. */
export interface RotateOptions {
  /**
   * The client presenting the token: must match the family's client when set. A consumed token
   * presented by another client revokes the family.
   */
  clientId?: string;
  /**
   * Network address of the request (e.g. the HTTP client IP). Only reported in security events
   * (`reuse_detected`, `refresh_retry`, `refresh_race`, `client_mismatch`); never decides anything.
   */
  clientAddress?: string;
  /** Issues the new pair; receives the consumed refresh token's metadata. */
  issue?: (current: TokenValidation) => IssuedTokens | Promise<IssuedTokens>;
}

/** What `rotateRefreshToken` resolves. */
export interface RotationResult {
  tokens: IssuedTokens & { expiresIn: number; tokenType: string };
  info: StoredTokenInfo;
  /** The metadata carried over (userId, scopes, userData...). */
  previous: TokenValidation;
}

/** A session. `id` is the raw session id: hand it to the client, it is stored only as a digest. */
export interface Session {
  id: string;
  userId: string;
  data: unknown;
  createdAt: number;
  lastSeenAt: number;
  /** When it ends if idle (epoch ms). */
  expiresAt: number;
  /** Absolute end of life (epoch ms). */
  absoluteExpiresAt: number;
}

/** Refresher used by `getFreshToken`: exchange the refresh token for new tokens. */
export type Refresher = (current: {
  userId: string;
  refreshToken: string | undefined;
  accessToken: string | undefined;
  validation: TokenValidation | undefined;
}) => Promise<IssuedTokens>;

/** What `getFreshToken` resolves. */
export interface FreshToken {
  accessToken: string;
  expiresAt: number;
  refreshed: boolean;
}

/** The shape of `stats()`. Counters never go negative. */
export interface CacheStats {
  summary: {
    totalActiveTokens: number;
    totalActiveSessions: number;
    totalUsers: number;
    /** Percentage of validations that found a live token (0-100). */
    cacheHitRate: number;
  };
  tokens: {
    active: number;
    stored: number;
    validations: number;
    hits: number;
    misses: number;
    expired: number;
    revoked: number;
    /**
     * Tokens of the grants the per-user grant cap (`maxGrantsPerUser`) revoked to make room for the
     * same user's new grant (also counted in `revoked`). The global cap never evicts.
     */
    evicted: number;
    /** Issuances refused with `CapacityError` because the cache held `maxTokens` live tokens. */
    refused: number;
    rotations: number;
    refreshes: number;
  };
  sessions: {
    active: number;
    created: number;
    touched: number;
    revoked: number;
    evicted: number;
  };
  security: {
    level: 'basic' | 'enhanced' | 'maximum';
    events: number;
    reuseDetected: number;
    rejected: number;
    lastEvent?: SecurityEvent;
  };
  store: { kind: string };
  cleanup: { runs: number; removed: number; lastRunAt?: number };
}

/** One exported record (JSONL line of `export`): sealed fields stay sealed. */
export interface ExportedRecord {
  key: string;
  value: unknown;
  expiresAt: number;
}

/** Options of `TokenCache.storeTokens`. */
export interface StoreTokensOptions {
  /**
   * `false`: judge no cap (migrations: the CLI checks the room it needs before it writes, and a
   * migrated user may hold more grants than `maxGrantsPerUser`; nothing is refused or revoked).
   * Default `true`: a batch that would take the cache above `maxTokens` is refused whole with
   * `CapacityError` before anything is written, and each user's grants beyond `maxGrantsPerUser`
   * are revoked, oldest first. (The name is historic: the global cap evicted before it refused.)
   */
  evict?: boolean;
  /**
   * `storeTokens` only: each token holds its grant itself, no grant record is written (its private
   * part sealed under its own token, as `pv`). For batches whose grants have one token each (a
   * migration): a grant record would be one more write per token for nothing to share (a
   * 100k-token migration took 45 % longer on Redis with them). A later rotation moves the grant
   * to a grant record. Also spares the batch's read of the grants its families may have.
   */
  selfContained?: boolean;
}

/** Options of `TokenCache.importRecords`. */
export interface ImportOptions {
  /**
   * Write every live record without first reading what the store holds under its key. Only for a
   * caller that knows none of the keys is there: the CLI copying into a target that held no record
   * when the run started, each key once. Otherwise a stored record with a later expiry would be
   * overwritten. The read is a round trip and ~a third of Redis' work per record of a bulk copy.
   */
  assumeAbsent?: boolean;
}

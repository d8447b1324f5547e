/**
 * Events the cache emits. Metrics and logs attach from outside (`cache.events.on(...)`); payloads hold
 * ids and digests, never a raw token or a password.
 */

/** Security-relevant happenings. `maximum` also reports every rejected validation. */
export type SecurityEventType =
  | 'reuse_detected'
  | 'refresh_race'
  | 'refresh_retry'
  | 'family_revoked'
  | 'token_revoked'
  | 'user_revoked'
  | 'session_revoked'
  | 'token_rejected'
  | 'seal_failed'
  | 'ephemeral_keys'
  | 'client_mismatch'
  /** A new token was refused: the cache holds `maxTokens` live tokens (see `CapacityError`). */
  | 'capacity_reached'
  /**
   * An operator revoked a grant, a session or a whole user through the `GrantDirectory`: `reason`
   * is `grant` (with `familyId`), `session` or `user`; `actor` names the operator, `clientAddress`
   * where they acted from.
   */
  | 'operator_revoked';

export interface SecurityEvent {
  type: SecurityEventType;
  at: number;
  userId?: string;
  /**
   * Keyed digest of the user id (`cache.directory.userHashOf`), where the login itself is not at
   * hand (an operator's revocation names the user by it).
   */
  userHash?: string;
  familyId?: string;
  clientId?: string;
  /** Digest-derived id of the token concerned (safe to log). */
  tokenId?: string;
  /**
   * Network address of the client behind the request, when the caller passed one (refresh
   * rotation's `clientAddress`): who presented a reused refresh token.
   */
  clientAddress?: string;
  /** Who acted, for what an operator did (`operator_revoked`): the operator's name, e.g. `console`. */
  actor?: string;
  reason?: string;
}

/** Operation outcome reported for every call (feeds `cache_*_operations_total`). */
export interface OperationEvent {
  /** `token` or `session`. */
  subject: 'token' | 'session';
  /** e.g. `store`, `validate`, `revoke`, `rotate`, `create`, `get`, `touch`. */
  operation: string;
  /** e.g. `ok`, `hit`, `miss`, `expired`, `error`, `evicted`. */
  result: string;
  /** Seconds the operation took. */
  duration: number;
}

export interface CleanupEvent {
  removed: number;
  duration: number;
}

/** Map of event name to payload, for `cache.events`. */
export interface CacheEventMap {
  operation: [OperationEvent];
  security: [SecurityEvent];
  cleanup: [CleanupEvent];
  /** A store call failed; the error is also thrown to the caller. */
  error: [Error];
}

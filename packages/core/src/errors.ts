/**
 * Typed errors of oauth-cache. No message ever holds a raw token, a password or a key.
 */

/** Base class: every error thrown on purpose by oauth-cache. `code` is stable, messages are not. */
export class OAuthCacheError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The store could not answer (down, timed out, write not acknowledged). Callers must not read this
 * as "token invalid": the HTTP layer answers 503 with `Retry-After`.
 */
export class StoreUnavailableError extends OAuthCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_unavailable', message, options);
  }
}

/** Configuration is missing or invalid. `issues` name each variable/field and what it expects. */
export class ConfigError extends OAuthCacheError {
  readonly issues: string[];
  constructor(issues: string[]) {
    super('invalid_config', `Invalid oauth-cache configuration: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

/** A sealed value could not be opened (unknown key id, tampered data, wrong key). */
export class SealError extends OAuthCacheError {
  constructor(message: string) {
    super('seal_error', message);
  }
}

/**
 * A refresh token could not be rotated. `reason`: `unknown` (never issued, expired, revoked),
 * `reused` (already rotated: the family has been revoked), `race` (another caller rotated it a
 * moment ago: the family is intact), `family_revoked`.
 */
export class InvalidGrantError extends OAuthCacheError {
  readonly reason: 'unknown' | 'reused' | 'race' | 'family_revoked' | 'mismatch';
  constructor(reason: InvalidGrantError['reason'], message: string) {
    super('invalid_grant', message);
    this.reason = reason;
  }
}

/** Input that can never be valid (empty token, wrong type, oversized): a caller bug or an attack. */
export class InvalidInputError extends OAuthCacheError {
  constructor(message: string) {
    super('invalid_input', message);
  }
}

/** Seconds a refused issuance is told to wait before retrying (tokens expire, grants end). */
export const CAPACITY_RETRY_AFTER_SECONDS = 60;

/**
 * A new token was refused because the cache holds `maxTokens` live tokens (MAX_TOKEN_CACHE_SIZE).
 * The cache refuses rather than evict another user's live token; nothing of the refused issuance
 * was written (a refresh token presented for rotation is not consumed). The HTTP layer answers 503
 * `temporarily_unavailable` with `Retry-After: retryAfterSeconds`.
 */
export class CapacityError extends OAuthCacheError {
  /** The limit that was reached, named as its environment variable. */
  readonly limit = 'MAX_TOKEN_CACHE_SIZE' as const;
  /** How long a client should wait before retrying. */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = CAPACITY_RETRY_AFTER_SECONDS) {
    super('capacity_reached', message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

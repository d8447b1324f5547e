/**
 * OAuth errors as values the HTTP layer turns into responses. Messages (`description`) never hold a
 * token, a code, a password or a client secret: they are shown to clients as `error_description`.
 * Every description passes through {@link errorDescription} in the error's constructor, so no
 * caller can emit one outside RFC 6749 §5.2's characters.
 */

/** Longest `error_description` sent: enough to explain, short enough for a header or a URL. */
export const MAX_ERROR_DESCRIPTION_LENGTH = 300;

// RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ). `"` and `\` are excluded
// because the value may be quoted in a WWW-Authenticate header.
const OUTSIDE_DESCRIPTION_CHARSET = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g;

/**
 * `text` made safe as an RFC 6749 §5.2 `error_description`: `"` becomes `'` (so quoted values stay
 * readable), any other character outside %x20-21 / %x23-5B / %x5D-7E (backslash, controls,
 * non-ASCII, each UTF-16 unit) becomes `?`, and the result is cut to
 * {@link MAX_ERROR_DESCRIPTION_LENGTH} characters. Idempotent.
 */
export function errorDescription(text: string): string {
  const safe = text.replaceAll('"', "'").replace(OUTSIDE_DESCRIPTION_CHARSET, '?');
  return safe.length > MAX_ERROR_DESCRIPTION_LENGTH
    ? `${safe.slice(0, MAX_ERROR_DESCRIPTION_LENGTH - 3)}...`
    : safe;
}

/** Error codes of RFC 6749 §4.1.2.1 / §5.2, RFC 7009, RFC 7591 §3.2.2, RFC 8707 and RFC 6750. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'slow_down';

/** The JSON body of an OAuth error response. */
export interface OAuthErrorBody {
  error: OAuthErrorCode;
  error_description?: string;
}

/** An OAuth protocol error with the HTTP status it is answered with. */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  readonly status: number;
  /** Seconds for a `Retry-After` header (503 `temporarily_unavailable`, 429), when known. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    error: OAuthErrorCode,
    description: string,
    status = defaultStatus(error),
    options: { retryAfterSeconds?: number } = {},
  ) {
    const safe = errorDescription(description);
    super(`${error}: ${safe}`);
    this.name = 'OAuthError';
    this.error = error;
    this.description = safe;
    this.status = status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The RFC 6749 §5.2 JSON body. */
  toJSON(): OAuthErrorBody {
    return { error: this.error, error_description: this.description };
  }
}

function defaultStatus(error: OAuthErrorCode): number {
  switch (error) {
    case 'invalid_client':
      return 401;
    case 'server_error':
      return 500;
    case 'temporarily_unavailable':
      return 503;
    default:
      return 400;
  }
}

/**
 * An authorization request error that can NOT be sent back to the client: the client id or the
 * redirect URI is missing, unknown or not registered. RFC 6749 §4.1.2.1: the user sees an error
 * page and is never redirected (that would be an open redirect).
 */
export class AuthorizationPageError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  readonly status = 400;
  constructor(error: OAuthErrorCode, description: string) {
    const safe = errorDescription(description);
    super(`${error}: ${safe}`);
    this.name = 'AuthorizationPageError';
    this.error = error;
    this.description = safe;
  }
}

/**
 * An authorization request error that is reported to the client by redirecting to its (validated,
 * registered) redirect URI with `error`, `error_description`, `state` and `iss`.
 */
export class AuthorizationRedirectError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  /**
   * The full redirect target, already carrying the error parameters (build its
   * `error_description` with {@link errorDescription} too, as `validateAuthorizationRequest` does).
   */
  readonly location: string;
  constructor(error: OAuthErrorCode, description: string, location: string) {
    const safe = errorDescription(description);
    super(`${error}: ${safe}`);
    this.name = 'AuthorizationRedirectError';
    this.error = error;
    this.description = safe;
    this.location = location;
  }
}

/**
 * OAuth errors as values the HTTP layer turns into responses. Messages (`description`) never hold a
 * token, a code, a password or a client secret: they are shown to clients as `error_description`.
 */

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
  constructor(error: OAuthErrorCode, description: string, status = defaultStatus(error)) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
    this.error = error;
    this.description = description;
    this.status = status;
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
    super(`${error}: ${description}`);
    this.name = 'AuthorizationPageError';
    this.error = error;
    this.description = description;
  }
}

/**
 * An authorization request error that is reported to the client by redirecting to its (validated,
 * registered) redirect URI with `error`, `error_description`, `state` and `iss`.
 */
export class AuthorizationRedirectError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  /** The full redirect target, already carrying the error parameters. */
  readonly location: string;
  constructor(error: OAuthErrorCode, description: string, location: string) {
    super(`${error}: ${description}`);
    this.name = 'AuthorizationRedirectError';
    this.error = error;
    this.description = description;
    this.location = location;
  }
}

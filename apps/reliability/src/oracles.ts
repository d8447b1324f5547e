/**
 * What a correct answer looks like, written independently of the server's code: RFC 6749 §5.2 /
 * RFC 7591 §3.2.2 / RFC 6750 §3 error shapes, and "a redirect only ever goes to a registered URI".
 * Each check returns `undefined` when the answer is fine, else a sentence saying what is wrong.
 */
import type { HttpResponse } from './http.js';

/** Error codes RFC 6749 §5.2 defines for the token endpoint (plus RFC 8707's `invalid_target`). */
export const TOKEN_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
] as const;

/** RFC 7009 §2.2.1 adds `unsupported_token_type` for revocation. */
export const REVOCATION_ERRORS = [...TOKEN_ERRORS, 'unsupported_token_type'] as const;

/** RFC 7591 §3.2.2 registration errors (and `invalid_request` for a refused body or rate limit). */
export const REGISTRATION_ERRORS = [
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  'invalid_request',
] as const;

/** RFC 6749 §5.2 / Appendix A.7: `error_description` is %x20-21 / %x23-5B / %x5D-7E (no `"`, no `\`). */
export const RFC6749_DESCRIPTION = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** RFC 7591 §3.2.2 only asks for "human-readable ASCII text". */
export const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** RFC 6750 §3.1 bearer errors. */
export const BEARER_ERRORS = ['invalid_request', 'invalid_token', 'insufficient_scope'] as const;

function headerOf(response: HttpResponse, name: string): string {
  const value = response.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * A 4xx from an OAuth JSON endpoint: JSON object with an `error` from `codes`, an optional string
 * `error_description` of visible ASCII (RFC 6749 §5.2), and `Cache-Control: no-store`.
 */
export function oauthErrorProblem(
  response: HttpResponse,
  codes: readonly string[],
  /** Characters `error_description` may use; `null` = any string (see known-gaps.test.ts). */
  descriptionText: RegExp | null = RFC6749_DESCRIPTION,
): string | undefined {
  if (response.status < 400 || response.status > 499) return `status ${response.status} is not a 4xx`;
  if (!headerOf(response, 'content-type').startsWith('application/json'))
    return `content-type "${headerOf(response, 'content-type')}" is not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return 'body is not JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body is not a JSON object';
  const { error, error_description: description } = body as Record<string, unknown>;
  if (typeof error !== 'string' || !codes.includes(error))
    return `error ${JSON.stringify(error)} not in ${codes.join(', ')}`;
  if (description !== undefined && typeof description !== 'string')
    return 'error_description is not a string';
  if (typeof description === 'string' && descriptionText && !descriptionText.test(description))
    return `error_description ${JSON.stringify(description)} is not ${descriptionText === RFC6749_DESCRIPTION ? 'RFC 6749 §5.2 text (no " or \\)' : 'printable ASCII'}`;
  return undefined;
}

/**
 * A bearer refusal (RFC 6750 §3): 400/401/403 with a `WWW-Authenticate: Bearer ...` challenge
 * naming the resource metadata (MCP), and a JSON error body. Node's own 400 for a request its
 * parser rejects (no body, no challenge) is accepted too: it never reaches the application.
 */
export function bearerRefusalProblem(response: HttpResponse): string | undefined {
  if (response.status === 400 && headerOf(response, 'content-type') === '' && response.body === '')
    return undefined;
  if (response.status === 431) return undefined;
  if (![400, 401, 403].includes(response.status))
    return `status ${response.status} for a token that was never issued`;
  const challenge = headerOf(response, 'www-authenticate');
  if (!/^Bearer\b/.test(challenge)) return `WWW-Authenticate "${challenge}" is not a Bearer challenge`;
  if (!challenge.includes('resource_metadata="')) return 'challenge lacks resource_metadata';
  if (response.status !== 401 || /error=/.test(challenge)) {
    const error = /error="([^"]*)"/.exec(challenge)?.[1];
    if (!error || !(BEARER_ERRORS as readonly string[]).includes(error))
      return `challenge error ${error} not RFC 6750`;
  }
  return undefined;
}

/**
 * A `Location` the authorization endpoint may send: on one of `registered` (exact scheme, host and
 * path; the port may differ only for `http://127.0.0.1` per RFC 8252 §7.3), with nothing but
 * parameters appended: no user info, no fragment. Checked on the raw string too, so a parser
 * difference between us and a browser cannot hide another host.
 */
export function redirectProblem(location: string, registered: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return `Location "${location}" is not an absolute URL`;
  }
  if (url.username || url.password) return `Location "${location}" carries user info`;
  if (url.hash) return `Location "${location}" carries a fragment`;
  for (const candidate of registered) {
    const reg = new URL(candidate);
    const loopback = reg.protocol === 'http:' && reg.hostname === '127.0.0.1';
    const samePort = loopback || url.port === reg.port;
    const rawPrefix = loopback
      ? /^http:\/\/127\.0\.0\.1(:\d{1,5})?\//
      : new RegExp(`^${escapeRegExp(reg.origin)}/`);
    if (
      url.protocol === reg.protocol &&
      url.hostname === reg.hostname &&
      samePort &&
      url.pathname === reg.pathname &&
      rawPrefix.test(location)
    )
      return undefined;
  }
  return `Location "${location}" is not on a registered redirect URI`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** RFC 7591 / MCP policy for an accepted redirect URI: https, or http on a loopback host; no fragment, no user info. */
export function acceptedRedirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return `redirect URI ${JSON.stringify(uri)} is not a string`;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `redirect URI "${uri}" was accepted but is not an absolute URL`;
  }
  if (uri.includes('#')) return `redirect URI "${uri}" with a fragment was accepted`;
  if (url.username || url.password) return `redirect URI "${uri}" with user info was accepted`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname))
    return undefined;
  return `redirect URI "${uri}" is neither https nor http on loopback`;
}

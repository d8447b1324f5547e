import { DEFAULT_RETRY_AFTER_SECONDS } from '../errors/store-unavailable.js';
import { type OAuthErrorBody, quoteHeaderValue } from '../http/oauth-error-body.js';
import type { BearerOutcome } from './verify-bearer.js';

/** A framework-neutral HTTP answer. */
export interface ChallengeResponse {
  status: number;
  headers: Record<string, string>;
  body: OAuthErrorBody;
}

/** What goes into the challenge besides the outcome. */
export interface ChallengeOptions {
  /** RFC 9728 protected resource metadata URL, sent as `resource_metadata` (MCP requires it on 401). */
  resourceMetadataUrl?: string;
  /** `Retry-After` seconds on 503. */
  retryAfterSeconds?: number;
  /**
   * Space-separated scopes a token for this resource needs, sent as `scope` on every challenge
   * (MCP authorization 2025-11-25: the client requests exactly these). A 403 `insufficient_scope`
   * names the scopes of its outcome instead.
   */
  scope?: string;
}

const STATUS = { missing: 401, invalid_request: 400, invalid_token: 401, insufficient_scope: 403 } as const;

/**
 * Map a non-authorized {@link BearerOutcome} to status, headers and JSON body: RFC 6750 section 3
 * `WWW-Authenticate: Bearer ...` challenges (with `scope` and `resource_metadata` for MCP clients), or 503 with
 * `Retry-After` when the store is unavailable. Header parameter values are quoted and escaped.
 */
export function bearerChallenge(
  outcome: Exclude<BearerOutcome, { kind: 'authorized' }>,
  options: ChallengeOptions = {},
): ChallengeResponse {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (outcome.kind === 'unavailable') {
    headers['Retry-After'] = String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
    return {
      status: 503,
      headers,
      body: { error: 'temporarily_unavailable', error_description: outcome.description },
    };
  }
  const params: Array<[string, string]> = [];
  if (outcome.kind !== 'missing') {
    params.push(['error', outcome.kind], ['error_description', outcome.description]);
  }
  if (outcome.kind === 'insufficient_scope') params.push(['scope', outcome.scope]);
  else if (options.scope) params.push(['scope', options.scope]);
  if (options.resourceMetadataUrl) params.push(['resource_metadata', options.resourceMetadataUrl]);
  headers['WWW-Authenticate'] = params.length
    ? `Bearer ${params.map(([name, value]) => `${name}=${quoteHeaderValue(value)}`).join(', ')}`
    : 'Bearer';
  const body: OAuthErrorBody =
    outcome.kind === 'missing'
      ? { error: 'invalid_token', error_description: 'Authorization: Bearer token required' }
      : { error: outcome.kind, error_description: outcome.description };
  return { status: STATUS[outcome.kind], headers, body };
}

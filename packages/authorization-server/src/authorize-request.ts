/**
 * Validation of an authorization request (RFC 6749 §4.1.1, OAuth 2.1, RFC 7636, RFC 8707).
 *
 * Order matters: the client and its redirect URI are checked first. Until both are known to be
 * good, every problem is an {@link AuthorizationPageError} (shown to the user, never redirected),
 * because redirecting to an unverified URI is an open redirect. After that, problems are
 * {@link AuthorizationRedirectError}s carrying the error to the client.
 */
import type { ClientRecord, ClientRegistry } from './clients.js';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
  errorDescription,
  OAuthError,
  type OAuthErrorCode,
} from './errors.js';
import { isScopeToken, parseScope, readParams } from './params.js';
import {
  DEFAULT_REDIRECT_POLICY,
  describeRedirectTarget,
  type RedirectPolicy,
  type RedirectTarget,
  refusedByPolicy,
} from './redirect-policy.js';
import { matchRedirectUri } from './redirect-uri.js';
import { sameResource } from './resource.js';

/** A validated authorization request. */
export interface AuthorizationRequest {
  client: ClientRecord;
  clientId: string;
  /** Where the response goes: the URI as sent (a loopback port may differ from the registered one). */
  redirectUri: string;
  /** Whether `redirect_uri` was sent (then the token request must repeat it). */
  redirectUriExplicit: boolean;
  state: string | undefined;
  scopes: string[];
  codeChallenge: string;
  /** The canonical resource the token will be bound to. */
  resource: string;
  /** Who receives the code: what the login page must headline and warn about. */
  redirectTarget: RedirectTarget;
}

/** What validation needs to know about this server. */
export interface AuthorizeRequestContext {
  clients: ClientRegistry;
  issuer: string;
  /** Canonical MCP resource URI (e.g. `https://gw.example/mcp`). */
  resource: string;
  scopesSupported: readonly string[];
  /** Scopes granted when the request names none. */
  defaultScopes: readonly string[];
  /** The operator's redirect host policy. Default {@link DEFAULT_REDIRECT_POLICY} (warn). */
  redirectPolicy?: RedirectPolicy;
}

/** Names of the parameters this server reads on /authorize. */
export const AUTHORIZE_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
  'resource',
] as const;

/** PKCE code challenge / verifier alphabet and length (RFC 7636 §4.1-4.2). */
export const PKCE_PATTERN = /^[A-Za-z0-9._~-]{43,128}$/;
const MAX_STATE = 2048;

/** Validate an authorization request. Throws {@link AuthorizationPageError} or {@link AuthorizationRedirectError}. */
export async function validateAuthorizationRequest(
  params: URLSearchParams,
  ctx: AuthorizeRequestContext,
): Promise<AuthorizationRequest> {
  const { values, duplicated, malformed } = readParams(params, AUTHORIZE_PARAMS);

  // 1. Client and redirect URI: errors here are never redirected.
  if (duplicated.includes('client_id') || duplicated.includes('redirect_uri')) {
    throw new AuthorizationPageError('invalid_request', 'client_id and redirect_uri must be sent once');
  }
  const clientId = values.client_id;
  if (clientId === undefined) throw new AuthorizationPageError('invalid_request', 'client_id is missing');
  if (malformed.includes('client_id'))
    throw new AuthorizationPageError('invalid_client', 'client_id is malformed');
  const client = await ctx.clients.get(clientId).catch((error: unknown) => {
    // A refused or unreachable client ID metadata document: shown, never redirected.
    if (error instanceof OAuthError) throw new AuthorizationPageError(error.error, error.description);
    throw error;
  });
  if (!client) {
    throw new AuthorizationPageError(
      'invalid_client',
      'this client is not registered here (or its registration expired)',
    );
  }
  let redirectUri = values.redirect_uri;
  const redirectUriExplicit = redirectUri !== undefined;
  if (redirectUri === undefined) {
    if (client.redirect_uris.length !== 1) {
      throw new AuthorizationPageError(
        'invalid_request',
        'redirect_uri is missing and the client registered several',
      );
    }
    redirectUri = client.redirect_uris[0] as string;
  } else if (malformed.includes('redirect_uri') || !matchRedirectUri(client.redirect_uris, redirectUri)) {
    throw new AuthorizationPageError('invalid_request', 'redirect_uri is not registered for this client');
  }

  // The operator refuses unlisted hosts: before any form, and not redirected (the host is the problem).
  const redirectPolicy = ctx.redirectPolicy ?? DEFAULT_REDIRECT_POLICY;
  const redirectTarget = describeRedirectTarget(redirectUri, redirectPolicy);
  if (refusedByPolicy(redirectTarget, redirectPolicy)) {
    throw new AuthorizationPageError(
      'unauthorized_client',
      `this server does not send sign-ins to ${redirectTarget.host}: the operator has not listed it`,
    );
  }

  // 2. Everything else is reported to the client through its redirect URI.
  const state = values.state;
  const fail: (error: OAuthErrorCode, description: string) => never = (error, description) => {
    throw new AuthorizationRedirectError(
      error,
      description,
      buildRedirect(redirectUri, {
        error,
        error_description: errorDescription(description),
        state:
          state !== undefined && state.length <= MAX_STATE && !malformed.includes('state')
            ? state
            : undefined,
        iss: ctx.issuer,
      }),
    );
  };
  if (duplicated.length > 0)
    fail('invalid_request', `parameters sent more than once: ${duplicated.join(', ')}`);
  if (malformed.length > 0) fail('invalid_request', `malformed parameters: ${malformed.join(', ')}`);
  if (state !== undefined && state.length > MAX_STATE) fail('invalid_request', 'state is too long');

  if (values.response_type === undefined) fail('invalid_request', 'response_type is missing');
  if (values.response_type !== 'code')
    fail('unsupported_response_type', 'only response_type=code is supported');

  const challenge = values.code_challenge;
  if (challenge === undefined) fail('invalid_request', 'code_challenge is required (PKCE, S256)');
  if (values.code_challenge_method !== 'S256') {
    fail('invalid_request', 'code_challenge_method must be S256');
  }
  if (!PKCE_PATTERN.test(challenge)) {
    fail('invalid_request', 'code_challenge must be 43-128 characters of [A-Za-z0-9._~-]');
  }

  const requestedScopes = parseScope(values.scope);
  const scopes = requestedScopes && requestedScopes.length > 0 ? requestedScopes : [...ctx.defaultScopes];
  for (const s of scopes) {
    if (!isScopeToken(s) || !ctx.scopesSupported.includes(s))
      fail('invalid_scope', 'a requested scope is not supported');
  }
  const registeredScopes = parseScope(client.scope);
  if (registeredScopes && scopes.some((s) => !registeredScopes.includes(s))) {
    fail('invalid_scope', 'a requested scope was not registered for this client');
  }

  if (values.resource !== undefined && !sameResource(values.resource, ctx.resource)) {
    fail('invalid_target', `resource must be ${ctx.resource}`);
  }

  return {
    client,
    clientId,
    redirectUri,
    redirectUriExplicit,
    state,
    scopes,
    codeChallenge: challenge,
    resource: ctx.resource,
    redirectTarget,
  };
}

/** `base` with `params` appended to its query (undefined values skipped); keeps the existing query. */
export function buildRedirect(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url.href;
}

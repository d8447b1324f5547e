/**
 * Token endpoint logic (RFC 6749 §3.2, §4.1.3, §6; OAuth 2.1; RFC 7636; RFC 8707) for public
 * clients: `authorization_code` with PKCE S256 and `refresh_token` with rotation. No password
 * grant, no client credentials.
 */
import { randomBytes } from 'node:crypto';
import { CapacityError, InvalidGrantError, type TokenCache } from '@oauth-cache/core';
import type { ClientRecord, ClientRegistry, GrantType } from './clients.js';
import type { CodeStore } from './codes.js';
import { OAuthError } from './errors.js';
import { legacyClientRecord } from './legacy-client.js';
import { parseScope, readParams } from './params.js';
import { verifyPkceS256 } from './pkce.js';
import { sameResource } from './resource.js';

/** The successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

/** What the token endpoint needs. Lifetimes in seconds. */
export interface TokenEndpointContext {
  cache: TokenCache;
  clients: ClientRegistry;
  codes: CodeStore;
  resource: string;
  accessTtl: number;
  refreshTtl: number;
  /** Client ids of migrated families, accepted for `refresh_token` only (see `legacy-client.ts`). */
  legacyClientIds: ReadonlySet<string>;
}

/** Request details outside the form body. */
export interface TokenRequestMeta {
  /** The raw `Authorization` header, if any. */
  authorization?: string | undefined;
  /**
   * The client's network address (the server's client IP, proxy-aware). Reported in the cache's
   * security events of a refresh (`reuse_detected`, `refresh_retry`); decides nothing.
   */
  clientAddress?: string | undefined;
}

const TOKEN_PARAMS = [
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'client_id',
  'client_secret',
  'client_assertion',
  'refresh_token',
  'scope',
  'resource',
] as const;

type TokenParams = Record<(typeof TOKEN_PARAMS)[number], string | undefined>;

/** Handle a token request. Throws {@link OAuthError} with the RFC 6749 §5.2 error. */
export async function handleTokenRequest(
  params: URLSearchParams,
  meta: TokenRequestMeta,
  ctx: TokenEndpointContext,
): Promise<TokenResponse> {
  const { values, duplicated, malformed } = readParams(params, TOKEN_PARAMS);
  if (duplicated.length > 0) {
    throw new OAuthError('invalid_request', `parameters sent more than once: ${duplicated.join(', ')}`);
  }
  if (malformed.length > 0)
    throw new OAuthError('invalid_request', `malformed parameters: ${malformed.join(', ')}`);
  const grantType = values.grant_type;
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is missing');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    throw new OAuthError(
      'unsupported_grant_type',
      'supported grant types: authorization_code, refresh_token',
    );
  }
  const client = await authenticateClient(values, meta, ctx);
  if (!client.grant_types.includes(grantType as GrantType)) {
    throw new OAuthError('unauthorized_client', `this client did not register the ${grantType} grant`);
  }
  return grantType === 'authorization_code'
    ? exchangeCode(values, client, ctx)
    : refresh(values, client, meta, ctx);
}

/** Public clients only: `client_id` in the body, no secret, no assertion, no Basic credentials. */
async function authenticateClient(
  values: TokenParams,
  meta: TokenRequestMeta,
  ctx: Pick<TokenEndpointContext, 'clients' | 'legacyClientIds'>,
): Promise<ClientRecord> {
  const triedSecret =
    values.client_secret !== undefined ||
    values.client_assertion !== undefined ||
    /^basic\s/i.test(meta.authorization ?? '');
  if (triedSecret) {
    throw new OAuthError(
      'invalid_client',
      "clients here are public (token_endpoint_auth_method 'none'): send client_id without a secret",
    );
  }
  if (values.client_id === undefined) throw new OAuthError('invalid_client', 'client_id is missing');
  if (ctx.legacyClientIds.has(values.client_id)) return legacyClientRecord(values.client_id);
  const client = await ctx.clients.get(values.client_id);
  if (!client) throw new OAuthError('invalid_client', 'unknown client_id');
  return client;
}

async function exchangeCode(
  values: TokenParams,
  client: ClientRecord,
  ctx: TokenEndpointContext,
): Promise<TokenResponse> {
  const { code, code_verifier: verifier } = values;
  if (code === undefined) throw new OAuthError('invalid_request', 'code is missing');
  if (verifier === undefined)
    throw new OAuthError('invalid_request', 'code_verifier is missing (PKCE is required)');
  if (values.resource !== undefined && !sameResource(values.resource, ctx.resource)) {
    throw new OAuthError('invalid_target', `resource must be ${ctx.resource}`);
  }

  const redeemed = await ctx.codes.redeem(code);
  if (redeemed.kind === 'replayed') {
    throw new OAuthError(
      'invalid_grant',
      'authorization code already used; tokens issued with it are revoked',
    );
  }
  if (redeemed.kind === 'unknown')
    throw new OAuthError('invalid_grant', 'authorization code is invalid or expired');
  const { grant, familyId, pending } = redeemed;
  if (grant.clientId !== client.client_id) {
    throw new OAuthError('invalid_grant', 'authorization code was issued to another client');
  }
  const redirectUri = values.redirect_uri;
  if (
    grant.redirectUriExplicit
      ? redirectUri !== grant.redirectUri
      : redirectUri !== undefined && redirectUri !== grant.redirectUri
  ) {
    throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
  }
  if (!verifyPkceS256(verifier, grant.codeChallenge)) {
    throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  }
  if (values.resource !== undefined && !sameResource(values.resource, grant.resource)) {
    throw new OAuthError('invalid_target', 'resource does not match the authorization request');
  }

  const accessToken = newToken();
  const refreshToken = client.grant_types.includes('refresh_token') ? newToken() : undefined;
  await capacityAs503(() =>
    ctx.cache.storeToken({
      userId: grant.login,
      accessToken,
      ...(refreshToken ? { refreshToken, refreshExpiresIn: ctx.refreshTtl } : {}),
      tokenType: 'Bearer',
      clientId: client.client_id,
      scopes: grant.scopes,
      resource: grant.resource,
      // The code's grant, credentials included, was stored at /authorize: the tokens link to it.
      ...(pending !== undefined
        ? { pendingGrant: pending }
        : { familyId, userData: { login: grant.login, password: grant.password } }),
      expiresIn: ctx.accessTtl,
    }),
  );
  if (!(await ctx.codes.confirmIssued(code, familyId))) {
    throw new OAuthError(
      'invalid_grant',
      'authorization code already used; tokens issued with it are revoked',
    );
  }
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: ctx.accessTtl,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    scope: grant.scopes.join(' '),
  };
}

async function refresh(
  values: TokenParams,
  client: ClientRecord,
  meta: TokenRequestMeta,
  ctx: TokenEndpointContext,
): Promise<TokenResponse> {
  const presented = values.refresh_token;
  if (presented === undefined) throw new OAuthError('invalid_request', 'refresh_token is missing');
  if (values.resource !== undefined && !sameResource(values.resource, ctx.resource)) {
    throw new OAuthError('invalid_target', `resource must be ${ctx.resource}`);
  }
  const requestedScopes = parseScope(values.scope);
  let narrowed: string[] | undefined;
  if (requestedScopes && requestedScopes.length > 0) {
    // RFC 6749 §6: a refresh may narrow, never widen, the original grant.
    const current = await ctx.cache.inspectRefreshToken(presented);
    if (current && requestedScopes.some((s) => !current.scopes.includes(s))) {
      throw new OAuthError('invalid_scope', 'scope exceeds the scope originally granted');
    }
    narrowed = requestedScopes;
  }
  try {
    const result = await ctx.cache.rotateRefreshToken(presented, {
      clientId: client.client_id,
      ...(meta.clientAddress !== undefined ? { clientAddress: meta.clientAddress } : {}),
      issue: (previous) => {
        // A retry of a just-rotated token (lost response) is not live for the check above: judged
        // here, against the grant the retry carries over.
        if (narrowed?.some((s) => !previous.scopes.includes(s))) {
          throw new OAuthError('invalid_scope', 'scope exceeds the scope originally granted');
        }
        return {
          accessToken: newToken(),
          refreshToken: newToken(),
          expiresIn: ctx.accessTtl,
          refreshExpiresIn: ctx.refreshTtl,
          tokenType: 'Bearer',
          scopes: narrowed ?? previous.scopes,
        };
      },
    });
    if (result.previous.resource !== undefined && !sameResource(result.previous.resource, ctx.resource)) {
      // Not a token for this resource: undo the rotation rather than hand it out.
      await ctx.cache.revokeFamily(result.info.familyId);
      throw new OAuthError('invalid_grant', 'refresh token was not issued for this resource');
    }
    const scopes = result.tokens.scopes ?? narrowed ?? result.previous.scopes;
    return {
      access_token: result.tokens.accessToken,
      token_type: 'Bearer',
      expires_in: result.tokens.expiresIn,
      ...(result.tokens.refreshToken ? { refresh_token: result.tokens.refreshToken } : {}),
      scope: scopes.join(' '),
    };
  } catch (error) {
    if (error instanceof InvalidGrantError) throw new OAuthError('invalid_grant', describeGrantError(error));
    if (error instanceof CapacityError) throw capacityError(error);
    throw error;
  }
}

/**
 * Run a token issuance, answering a full cache (`CapacityError`: MAX_TOKEN_CACHE_SIZE reached, so
 * core refused rather than evict another user's tokens) as 503 `temporarily_unavailable` with
 * `Retry-After`. RFC 6749 names that code for the authorization endpoint (§4.1.2.1); the token
 * endpoint uses it the same way: the server cannot serve the request now, a retry later may work.
 */
async function capacityAs503<T>(issue: () => Promise<T>): Promise<T> {
  try {
    return await issue();
  } catch (error) {
    if (error instanceof CapacityError) throw capacityError(error);
    throw error;
  }
}

function capacityError(error: CapacityError): OAuthError {
  return new OAuthError(
    'temporarily_unavailable',
    'the server holds as many tokens as it is configured for; retry later',
    503,
    { retryAfterSeconds: error.retryAfterSeconds },
  );
}

function describeGrantError(error: InvalidGrantError): string {
  switch (error.reason) {
    case 'reused':
      return 'refresh token already used; every token of this grant is revoked';
    case 'race':
      return 'refresh token was rotated by a concurrent request a moment ago';
    case 'mismatch':
      return 'refresh token was issued to another client';
    case 'family_revoked':
      return 'this grant has been revoked';
    default:
      return 'refresh token is invalid, expired or revoked';
  }
}

/** An opaque 32-byte token, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

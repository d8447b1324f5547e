/**
 * The authorization server as one object: every endpoint's logic, wired to one {@link TokenCache}.
 * HTTP framing (parsing bodies, rendering pages, status codes) stays with the caller.
 */
import type { TokenCache } from '@oauth-cache/core';
import {
  type AuthorizationRequest,
  buildRedirect,
  validateAuthorizationRequest,
} from './authorize-request.js';
import { type ClientMetadataFetchOptions, ClientMetadataResolver } from './client-metadata-resolver.js';
import { type ClientRecord, ClientRegistry } from './clients.js';
import { CodeStore } from './codes.js';
import { FormTokens } from './form-token.js';
import { LEGACY_CLIENT_ID } from './legacy-client.js';
import { LoginRateLimiter, type LoginRateLimitOptions } from './login-rate-limiter.js';
import { DEFAULT_MCP_SCOPES } from './mcp-resource.js';
import {
  type AuthorizationServerMetadata,
  authorizationServerMetadata,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
} from './metadata.js';
import { DEFAULT_REDIRECT_POLICY, type RedirectPolicy } from './redirect-policy.js';
import { normalizeResource } from './resource.js';
import { handleRevocationRequest } from './revocation.js';
import { handleTokenRequest, type TokenRequestMeta, type TokenResponse } from './token-endpoint.js';

/** Options of {@link createAuthorizationServer}. Lifetimes in seconds. */
export interface AuthorizationServerOptions {
  cache: TokenCache;
  /** Issuer identifier: the public origin, e.g. `https://mcp.example.com` (no trailing slash). */
  issuer: string;
  /** Canonical URI of the protected MCP endpoint (RFC 8707 audience), e.g. `https://mcp.example.com/mcp`. */
  resource: string;
  /** Default {@link DEFAULT_MCP_SCOPES} (`['mcp']`). */
  scopesSupported?: readonly string[];
  /** Scopes granted when a request names none. Default: all of `scopesSupported`. */
  defaultScopes?: readonly string[];
  /** Authorization code lifetime. Default 120 (MCP_OAUTH2_CODE_TTL). */
  codeTtl?: number;
  /** Access token lifetime. Default 3600 (MCP_OAUTH2_ACCESS_TTL). */
  accessTtl?: number;
  /** Refresh token lifetime. Default 1209600 = 14 days (MCP_OAUTH2_REFRESH_TTL). */
  refreshTtl?: number;
  /** Idle lifetime of a client registration in ms. Default 90 days. */
  clientTtlMs?: number;
  /** Login rate limits. */
  loginRateLimit?: LoginRateLimitOptions;
  /** Human-readable name in the protected resource metadata. */
  resourceName?: string;
  /**
   * Client ids of families migrated from the Python server, accepted at the token endpoint for the
   * `refresh_token` grant only and never at `/authorize`. Default `[LEGACY_CLIENT_ID]`
   * (`mcp-public-client`); `[]` turns it off.
   */
  legacyClientIds?: readonly string[];
  /**
   * Client ID Metadata Documents (https URL client ids): the fetch's limits and the cache's bounds.
   * Default on with 5 KiB, 2.5 s, cache within [1 min, 24 h]; `false` turns CIMD off (and the
   * metadata flag with it). `allowLoopback`, `resolveHost` and `ca` exist for tests only.
   */
  clientMetadataFetch?: ClientMetadataFetchOptions | false;
  /**
   * Redirect host policy: hosts the operator vouches for, and whether other (non-loopback) hosts
   * are only warned about on the login page (`warn`, default) or refused (`enforce`).
   */
  redirectPolicy?: RedirectPolicy;
  /** Lifetime of a login form's token in ms. Default 600000 (10 minutes). */
  formTokenTtlMs?: number;
}

/** The authorization server's logic. */
export interface AuthorizationServer {
  readonly issuer: string;
  readonly resource: string;
  readonly scopesSupported: readonly string[];
  readonly clients: ClientRegistry;
  readonly codes: CodeStore;
  readonly loginRateLimiter: LoginRateLimiter;
  /** The redirect host policy in force. */
  readonly redirectPolicy: RedirectPolicy;
  /** Signed tokens binding a login POST to the page rendered for the request. */
  readonly formTokens: FormTokens;
  /** RFC 7591: register a public client; throws `OAuthError` (400). */
  register(metadata: unknown): Promise<ReturnType<typeof ClientRegistry.toResponse>>;
  /** Validate an authorization request; throws `AuthorizationPageError` / `AuthorizationRedirectError`. */
  validateAuthorizationRequest(params: URLSearchParams): Promise<AuthorizationRequest>;
  /**
   * The user authenticated as `login` with `password`: issue a code and resolve the redirect
   * target `redirect_uri?code=...&state=...&iss=...`.
   */
  completeAuthorization(request: AuthorizationRequest, login: string, password: string): Promise<string>;
  /** The redirect target when the user declines. */
  denyAuthorization(request: AuthorizationRequest): string;
  /** Token endpoint; throws `OAuthError`. */
  token(params: URLSearchParams, meta?: TokenRequestMeta): Promise<TokenResponse>;
  /** Revocation endpoint; throws `OAuthError` for malformed requests only. */
  revoke(params: URLSearchParams): Promise<void>;
  /** RFC 8414 document. */
  metadata(): AuthorizationServerMetadata;
  /** RFC 9728 document for the MCP resource. */
  protectedResourceMetadata(): ProtectedResourceMetadata;
}

/** Build the authorization server around `options.cache`. */
export function createAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  const issuer = options.issuer.replace(/\/+$/, '');
  const resource = normalizeResource(options.resource);
  if (!resource) throw new TypeError('resource must be an absolute http(s) URI without a fragment');
  const scopesSupported = options.scopesSupported ?? DEFAULT_MCP_SCOPES;
  const defaultScopes = options.defaultScopes ?? scopesSupported;
  const codeTtl = options.codeTtl ?? 120;
  const accessTtl = options.accessTtl ?? 3600;
  const refreshTtl = options.refreshTtl ?? 14 * 24 * 3600;
  const { cache } = options;
  const metadataDocuments =
    options.clientMetadataFetch === false
      ? undefined
      : new ClientMetadataResolver(cache, scopesSupported, options.clientMetadataFetch);
  const clients = new ClientRegistry(cache, {
    scopesSupported,
    ...(options.clientTtlMs ? { ttlMs: options.clientTtlMs } : {}),
    ...(metadataDocuments ? { metadataDocuments } : {}),
  });
  // A redeemed code is remembered as long as an access token from it lives, to revoke on replay.
  const codes = new CodeStore(cache, codeTtl, accessTtl);
  const loginRateLimiter = new LoginRateLimiter(cache, options.loginRateLimit);
  const redirectPolicy: RedirectPolicy = {
    mode: options.redirectPolicy?.mode ?? DEFAULT_REDIRECT_POLICY.mode,
    allowedHosts: (options.redirectPolicy?.allowedHosts ?? []).map((h) => h.toLowerCase()),
  };
  const formTokens = new FormTokens(cache, options.formTokenTtlMs);
  const requestContext = { clients, issuer, resource, scopesSupported, defaultScopes, redirectPolicy };
  const legacyClientIds = new Set(options.legacyClientIds ?? [LEGACY_CLIENT_ID]);
  const tokenContext = { cache, clients, codes, resource, accessTtl, refreshTtl, legacyClientIds };

  return {
    issuer,
    resource,
    scopesSupported,
    clients,
    codes,
    loginRateLimiter,
    redirectPolicy,
    formTokens,
    async register(metadata) {
      return ClientRegistry.toResponse(await clients.register(metadata));
    },
    validateAuthorizationRequest: (params) => validateAuthorizationRequest(params, requestContext),
    async completeAuthorization(request, login, password) {
      const code = await codes.issue({
        clientId: request.clientId,
        redirectUri: request.redirectUri,
        redirectUriExplicit: request.redirectUriExplicit,
        codeChallenge: request.codeChallenge,
        scopes: request.scopes,
        resource: request.resource,
        login,
        password,
      });
      return buildRedirect(request.redirectUri, { code, state: request.state, iss: issuer });
    },
    denyAuthorization(request) {
      return buildRedirect(request.redirectUri, {
        error: 'access_denied',
        error_description: 'the user declined the request',
        state: request.state,
        iss: issuer,
      });
    },
    token: (params, meta = {}) => handleTokenRequest(params, meta, tokenContext),
    revoke: (params) => handleRevocationRequest(params, { cache, clients, legacyClientIds }),
    metadata: () =>
      authorizationServerMetadata(issuer, scopesSupported, undefined, metadataDocuments !== undefined),
    protectedResourceMetadata: () =>
      protectedResourceMetadata(resource, issuer, scopesSupported, options.resourceName),
  };
}

export type { ClientRecord };

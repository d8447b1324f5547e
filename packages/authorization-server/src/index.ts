/**
 * @oauth-cache/authorization-server: OAuth 2.1 authorization server logic for an MCP gateway in
 * front of 1C, on top of @oauth-cache/core's TokenCache. Framework-free: bring your own HTTP layer.
 */
export { addressBucket } from './address-bucket.js';
export {
  type AuthorizationServer,
  type AuthorizationServerOptions,
  createAuthorizationServer,
} from './authorization-server.js';
export {
  AUTHORIZE_PARAMS,
  type AuthorizationRequest,
  type AuthorizeRequestContext,
  buildRedirect,
  PKCE_PATTERN,
  validateAuthorizationRequest,
} from './authorize-request.js';
export {
  ClientMetadataDocumentError,
  clientFromMetadataDocument,
  clientIdUrlProblem,
  isClientIdUrl,
} from './client-metadata-document.js';
export {
  type ClientMetadataFetchOptions,
  ClientMetadataResolver,
  cacheLifetimeSeconds,
} from './client-metadata-resolver.js';
export { type ClientRecord, ClientRegistry, type ClientRegistryOptions, type GrantType } from './clients.js';
export { type CodeGrant, CodeStore, type RedeemResult } from './codes.js';
export {
  AuthorizationPageError,
  AuthorizationRedirectError,
  errorDescription,
  MAX_ERROR_DESCRIPTION_LENGTH,
  OAuthError,
  type OAuthErrorBody,
  type OAuthErrorCode,
} from './errors.js';
export {
  DEFAULT_FORM_TOKEN_TTL_MS,
  FORM_TOKEN_FIELD,
  type FormTokenCheck,
  FormTokens,
} from './form-token.js';
export { LEGACY_CLIENT_ID, legacyClientIdsFromEnv, legacyClientRecord } from './legacy-client.js';
export {
  type LoginAttempt,
  LoginRateLimiter,
  type LoginRateLimitOptions,
  type LoginRefused,
} from './login-rate-limiter.js';
export { DEFAULT_MCP_SCOPES, defaultPublicUrl, mcpResourceFromEnv, mcpResourceOf } from './mcp-resource.js';
export {
  type AuthorizationServerMetadata,
  authorizationServerMetadata,
  DEFAULT_ENDPOINT_PATHS,
  type EndpointPaths,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
} from './metadata.js';
export {
  basicAuthorization,
  checkOneCCredentials,
  type OneCCheckOptions,
  type OneCCredentialCheck,
} from './onec-credentials.js';
export { isScopeToken, MAX_PARAM_LENGTH, type ParamRead, parseScope, readParams } from './params.js';
export { s256Challenge, verifyPkceS256 } from './pkce.js';
export {
  DEFAULT_REDIRECT_POLICY,
  describeRedirectTarget,
  parseAllowedHosts,
  type RedirectPolicy,
  type RedirectTarget,
  type RedirectWarning,
  refusedByPolicy,
} from './redirect-policy.js';
export {
  isLoopbackHost,
  MAX_REDIRECT_URI_LENGTH,
  matchRedirectUri,
  redirectUriProblem,
} from './redirect-uri.js';
export { normalizeResource, sameResource } from './resource.js';
export { handleRevocationRequest, type RevocationContext } from './revocation.js';
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_TIMEOUT_MS,
  type HostResolver,
  SafeFetchError,
  type SafeFetchFailure,
  type SafeFetchOptions,
  type SafeFetchResult,
  safeFetchJson,
} from './safe-fetch.js';
export { isAllowedAddress, isLoopbackAddress, isSpecialUseAddress } from './special-use-addresses.js';
export {
  handleTokenRequest,
  newToken,
  type TokenEndpointContext,
  type TokenRequestMeta,
  type TokenResponse,
} from './token-endpoint.js';

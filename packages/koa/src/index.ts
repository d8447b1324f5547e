/**
 * `@oauth-cache/koa`: thin Koa wrappers over `@oauth-cache/core`.
 * The bearer check itself ({@link verifyBearer}, {@link bearerChallenge}) is runtime-neutral.
 * @packageDocumentation
 */
export { type BearerAuthOptions, type BearerAuthState, bearerAuth } from './auth/bearer-auth.js';
export {
  MAX_AUTHORIZATION_LENGTH,
  type ParsedBearerHeader,
  parseBearerHeader,
} from './auth/bearer-header.js';
export { bearerChallenge, type ChallengeOptions, type ChallengeResponse } from './auth/challenge.js';
export {
  type BearerOutcome,
  type BearerOutcomeKind,
  type BearerTokenValidator,
  type VerifyBearerOptions,
  verifyBearer,
} from './auth/verify-bearer.js';
export { mapError, type OAuthErrorHandlerOptions, oauthErrorHandler } from './errors/oauth-error-handler.js';
export { DEFAULT_RETRY_AFTER_SECONDS, isStoreUnavailable } from './errors/store-unavailable.js';
export { type LimitedBody, readLimitedBody } from './http/limited-body.js';
export { type OAuthErrorBody, quoteHeaderValue } from './http/oauth-error-body.js';
export { type CreateLoggerOptions, createLogger, REDACT_PATHS, REDACTED } from './logging/create-logger.js';
export { type RequestLoggerOptions, type RequestLogState, requestLogger } from './logging/request-logger.js';
export { attachSecurityLog } from './logging/security-log.js';
export {
  attachStoreErrorLog,
  DEFAULT_STORE_LOG_INTERVAL_MS,
  describeStoreError,
  type StoreErrorFields,
  type StoreFailureLogOptions,
  type StoreFailureReporter,
  storeFailureLog,
} from './logging/store-failure-log.js';
export { type CacheMetrics, type CacheMetricsOptions, createCacheMetrics } from './metrics/cache-metrics.js';
export { type StatusRoutesOptions, statusRoutes } from './status/status-routes.js';
export { MIN_STATUS_TOKEN_LENGTH, requireStatusToken } from './status/status-token.js';

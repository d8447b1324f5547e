import { InvalidInputError, type TokenCache, type TokenValidation } from '@oauth-cache/core';
import { isStoreUnavailable } from '../errors/store-unavailable.js';
import { type ParsedBearerHeader, parseBearerHeader } from './bearer-header.js';

/**
 * The outcome of checking a request's bearer token. Runtime-neutral: the Koa middleware (or any other
 * framework) maps it to a response with {@link bearerChallenge}.
 */
export type BearerOutcome =
  | { kind: 'authorized'; auth: TokenValidation }
  /** No credentials at all: 401 with a bare challenge (no error code, RFC 6750 section 3.1). */
  | { kind: 'missing' }
  /** Malformed request (bad header, token in the query or body): 400. */
  | { kind: 'invalid_request'; description: string }
  /** Unknown, expired, revoked or wrong-audience token: 401. */
  | { kind: 'invalid_token'; description: string }
  /** Valid token lacking a required scope: 403; `scope` lists the scopes needed. */
  | { kind: 'insufficient_scope'; description: string; scope: string }
  /** The store could not answer: 503 with Retry-After (never "invalid"). */
  | { kind: 'unavailable'; description: string };

/** The kinds of {@link BearerOutcome}. */
export type BearerOutcomeKind = BearerOutcome['kind'];

/** What {@link verifyBearer} checks besides validity. */
export interface VerifyBearerOptions {
  /** Every one of these scopes must be granted (403 `insufficient_scope` otherwise). */
  requiredScopes?: readonly string[];
  /**
   * Expected audience (RFC 8707 resource, the canonical URL of this server): a token whose
   * `resource` differs, or that is bound to no resource, is rejected as `invalid_token`.
   */
  resource?: string;
}

/** The part of the cache the verifier needs. */
export type BearerTokenValidator = Pick<TokenCache, 'validateAccessToken'>;

/**
 * Check an `Authorization` header value: syntax (RFC 6750), then the cache (validity, expiry,
 * revocation), then audience and scopes. Never throws for bad input; rethrows only errors that are
 * neither "store unavailable" nor "invalid input" (programming errors).
 */
export async function verifyBearer(
  headerValue: string | readonly string[] | undefined,
  cache: BearerTokenValidator,
  options: VerifyBearerOptions = {},
): Promise<BearerOutcome> {
  const parsed = parseBearerHeader(headerValue);
  if (parsed.kind !== 'token') return headerRefusal(parsed);
  let validation: TokenValidation | null;
  try {
    validation = await cache.validateAccessToken(parsed.token);
  } catch (error) {
    return validationFailure(error);
  }
  if (!validation) return unknownToken();
  return refusalOf(validation, options) ?? { kind: 'authorized', auth: validation };
}

/** The refusal for a token the cache does not know (never stored, expired, revoked). */
export function unknownToken(): Exclude<BearerOutcome, { kind: 'authorized' }> {
  return { kind: 'invalid_token', description: 'The access token is invalid, expired or revoked' };
}

/** The refusal for a header that carries no token (missing or malformed). */
export function headerRefusal(
  parsed: Exclude<ParsedBearerHeader, { kind: 'token' }>,
): Exclude<BearerOutcome, { kind: 'authorized' }> {
  return parsed.kind === 'missing'
    ? { kind: 'missing' }
    : { kind: 'invalid_request', description: parsed.description };
}

/**
 * The outcome of a `validateAccessToken` call that threw: 503-material when the store is
 * unavailable, `invalid_token` for input core refuses; anything else is a bug and is rethrown.
 */
export function validationFailure(error: unknown): Exclude<BearerOutcome, { kind: 'authorized' }> {
  if (isStoreUnavailable(error)) {
    return { kind: 'unavailable', description: 'The token store is temporarily unavailable; retry later' };
  }
  if (error instanceof InvalidInputError)
    return { kind: 'invalid_token', description: 'The access token is malformed' };
  throw error;
}

/**
 * Why a live token is refused (wrong audience, missing scope), or `undefined` when it is
 * authorized. Synchronous, and allocates nothing for an authorized token (the middleware's hot path).
 */
export function refusalOf(
  validation: TokenValidation,
  options: VerifyBearerOptions,
): Exclude<BearerOutcome, { kind: 'authorized' }> | undefined {
  if (options.resource !== undefined && validation.resource !== options.resource) {
    return { kind: 'invalid_token', description: 'The access token was not issued for this resource' };
  }
  const required = options.requiredScopes;
  if (required) {
    const granted = validation.scopes;
    for (const scope of required) {
      if (!granted.includes(scope)) {
        return {
          kind: 'insufficient_scope',
          description: 'The access token lacks a required scope',
          scope: required.join(' '),
        };
      }
    }
  }
  return undefined;
}

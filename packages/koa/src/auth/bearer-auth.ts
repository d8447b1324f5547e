import type { TokenCache, TokenValidation } from '@oauth-cache/core';
import type { Context, Middleware } from 'koa';
import { parseBearerHeader } from './bearer-header.js';
import { bearerChallenge, type ChallengeOptions, type ChallengeResponse } from './challenge.js';
import { findTokenInForm, hasFormBody, hasQueryToken } from './token-outside-header.js';
import {
  type BearerOutcome,
  type BearerOutcomeKind,
  headerRefusal,
  refusalOf,
  unknownToken,
  validationFailure,
} from './verify-bearer.js';

/** What {@link bearerAuth} leaves on `ctx.state`. */
export interface BearerAuthState {
  /** The token's validation, set when the request is authorized. */
  auth?: TokenValidation;
  /** How the bearer check ended (read by the request logger). */
  authOutcome?: BearerOutcomeKind | 'excluded';
}

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions {
  /** The token cache (only `validateAccessToken` and `touchSession` are used). */
  cache: Pick<TokenCache, 'validateAccessToken' | 'touchSession'>;
  /** Scopes every request must carry (403 `insufficient_scope` otherwise); named as `scope` in every challenge. */
  requiredScopes?: readonly string[];
  /** RFC 9728 metadata URL announced in every challenge (`resource_metadata`). Required by MCP clients. */
  resourceMetadataUrl?: string;
  /** Expected audience: tokens whose `resource` differs are rejected (401 `invalid_token`). */
  resource?: string;
  /** Requests to let through unauthenticated: a predicate, or exact paths (`ctx.path`). */
  exclude?: ((ctx: Context) => boolean) | readonly string[];
  /** Refresh the token's session on each authorized request (default true). Failures are ignored. */
  touchSession?: boolean;
  /** `Retry-After` seconds when the store is unavailable (default 5). */
  retryAfterSeconds?: number;
  /** Largest form body read to look for a forbidden `access_token` field (default 64 KiB; larger: 413). */
  formBodyLimitBytes?: number;
  /** Told about failed session touches (they never fail the request). */
  onTouchError?: (error: unknown) => void;
}

/** RFC 6749 scope-token characters: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Koa middleware protecting the routes after it with bearer tokens from the cache (RFC 6750, MCP
 * authorization 2025-06-18). Tokens are accepted only from `Authorization: Bearer`; on success
 * `ctx.state.auth` holds the validation. Failures answer 400/401/403 with a `WWW-Authenticate`
 * challenge and an OAuth JSON body; an unavailable store answers 503 with `Retry-After`.
 */
export function bearerAuth(options: BearerAuthOptions): Middleware<BearerAuthState> {
  const { cache, requiredScopes, resource } = options;
  for (const scope of requiredScopes ?? []) {
    if (!SCOPE_TOKEN.test(scope)) {
      throw new TypeError('bearerAuth: requiredScopes contains an invalid scope token');
    }
  }
  const resourceMetadataUrl = options.resourceMetadataUrl && absoluteUrl(options.resourceMetadataUrl);
  const challengeOptions: ChallengeOptions = {
    ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}),
    ...(options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
    // Every challenge names the scopes to request, not only the 403 (MCP 2025-11-25 scope selection).
    ...(requiredScopes && requiredScopes.length > 0 ? { scope: requiredScopes.join(' ') } : {}),
  };
  const verifyOptions = {
    ...(requiredScopes ? { requiredScopes: [...requiredScopes] } : {}),
    ...(resource !== undefined ? { resource } : {}),
  };
  const isExcluded = excluder(options.exclude);
  const formBodyLimit = options.formBodyLimitBytes ?? 64 * 1024;
  const touch = options.touchSession ?? true;

  return async function bearerAuthMiddleware(ctx, next) {
    if (isExcluded(ctx)) {
      ctx.state.authOutcome = 'excluded';
      return next();
    }
    // Synchronous checks first: GET requests (the hot path) never wait on a body read.
    const placement = hasQueryToken(ctx)
      ? 'query'
      : hasFormBody(ctx)
        ? await findTokenInForm(ctx, formBodyLimit)
        : undefined;
    if (placement === 'body_too_large') {
      ctx.set('Connection', 'close');
      ctx.status = 413;
      ctx.body = { error: 'invalid_request', error_description: 'Request body too large' };
      return;
    }
    if (placement) {
      refuse(ctx, challengeOptions, {
        kind: 'invalid_request',
        description: `Access tokens are accepted only in the Authorization header, not in the ${placement === 'query' ? 'query string' : 'request body'}`,
      });
      return;
    }
    // verifyBearer's steps inlined: one promise (the cache's) per request instead of three, and
    // no outcome object for an authorized token. Same checks, same order, same answers.
    const parsed = parseBearerHeader(authorizationOf(ctx.req.rawHeaders));
    if (parsed.kind !== 'token') {
      refuse(ctx, challengeOptions, headerRefusal(parsed));
      return;
    }
    let auth: TokenValidation | null;
    try {
      auth = await cache.validateAccessToken(parsed.token);
    } catch (error) {
      refuse(ctx, challengeOptions, validationFailure(error));
      return;
    }
    if (auth === null) {
      refuse(ctx, challengeOptions, unknownToken());
      return;
    }
    const refusal = refusalOf(auth, verifyOptions);
    if (refusal) {
      refuse(ctx, challengeOptions, refusal);
      return;
    }
    ctx.state.authOutcome = 'authorized';
    ctx.state.auth = auth;
    const sessionId = auth.sessionId;
    if (touch && sessionId) {
      // Fire and forget: a slow or failing session store must not slow down or fail the request.
      cache.touchSession(sessionId).catch((error: unknown) => options.onTouchError?.(error));
    }
    await next();
  };
}

function refuse(
  ctx: Context,
  challengeOptions: ChallengeOptions,
  outcome: Exclude<BearerOutcome, { kind: 'authorized' }>,
): void {
  ctx.state.authOutcome = outcome.kind;
  respond(ctx, bearerChallenge(outcome, challengeOptions));
}

function respond(ctx: Context, challenge: ChallengeResponse): void {
  ctx.status = challenge.status;
  ctx.set(challenge.headers);
  ctx.body = challenge.body;
}

/**
 * The Authorization header value(s) from the raw header list: Node keeps only the first of
 * duplicates in `req.headers`, and two Authorization headers must be refused. Allocates only when
 * there are several; the usual spellings are compared without lower-casing.
 */
export function authorizationOf(raw: readonly string[]): string | string[] | undefined {
  let first: string | undefined;
  let more: string[] | undefined;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index];
    if (
      name !== undefined &&
      name.length === 13 &&
      (name === 'authorization' || name === 'Authorization' || name.toLowerCase() === 'authorization')
    ) {
      const value = raw[index + 1] ?? '';
      if (first === undefined) first = value;
      else if (more === undefined) more = [first, value];
      else more.push(value);
    }
  }
  return more ?? first;
}

function excluder(exclude: BearerAuthOptions['exclude']): (ctx: Context) => boolean {
  if (!exclude) return () => false;
  if (typeof exclude === 'function') return exclude;
  const paths = new Set(exclude);
  return (ctx) => paths.has(ctx.path);
}

function absoluteUrl(value: string): string {
  try {
    // `href` percent-encodes anything a header cannot carry.
    return new URL(value).href;
  } catch {
    throw new TypeError('bearerAuth: resourceMetadataUrl must be an absolute URL');
  }
}

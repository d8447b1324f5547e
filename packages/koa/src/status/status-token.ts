import { createHash, timingSafeEqual } from 'node:crypto';
import type { Middleware } from 'koa';
import { parseBearerHeader } from '../auth/bearer-header.js';
import { quoteHeaderValue } from '../http/oauth-error-body.js';

/** Shortest status token accepted: anything shorter is guessable and would protect nothing. */
export const MIN_STATUS_TOKEN_LENGTH = 16;

/**
 * Middleware requiring `Authorization: Bearer <statusToken>`, compared in constant time (both sides
 * are hashed to equal-length digests first, so the length does not leak either). 401 otherwise.
 */
export function requireStatusToken(statusToken: string): Middleware {
  if (statusToken.length < MIN_STATUS_TOKEN_LENGTH) {
    throw new TypeError(`statusToken: expected at least ${MIN_STATUS_TOKEN_LENGTH} characters`);
  }
  const expected = digest(statusToken);
  return async function statusTokenMiddleware(ctx, next) {
    const parsed = parseBearerHeader(ctx.req.headers.authorization);
    if (parsed.kind === 'token' && timingSafeEqual(digest(parsed.token), expected)) {
      await next();
      return;
    }
    const description = parsed.kind === 'missing' ? undefined : 'Invalid status token';
    ctx.status = 401;
    ctx.set('Cache-Control', 'no-store');
    ctx.set(
      'WWW-Authenticate',
      `Bearer realm=${quoteHeaderValue('oauth-cache-status')}${description ? `, error="invalid_token", error_description=${quoteHeaderValue(description)}` : ''}`,
    );
    ctx.body = { error: 'invalid_token', error_description: description ?? 'Status token required' };
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * JSON answers of the OAuth endpoints: RFC 6749 §5.1/§5.2 bodies, never cached.
 */
import { OAuthError } from '@oauth-cache/authorization-server';
import type { Context, Middleware } from 'koa';
import { BodyError } from './body.js';

/** `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1). */
export function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** Answer `body` as JSON with `status`, uncached. */
export function sendJson(ctx: Context, status: number, body: unknown): void {
  noStore(ctx);
  ctx.status = status;
  ctx.body = body;
}

/**
 * Turns {@link OAuthError} and {@link BodyError} thrown by the OAuth routes into RFC-shaped JSON.
 * `errorCodeForBody` names the error code used for body problems on this route (RFC 7591 routes use
 * `invalid_client_metadata`, the others `invalid_request`).
 */
export function oauthJsonErrors(errorCodeForBody = 'invalid_request'): Middleware {
  return async function oauthJsonErrorsMiddleware(ctx, next) {
    try {
      await next();
    } catch (error) {
      if (error instanceof OAuthError) {
        if (error.status === 401 && ctx.get('authorization'))
          ctx.set('WWW-Authenticate', 'Basic realm="oauth-cache"');
        // 503 `temporarily_unavailable` (the token cache is full) tells the client when to retry.
        if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
        sendJson(ctx, error.status, error.toJSON());
        return;
      }
      if (error instanceof BodyError) {
        if (error.status === 413) ctx.set('Connection', 'close');
        const code = error.status === 400 ? errorCodeForBody : 'invalid_request';
        sendJson(ctx, error.status, { error: code, error_description: error.description });
        return;
      }
      throw error;
    }
  };
}

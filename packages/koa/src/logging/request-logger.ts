import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { BearerAuthState } from '../auth/bearer-auth.js';
import { requestIdFrom } from './request-id.js';

/** What {@link requestLogger} leaves on `ctx.state`. */
export interface RequestLogState extends BearerAuthState {
  /** This request's id (also in the `X-Request-Id` response header). */
  requestId?: string;
  /** A child logger bound to the request id. */
  log?: Logger;
}

/** Options of {@link requestLogger}. */
export interface RequestLoggerOptions {
  logger: Logger;
  /** Header read and echoed (default `X-Request-Id`). */
  header?: string;
}

/**
 * Koa middleware logging one line per request: request id (client's `X-Request-Id` if sane, else a
 * UUID, echoed back), method, path without query string, status, duration, user id when
 * authenticated and the outcome (the bearer outcome when refused, else ok/client_error/server_error).
 * Mount it first (before `oauthErrorHandler`) so every request is logged.
 */
export function requestLogger(options: RequestLoggerOptions): Middleware<RequestLogState> {
  const header = options.header ?? 'X-Request-Id';
  return async function requestLoggerMiddleware(ctx, next) {
    const started = performance.now();
    const requestId = requestIdFrom(ctx.req.headers[header.toLowerCase()] as string | undefined);
    ctx.state.requestId = requestId;
    ctx.set(header, requestId);
    const log = options.logger.child({ reqId: requestId });
    ctx.state.log = log;
    let failed: unknown;
    try {
      await next();
    } catch (error) {
      failed = error;
      throw error;
    } finally {
      const status = failed === undefined ? ctx.status : statusOfError(failed);
      const auth = ctx.state.authOutcome;
      const outcome =
        auth && auth !== 'authorized' && auth !== 'excluded'
          ? auth
          : status >= 500
            ? 'server_error'
            : status >= 400
              ? 'client_error'
              : 'ok';
      const fields = {
        method: ctx.method,
        path: ctx.path.length > 512 ? `${ctx.path.slice(0, 512)}...` : ctx.path,
        status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        outcome,
        ...(ctx.state.auth ? { userId: ctx.state.auth.userId } : {}),
      };
      if (status >= 500) log.error(fields, 'request failed');
      else if (status >= 400) log.warn(fields, 'request refused');
      else log.info(fields, 'request completed');
    }
  };
}

function statusOfError(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

import { CapacityError, InvalidInputError } from '@oauth-cache/core';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { OAuthErrorBody } from '../http/oauth-error-body.js';
import { type StoreFailureReporter, storeFailureLog } from '../logging/store-failure-log.js';
import { DEFAULT_RETRY_AFTER_SECONDS, isStoreUnavailable } from './store-unavailable.js';

/** Options of {@link oauthErrorHandler}. */
export interface OAuthErrorHandlerOptions {
  /**
   * Where unexpected errors are logged at `error` (default: the Koa app's `error` event), and store
   * failures (the 503s) at `warn` with their message, throttled by `storeLogIntervalMs`. Without a
   * logger, store failures are not logged here.
   */
  logger?: Logger;
  /** `Retry-After` seconds on 503 (default 5). */
  retryAfterSeconds?: number;
  /** At most one store-failure line per this many ms (default 5000; 0 = one per failed request). */
  storeLogIntervalMs?: number;
}

/** Error types raised by raw-body / co-body based parsers (koa-bodyparser, @koa/bodyparser). */
const PARSE_ERROR_TYPES = new Set([
  'entity.parse.failed',
  'encoding.unsupported',
  'charset.unsupported',
  'request.size.invalid',
  'request.aborted',
  'stream.encoding.set',
]);

const CLIENT_ERROR_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'access_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  429: 'too_many_requests',
};

interface HttpishError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  headers?: unknown;
  message?: unknown;
}

/**
 * Koa middleware (mount it first) turning every thrown error into a JSON answer, never an HTML or
 * stack-trace 500: store unavailable -> 503 + `Retry-After` (logged at `warn` with its cause,
 * throttled, when a `logger` is given); a full token cache (core's `CapacityError`) -> 503
 * `temporarily_unavailable` + the error's `Retry-After`; body parse errors -> 400
 * `invalid_request`; too large -> 413; other client errors keep their status; anything else ->
 * 500 `{"error":"server_error"}` with no details (the error is logged instead). Error statuses left
 * without a body (unmatched route 404, router 405) get a JSON `{error}` body as well.
 */
export function oauthErrorHandler(options: OAuthErrorHandlerOptions = {}): Middleware {
  const retryAfter = String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
  const reportStore: StoreFailureReporter | undefined = options.logger
    ? storeFailureLog({
        logger: options.logger,
        level: 'warn',
        ...(options.storeLogIntervalMs !== undefined ? { intervalMs: options.storeLogIntervalMs } : {}),
      })
    : undefined;
  return async function oauthErrorMiddleware(ctx, next) {
    try {
      await next();
      // Bodyless error statuses (unmatched route 404, router 405/501) get a JSON body too, not Koa's text.
      if (ctx.body == null && ctx.status >= 400 && ctx.writable && !ctx.headerSent) {
        const status = ctx.status;
        ctx.status = status;
        ctx.body = {
          error: status < 500 ? (CLIENT_ERROR_CODES[status] ?? 'invalid_request') : 'server_error',
        };
      }
    } catch (error) {
      const mapped = mapError(error);
      if (isStoreUnavailable(error)) reportStore?.(error, requestFields(ctx));
      // A full token cache is reported by core's `capacity_reached` security event, not as a bug.
      else if (mapped.status >= 500 && !isCapacityError(error)) report(ctx, error, options.logger);
      if (ctx.headerSent || !ctx.writable) return;
      ctx.status = mapped.status;
      ctx.set('Cache-Control', 'no-store');
      if (mapped.status === 503) ctx.set('Retry-After', mapped.retryAfter ?? retryAfter);
      if (mapped.status === 413) ctx.set('Connection', 'close');
      if (mapped.allow) ctx.set('Allow', mapped.allow);
      ctx.body = mapped.body;
    }
  };
}

/** The status and OAuth-shaped body an error maps to (exported for other runtimes and tests). */
export function mapError(error: unknown): {
  status: number;
  body: OAuthErrorBody;
  allow?: string;
  /** `Retry-After` the error asks for (a full token cache), instead of the handler's default. */
  retryAfter?: string;
} {
  if (isCapacityError(error)) {
    // The cache refused a new token rather than evict another user's: not a store failure.
    return {
      status: 503,
      body: {
        error: 'temporarily_unavailable',
        error_description: 'The server holds as many tokens as it is configured for; retry later',
      },
      retryAfter: String((error as { retryAfterSeconds: number }).retryAfterSeconds),
    };
  }
  if (isStoreUnavailable(error)) {
    return {
      status: 503,
      body: {
        error: 'temporarily_unavailable',
        error_description: 'The token store is temporarily unavailable; retry later',
      },
    };
  }
  if (error instanceof InvalidInputError) {
    return { status: 400, body: { error: 'invalid_request', error_description: error.message } };
  }
  const httpish = (typeof error === 'object' && error !== null ? error : {}) as HttpishError;
  const status = statusOf(httpish);
  if (status === 413 || httpish.type === 'entity.too.large') {
    return { status: 413, body: { error: 'invalid_request', error_description: 'Request body too large' } };
  }
  // co-body (used by @koa/bodyparser) throws the JSON.parse SyntaxError with status 400 and no type.
  const parseFailure =
    (typeof httpish.type === 'string' && PARSE_ERROR_TYPES.has(httpish.type)) ||
    (error instanceof SyntaxError && status === 400);
  if (parseFailure) {
    return {
      status: 400,
      body: { error: 'invalid_request', error_description: 'The request body could not be parsed' },
    };
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const message =
      httpish.expose === true && typeof httpish.message === 'string' ? httpish.message : undefined;
    const allow = status === 405 ? allowHeader(httpish.headers) : undefined;
    return {
      status,
      body: {
        error: CLIENT_ERROR_CODES[status] ?? 'invalid_request',
        ...(message ? { error_description: message } : {}),
      },
      ...(allow ? { allow } : {}),
    };
  }
  return { status: 500, body: { error: 'server_error' } };
}

/** Core's CapacityError, also from another copy of core (matched by its stable `code`). */
function isCapacityError(error: unknown): boolean {
  if (error instanceof CapacityError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, retryAfterSeconds } = error as { code?: unknown; retryAfterSeconds?: unknown };
  return code === 'capacity_reached' && Number.isSafeInteger(retryAfterSeconds);
}

function statusOf(error: HttpishError): number | undefined {
  const status = typeof error.status === 'number' ? error.status : error.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599
    ? status
    : undefined;
}

function allowHeader(headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const allow = (headers as Record<string, unknown>).Allow ?? (headers as Record<string, unknown>).allow;
  return typeof allow === 'string' && /^[A-Z, ]*$/.test(allow) ? allow : undefined;
}

function requestFields(ctx: Context): Record<string, unknown> {
  const requestId = (ctx.state as { requestId?: unknown }).requestId;
  return {
    method: ctx.method,
    path: ctx.path.length > 512 ? `${ctx.path.slice(0, 512)}...` : ctx.path,
    ...(typeof requestId === 'string' ? { reqId: requestId } : {}),
  };
}

function report(ctx: Context, error: unknown, logger: Logger | undefined): void {
  if (logger) logger.error({ err: error, method: ctx.method, path: ctx.path }, 'unhandled error');
  else ctx.app.emit('error', error, ctx);
}

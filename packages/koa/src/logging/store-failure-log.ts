import type { TokenCache } from '@oauth-cache/core';
import type { Logger } from 'pino';
import { isStoreUnavailable } from '../errors/store-unavailable.js';

/** Default spacing of store-failure lines: one per 5 s per reporter, however many requests fail. */
export const DEFAULT_STORE_LOG_INTERVAL_MS = 5000;

/** Longest error message written: enough to diagnose, never a dump. */
const MAX_MESSAGE = 300;

/** What a store-failure line says about the error (no stack: it would repeat on every line). */
export interface StoreErrorFields {
  name: string;
  message: string;
  /** The error's own code, e.g. `store_unavailable`. */
  code?: string;
  /** The driver error behind it, e.g. `{ name: 'Error', code: 'ECONNREFUSED' }` or `SQLITE_FULL`. */
  cause?: { name: string; code?: string };
}

/** Options of {@link storeFailureLog}. */
export interface StoreFailureLogOptions {
  logger: Logger;
  /** Level of the lines (default `warn`). */
  level?: 'warn' | 'error';
  /** At most one line per this many ms; later failures are counted in `suppressed` (default 5000, 0 = every failure). */
  intervalMs?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/** Logs one failure, with extra fields (e.g. `method`, `path`), unless throttled. */
export type StoreFailureReporter = (error: unknown, fields?: Record<string, unknown>) => void;

/**
 * A throttled reporter of store failures: the first failure is logged at once, then at most one
 * line per `intervalMs`, carrying `suppressed` (how many were not logged since the previous line),
 * so an outage under load gives a readable log instead of one line per request. Lines hold the
 * error's name, message, code and its cause's code (`ECONNREFUSED`, `SQLITE_FULL`): store messages
 * name the store (passwords masked) and the operation, never keys, tokens or passwords.
 */
export function storeFailureLog(options: StoreFailureLogOptions): StoreFailureReporter {
  const interval = options.intervalMs ?? DEFAULT_STORE_LOG_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const level = options.level ?? 'warn';
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error, fields = {}) => {
    const at = now();
    if (at - lastAt < interval) {
      suppressed += 1;
      return;
    }
    lastAt = at;
    const described = describeStoreError(error);
    const store = isStoreUnavailable(error);
    options.logger[level](
      {
        event: store ? 'store_unavailable' : 'cache_error',
        ...fields,
        // Not `err`: pino's error serializer would rewrite this plain object.
        error: described,
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      `${store ? 'token store unavailable' : 'token cache error'}: ${described.message}`,
    );
    suppressed = 0;
  };
}

/** The loggable facts of an error: name, clipped message, code, and its cause's name and code. */
export function describeStoreError(error: unknown): StoreErrorFields {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    cause?: unknown;
  };
  const raw = typeof e.message === 'string' ? e.message : String(error);
  const fields: StoreErrorFields = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: raw.length > MAX_MESSAGE ? `${raw.slice(0, MAX_MESSAGE)}...` : raw,
  };
  if (typeof e.code === 'string') fields.code = e.code;
  if (typeof e.cause === 'object' && e.cause !== null) {
    const cause = e.cause as { name?: unknown; code?: unknown };
    fields.cause = {
      name: typeof cause.name === 'string' ? cause.name : 'Error',
      ...(typeof cause.code === 'string' || typeof cause.code === 'number'
        ? { code: String(cause.code) }
        : {}),
    };
  }
  return fields;
}

/**
 * Log the cache's `error` events (a store call made through the cache failed) at `error` level,
 * throttled as {@link storeFailureLog} (one line per `intervalMs`, default 5 s). Store calls made
 * directly on `cache.store` do not emit these: log them where they are caught (`oauthErrorHandler`
 * does with its `logger`). Returns a function that detaches the listener.
 */
export function attachStoreErrorLog(
  cache: Pick<TokenCache, 'events'>,
  logger: Logger,
  options: { intervalMs?: number } = {},
): () => void {
  const report = storeFailureLog({
    logger,
    level: 'error',
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
  });
  const onError = (error: Error) => report(error, { source: 'cache' });
  cache.events.on('error', onError);
  return () => {
    cache.events.off('error', onError);
  };
}

import { StoreUnavailableError } from '@oauth-cache/core';

/** Longest driver message quoted in an error: enough to diagnose, never a dump. */
const MAX_DETAIL = 200;

/**
 * Turn any driver failure into the contract's {@link StoreUnavailableError}, naming the store and
 * the operation. Keys and values are never quoted: driver messages here (SQLite codes, node-redis
 * client errors, Redis error replies) do not echo arguments.
 */
export function storeUnavailable(store: string, operation: string, cause: unknown): StoreUnavailableError {
  if (cause instanceof StoreUnavailableError) return cause;
  const detail =
    cause instanceof Error
      ? `${cause.name === 'Error' ? '' : `${cause.name}: `}${cause.message}`
      : String(cause);
  return new StoreUnavailableError(`${store}: ${operation} failed: ${detail.slice(0, MAX_DETAIL)}`, {
    cause,
  });
}

/** Validate a TTL handed to `set`/`add`: a non-finite TTL would be stored as "forever" by Keyv. */
export function assertTtl(ttlMs: number): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) {
    throw new TypeError(`ttlMs must be a finite number of milliseconds, got ${String(ttlMs)}`);
  }
}

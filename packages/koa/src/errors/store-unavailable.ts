import { StoreUnavailableError } from '@oauth-cache/core';

/** Seconds a client is told to wait (`Retry-After`) when the store is down, unless configured. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * True for core's StoreUnavailableError, also when it comes from another copy of core in the
 * dependency tree (matched by its stable `code`).
 */
export function isStoreUnavailable(error: unknown): boolean {
  return (
    error instanceof StoreUnavailableError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { code?: unknown }).code === 'store_unavailable')
  );
}

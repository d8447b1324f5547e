import type { ExpiringValue } from './expiring.js';

/** Core's rule for what a record links to (`CacheStore.getWithGrant`). */
export { grantIdOf } from '@oauth-cache/core';

/** A record and its grant, each with its expiry (`undefined`: missing, expired or not linked). */
export type RecordWithGrant = [ExpiringValue | undefined, ExpiringValue | undefined];

/**
 * Stores that read a record with its grant in one operation and report both expiries (both
 * stores of this package): the L1 fills both entries from one read without outliving either.
 */
export interface GrantAwareReads {
  getWithGrantAndExpiry(key: string, grantKeyPrefix: string): Promise<RecordWithGrant>;
}

/** True when `store` offers {@link GrantAwareReads}. */
export function hasGrantAwareReads(store: object): store is GrantAwareReads {
  return typeof (store as Partial<GrantAwareReads>).getWithGrantAndExpiry === 'function';
}

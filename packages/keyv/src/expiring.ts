/** A value read together with its absolute expiry (epoch ms; `undefined` = none known). */
export interface ExpiringValue {
  value: unknown;
  expiresAt: number | undefined;
}

/**
 * Stores that can report a record's expiry on read (both stores of this package). The L1 uses it
 * so a cached entry never outlives the record itself.
 */
export interface ExpiryAwareReads {
  getWithExpiry(key: string): Promise<ExpiringValue | undefined>;
  getManyWithExpiry(keys: string[]): Promise<Array<ExpiringValue | undefined>>;
}

/** True when `store` offers {@link ExpiryAwareReads}. */
export function hasExpiryAwareReads(store: object): store is ExpiryAwareReads {
  const s = store as Partial<ExpiryAwareReads>;
  return typeof s.getWithExpiry === 'function' && typeof s.getManyWithExpiry === 'function';
}

/**
 * The expiry of a value read from a store without {@link ExpiryAwareReads}: core's records carry
 * it as `exp` (epoch ms).
 */
export function expiryOf(value: unknown): ExpiringValue | undefined {
  if (value === undefined) return undefined;
  const exp = typeof value === 'object' && value !== null ? (value as { exp?: unknown }).exp : undefined;
  return { value, expiresAt: typeof exp === 'number' ? exp : undefined };
}

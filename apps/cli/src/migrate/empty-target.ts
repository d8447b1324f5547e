import type { TokenCache } from '@oauth-cache/core';

/**
 * Whether the store of `cache` holds no record under the cache's prefix (records, rotation and
 * revocation markers alike; indexes are not records). A migration into such a target has nothing
 * to compare with, so it skips its presence reads. Other processes may write meanwhile, but only
 * records of their own: keyed digests of random tokens and ids, which no migrated key equals.
 */
export async function holdsNoRecord(cache: TokenCache): Promise<boolean> {
  for await (const _ of cache.store.entries(cache.config.prefix)) return false;
  return true;
}

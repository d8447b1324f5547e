import { it } from 'vitest';
import type { CacheStore } from '../../store/contract.js';
import type { ResolvedCapabilities, StoreSuiteOptions } from './options.js';

/** What each topic of the store suite registers its tests with. */
export interface StoreSuiteContext {
  options: StoreSuiteOptions;
  capabilities: ResolvedCapabilities;
  /** Register a test that gets a fresh store, closed afterwards whatever the outcome. */
  storeTest: (title: string, body: (store: CacheStore) => Promise<void>) => void;
}

/** Build the context of one {@link runStoreSuite} call. */
export function storeSuiteContext(
  options: StoreSuiteOptions,
  capabilities: ResolvedCapabilities,
): StoreSuiteContext {
  return {
    options,
    capabilities,
    storeTest: (title, body) => {
      it(title, async () => {
        const store = await options.open();
        try {
          await body(store);
        } finally {
          await store.close();
        }
      });
    },
  };
}

/**
 * The optional method `method` of `store`, bound; fails with the switch to turn off when the store
 * has none (the suite cannot tell before the test runs).
 */
export function optionalMethod<
  K extends 'lock' | 'writeBatch' | 'bulkLoad' | 'onRemoteDelete' | 'getWithGrant',
>(store: CacheStore, method: K, capability: string): NonNullable<CacheStore[K]> {
  const fn = store[method];
  if (typeof fn !== 'function') {
    throw new Error(
      `the ${store.kind} store has no ${method}(): pass capabilities: { ${capability}: false } to runStoreSuite`,
    );
  }
  return fn.bind(store) as NonNullable<CacheStore[K]>;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The store-level suite: the executable form of the contract in `store/contract.ts`. It calls the
 * store's methods directly (no cache on top), so a failure names the method that broke. Cache
 * behaviour over a store is `runConformanceSuite`'s.
 */
import { describe } from 'vitest';
import { commitTests } from './commit.js';
import { storeSuiteContext } from './harness.js';
import { indexTests } from './indexes.js';
import { listingTests } from './listing.js';
import { optionalTests } from './optional.js';
import { resolveCapabilities, type StoreSuiteOptions } from './options.js';
import { peerTests } from './peer.js';
import { recordTests } from './records.js';

export type { StoreCapabilities, StoreSuiteOptions } from './options.js';

/**
 * Register the store-level tests of one store with vitest (call it at the top level of a test
 * file). Each test opens a fresh store with `open` and closes it.
 *
 * ```ts
 * import { runStoreSuite } from '@oauth-cache/core/conformance';
 * runStoreSuite({ name: 'memory', open: async () => new MemoryStore(), capabilities: { lock: false } });
 * ```
 */
export function runStoreSuite(options: StoreSuiteOptions): void {
  const context = storeSuiteContext(options, resolveCapabilities(options.capabilities));
  describe(`store suite: ${options.name}`, () => {
    recordTests(context);
    indexTests(context);
    commitTests(context);
    listingTests(context);
    optionalTests(context);
    peerTests(context);
  });
}

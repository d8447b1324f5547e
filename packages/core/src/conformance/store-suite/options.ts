import type { CacheStore } from '../../store/contract.js';

/**
 * What a store can do beyond the required methods, or does differently. A switch set to `false`
 * does not register the tests it guards (they are absent, not skipped).
 *
 * The suite cannot look at a store before its tests run (stores are opened inside them, often after
 * a `beforeAll` started their backend), so the optional methods default to "present": a store
 * without one fails its test with a message naming the switch to turn off.
 */
export interface StoreCapabilities {
  /** `lock` (cross-process mutex) is implemented. Default `true`. */
  lock?: boolean;
  /** `writeBatch` (bulk import) is implemented. Default `true`. */
  writeBatch?: boolean;
  /** `bulkLoad` (staged import) is implemented. Default `true`. */
  bulkLoad?: boolean;
  /** `getWithGrant` (a record with the grant it links to, in one read) is implemented. Default `true`. */
  getWithGrant?: boolean;
  /** `entries` can list records (a plain key-value store may not). Default `true`. */
  entries?: boolean;
  /**
   * `sweep` removes expired records and dead index members itself and counts the records (SQLite,
   * memory). `false`: the backend expires records on its own and `sweep` answers 0 (Redis), its
   * tests check only that. Default `true`.
   */
  sweepCountsRecords?: boolean;
  /** `sweep` drops dead index members (a plain key-value store leaves them to the next write). Default `true`. */
  sweepDropsDeadMembers?: boolean;
  /** `set` refuses a non-finite TTL with a `TypeError`. Default `true`. */
  refusesNonFiniteTtl?: boolean;
  /** After `close()` every call rejects with `StoreUnavailableError` (memory: it stays usable). Default `true`. */
  rejectsAfterClose?: boolean;
  /**
   * `hold` and `stillHolds` are implemented, and hold the values this process read (the memory
   * store; an L1 for its matching keys, such as `oc:at:` and `oc:g:`). Default `false`.
   */
  holdsInProcess?: boolean;
  /** `onRemoteDelete` is implemented; its test needs {@link StoreSuiteOptions.openPeer}. Default `false`. */
  remoteDelete?: boolean;
}

/** What a store package hands to {@link runStoreSuite}. */
export interface StoreSuiteOptions {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty store (a new file, a flushed database...). Closed by the suite. */
  open: () => Promise<CacheStore>;
  /**
   * A second handle on the same backend as `store` (a new connection, as another process would
   * open). When given, the cross-process tests run: one winner among commits issued through both
   * handles that require the same key absent (or present). Closed by the suite.
   */
  openPeer?: (store: CacheStore) => Promise<CacheStore>;
  capabilities?: StoreCapabilities;
}

/** Every switch of {@link StoreCapabilities}, resolved. */
export type ResolvedCapabilities = Required<StoreCapabilities>;

/** Fill the defaults in. */
export function resolveCapabilities(capabilities: StoreCapabilities = {}): ResolvedCapabilities {
  return {
    lock: capabilities.lock ?? true,
    writeBatch: capabilities.writeBatch ?? true,
    bulkLoad: capabilities.bulkLoad ?? true,
    getWithGrant: capabilities.getWithGrant ?? true,
    entries: capabilities.entries ?? true,
    sweepCountsRecords: capabilities.sweepCountsRecords ?? true,
    sweepDropsDeadMembers: capabilities.sweepDropsDeadMembers ?? true,
    refusesNonFiniteTtl: capabilities.refusesNonFiniteTtl ?? true,
    rejectsAfterClose: capabilities.rejectsAfterClose ?? true,
    holdsInProcess: capabilities.holdsInProcess ?? false,
    remoteDelete: capabilities.remoteDelete ?? false,
  };
}

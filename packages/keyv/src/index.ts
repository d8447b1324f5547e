/**
 * `@oauth-cache/keyv`: the stores of oauth-cache that several processes can share.
 *
 * - {@link createStore} / {@link createStoreFromEnv}: `memory://`, `sqlite://`, `redis://`, `rediss://`.
 * - {@link SqliteStore} (`@keyv/sqlite`), {@link RedisStore} (`@keyv/redis`): the full `CacheStore`
 *   contract of `@oauth-cache/core`, atomic across processes.
 * - {@link L1Store}: an in-process read cache for access-token and grant records, invalidated across processes.
 * - {@link acquireLock}: a cross-process lock with compare-and-delete release.
 * - {@link DigestSet}: which strings were seen, as 96-bit hashes (a key listing of millions, deduplicated).
 *
 * Test helpers (a real `redis-server` per test run) live in `@oauth-cache/keyv/testing`.
 * @packageDocumentation
 */
export { type CreateStoreOptions, createStore, createStoreFromEnv } from './create-store.js';
export { DigestSet } from './digest-set.js';
export { type Envelope, EnvelopeCodec } from './envelope.js';
export { type L1Options, L1Store } from './l1/l1-store.js';
export { type AcquireLockOptions, acquireLock } from './lock.js';
export type { RedisTimings, RedisTlsOptions } from './redis/client-options.js';
export { CommandTimeoutError } from './redis/deadline.js';
export { RedisStore, type RedisStoreOptions } from './redis/redis-store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { maskUrl, parseStoreUrl, type StoreUrl } from './url.js';

/**
 * `@oauth-cache/core`: a framework-free OAuth token and session cache.
 * @packageDocumentation
 */
export {
  type CacheConfig,
  type CacheConfigInput,
  configFromEnv,
  ENV_VARIABLES,
  type EncryptionKey,
  type Environment,
  parseEncryptionKeys,
  parseSecret,
  presets,
  resolveConfig,
  type SecurityLevel,
} from './config.js';
export { Digester } from './crypto/digest.js';
export { Sealer } from './crypto/sealer.js';
export { TokenSealer } from './crypto/token-sealer.js';
export {
  CAPACITY_RETRY_AFTER_SECONDS,
  CapacityError,
  ConfigError,
  InvalidGrantError,
  InvalidInputError,
  OAuthCacheError,
  SealError,
  StoreUnavailableError,
} from './errors.js';
export type {
  CacheEventMap,
  CleanupEvent,
  OperationEvent,
  SecurityEvent,
  SecurityEventType,
} from './events.js';
export { MAX_TOKEN_LENGTH } from './limits.js';
export {
  GrantDirectory,
  type GrantSummary,
  type ListUsersOptions,
  type OperatorActor,
  type SessionSummary,
  type UserDetail,
  type UserSummary,
  type UsersPage,
} from './operator/index.js';
export { PendingGrant } from './pending-grant.js';
export { EXPORTED_RECORD_PREFIXES, type ImportOutcome } from './record-transfer.js';
export type { DecodedRecord } from './records/codec.js';
export { legacyFamilyId } from './records/keys.js';
export type {
  BatchOp,
  BulkLoadInfo,
  CacheStore,
  CommitResult,
  Held,
  IndexAddOptions,
  IndexEntry,
  IndexPageOptions,
  KeyValueStore,
  Precondition,
  RecordBody,
  RecordKind,
  StoredRecord,
  StoreEntry,
  StoreLock,
  Transaction,
  TxOp,
} from './store/contract.js';
export { grantIdOf } from './store/contract.js';
export { HeldValue, RECENCY_REFRESH_MS } from './store/held-value.js';
export { compareIndexEntriesDesc, indexPageOf } from './store/index-page.js';
export { KeyedLock } from './store/keyed-lock.js';
export { adaptKeyValueStore, isCacheStore } from './store/keyvalue-adapter.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export { failedPrecondition, type PreconditionReader } from './store/transaction.js';
export { createTokenCache, TokenCache, type TokenCacheOptions } from './token-cache.js';
export { randomToken } from './token-service.js';
export type * from './types.js';

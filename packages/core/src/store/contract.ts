/**
 * The storage contract of oauth-cache: everything a store must do, in one file.
 *
 * The store-level suite `runStoreSuite` (`@oauth-cache/core/conformance`) is the executable form of
 * this contract: it calls each method directly, with switches for what is optional (`lock`,
 * `writeBatch`, `bulkLoad`, `entries`, `onRemoteDelete`...). `runConformanceSuite` then runs the
 * cache's behaviour over the store. A store author runs both from one vitest file:
 *
 * ```ts
 * import { runConformanceSuite, runStoreSuite } from '@oauth-cache/core/conformance';
 * const open = async () => MyStore.open({ path: await freshTempFile() });
 * runStoreSuite({ name: 'my-store', open, capabilities: { bulkLoad: false } });
 * runConformanceSuite({ name: 'my-store', createStore: open });
 * ```
 *
 * Two shapes exist:
 *
 * - {@link KeyValueStore}: `get`, `set` with a TTL, `delete` (batch optional). A `Keyv` instance
 *   satisfies it as it is. `createTokenCache` wraps such a store with {@link adaptKeyValueStore},
 *   which builds the atomic operations below from get/set/delete under an in-process lock. That is
 *   correct for ONE process only.
 * - {@link CacheStore}: the full contract with atomic operations. Stores shared by several processes
 *   (SQLite file, Redis) implement it natively (transactions, Lua), so one-winner refresh rotation,
 *   the session cap and the indexes stay correct across processes.
 *
 * The one atomic write a grant needs is {@link CacheStore.commit}: preconditions checked and writes
 * applied as one unit. What other contracts spell as separate primitives is a commit here: "set if
 * absent" requires `{ if: 'absent', key }` then sets the key; "read and delete once" reads the key,
 * then requires `{ if: 'present', key }` and deletes it (exactly one of concurrent callers gets
 * `ok: true`). Besides `commit`, only the index upkeep (`indexAdd` with a cap) and the optional
 * `lock` are atomic.
 *
 * ## Failure semantics
 * A store MUST throw {@link StoreUnavailableError} (or a subclass) when it cannot answer: the backend
 * is down, a command timed out, a write was not acknowledged. It MUST NOT answer `undefined` for
 * "could not ask": the cache would then treat a live token as unknown (fail open for revocation,
 * fail closed for everything else, and the user logged out for nothing). Keyv swallows errors;
 * store packages turn them back into throws.
 *
 * ## Keys (all under the cache's `prefix`, default `oc:`)
 * Every secret-derived key part is `digest = base64url(HMAC-SHA-256(secret, value))`, never the
 * value itself. User ids in keys are digested as well (`uh = digest("user:" + userId)`).
 *
 * | key | value | TTL |
 * | --- | --- | --- |
 * | `at:<digest(accessToken)>` | {@link StoredRecord} of kind `access` | until the token expires |
 * | `rt:<digest(refreshToken)>` | {@link StoredRecord} of kind `refresh` | until the token expires |
 * | `rc:<digest(refreshToken)>` | {@link StoredRecord} of kind `consumed`: a rotated refresh token, kept to detect reuse | the refresh token's remaining lifetime |
 * | `rr:<digest(refreshToken)>` | {@link StoredRecord} of kind `consumed`: what a retry of a just-rotated refresh token needs (the pair issued, what the token held of its own): linked to its grant like a token record, the grant key wrapped under that token | `reuseLeewayMs` from the rotation |
 * | `g:<familyId>` | {@link StoredRecord} of kind `grant`: user, client, scopes, resource, session, issue time; its private part (`gp`: the 1C credentials, at `maximum` the user id) sealed under a random per-grant key that each of its token records (and its authorization code's) holds wrapped under a key derived from that token (`wk`) | the latest expiry of its tokens (a grant with no token yet: its code's) |
| `fr:<familyId>` | {@link StoredRecord} of kind `family-revoked` | the refresh lifetime |
 * | `s:<digest(sessionId)>` | {@link StoredRecord} of kind `session` | idle timeout, capped by the absolute lifetime |
 * | `lock:<name>` | a fencing token (string) | a few seconds |
 * | `x:<name>` | any other record a component keeps (clients, codes: see the server); an authorization code's is a record of kind `code` linked to its grant like a token's (`TokenCache.storePendingGrant`) | its own |
 *
 * ## Indexes
 * An index is a set of `member -> score` where the score is the member's expiry (epoch ms).
 * Members whose score is in the past are dead and may be dropped at any time. Indexes kept by core:
 *
 * | index key | members | cap |
 * | --- | --- | --- |
 * | `ix:tokens` | `a:<digest>` / `r:<digest>` for every token | `maxTokens`, judged by core before it writes (a new token is refused, nothing evicted) |
 * | `ix:sessions` | `<sessionDigest>` | `maxSessions` |
 * | `ix:users` | `<uh>` of every user holding a live token or session | none |
 * | `ix:u:<uh>` | the user's tokens (`a:`/`r:` members) | none |
 * | `ix:ug:<uh>` | the user's grants (family ids; score: their latest token expiry) | `maxGrantsPerUser`, judged by core (the user's own oldest grant is revoked) |
 * | `ix:us:<uh>` | the user's sessions | `maxSessionsPerUser` (least recently active evicted) |
 * | `ix:f:<familyId>` | the family's tokens (a legacy family's own token is implied by its id: `records/keys.ts`) | none |
 * | `ix:st:<digest(sessionId)>` | tokens bound to the session | none |
 *
 * ## Records
 * Values are plain JSON objects ({@link StoredRecord}). A store may return the same object it was
 * given (memory store): callers treat values as immutable. Expiry is always also inside the record
 * (`exp`), so a store without native TTLs is still correct: core ignores expired records on read.
 */

/** Minimal store: what a `Keyv` instance already offers. */
export interface KeyValueStore {
  /** The value, or `undefined` when missing or expired. */
  get(key: string): Promise<unknown>;
  /**
   * Store a value. `ttl` is in milliseconds. A return of `false` means "not written" and is turned
   * into a {@link StoreUnavailableError} by the cache.
   */
  set(key: string, value: unknown, ttl?: number): Promise<unknown>;
  /** Delete; resolves `true` when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Optional batch read, same order as `keys`. */
  getMany?(keys: string[]): Promise<unknown[]>;
}

/** One entry of an index: a member and its expiry (epoch ms). */
export interface IndexEntry {
  member: string;
  score: number;
}

/** Options of {@link CacheStore.indexAdd}. */
export interface IndexAddOptions {
  /** Keep at most this many live members; the lowest scores are evicted and returned. */
  cap?: number;
  /** Current time (epoch ms): members with a score at or below it are dropped first. */
  now: number;
  /** Only raise an existing member's score, never lower it (Redis `ZADD GT`). */
  keepGreater?: boolean;
}

/** Options of {@link CacheStore.indexPage}. */
export interface IndexPageOptions {
  /** Most entries returned (a whole number >= 0). */
  limit: number;
  /** The last entry of the previous page: the page starts strictly after it. */
  after?: IndexEntry;
}

/** A record as it is listed by {@link CacheStore.entries}. */
export interface StoreEntry {
  key: string;
  value: unknown;
  /** Absolute expiry in epoch ms, when the store knows it. */
  expiresAt?: number;
}

/**
 * A value a store holds in this process, as {@link CacheStore.hold} hands it out. The same handle
 * stands for the same stored value until the store drops that value (delete, overwrite, eviction,
 * expiry): then {@link CacheStore.stillHolds} answers false and `derived` is cleared.
 */
export interface Held {
  /** The stored value (treat as immutable). */
  readonly value: unknown;
  /**
   * A slot for the caller's derivation of `value` (core: the record as the presented token opened
   * it), cleared by the store when it drops the value, so what was derived leaves memory with it.
   */
  derived: unknown;
}

/** The full store contract. Every method may throw {@link StoreUnavailableError}. */
export interface CacheStore {
  /** The value, or `undefined` when missing or expired. */
  get(key: string): Promise<unknown>;
  /** Batch read, same order as `keys`, `undefined` for missing. */
  getMany(keys: string[]): Promise<unknown[]>;
  /**
   * Optional, with {@link stillHolds}. The value `get(key)` would resolve, when the store holds it
   * in this process and can tell at once (the memory store; a held L1 entry), as a {@link Held}
   * handle; `undefined` when it would have to read (then call `get`). Never a value `get` would not
   * give. The validation hot path spares a promise with it, and keeps the handle to ask
   * {@link stillHolds} next time instead of looking the key up again.
   */
  hold?(key: string): Held | undefined;
  /**
   * Optional, with {@link hold}. Whether `held`, a handle this store's `hold` gave, is still what
   * `get` of its key would resolve now: false once the value was deleted, replaced, evicted,
   * expired or (an L1) may be stale. Answered from the handle, without a lookup; a store with a
   * recency order refreshes the key's place in it from time to time.
   */
  stillHolds?(held: Held): boolean;
  /**
   * Optional. `get(key)` and, when that value is a record linked to a grant (an object whose `g`
   * is a string), `get(grantKeyPrefix + value.g)`, read as ONE operation (Redis: one script call,
   * one round trip). Resolves `[value, grant]`; `grant` is `undefined` when the value is missing or
   * not linked, or the grant is missing. Core reads a token record with its grant through it (the
   * validation of a token not held in process: one round trip); without it, two `get`s.
   */
  getWithGrant?(key: string, grantKeyPrefix: string): Promise<[unknown, unknown]>;
  /** Store `value` for `ttlMs` milliseconds (overwrites). Throws when not written. */
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** Delete keys; resolves how many existed. */
  delete(...keys: string[]): Promise<number>;
  /**
   * Add (or re-score) a member of an index, atomically drop members whose score is <= `now`, then
   * evict the lowest-scored members beyond `cap`. Resolves the evicted members (never the added one
   * unless it has the lowest score and the cap is 0). The index key lives as long as its highest score.
   */
  indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]>;
  /** Remove members from an index. */
  indexRemove(key: string, members: string[]): Promise<void>;
  /** Live members (score > now), lowest score first. */
  indexRange(key: string, now: number): Promise<IndexEntry[]>;
  /**
   * One page of live members (score > now), in DESCENDING order of `(score, member)` (members of
   * equal score compared by their UTF-8 bytes, as Redis and SQLite do), starting strictly after
   * `options.after` (keyset pagination: the cursor need not be a member any more, the page goes on
   * from where it would sort), at most `options.limit` entries (0: none). The operator directory
   * lists users with it, most recently active first, without reading a whole index.
   */
  indexPage(key: string, now: number, options: IndexPageOptions): Promise<IndexEntry[]>;
  /** How many live members (score > now). */
  indexCount(key: string, now: number): Promise<number>;
  /** Delete a whole index. */
  indexDelete(key: string): Promise<void>;
  /** Every live record whose key starts with `prefix` (indexes are not listed). */
  entries(prefix: string): AsyncIterable<StoreEntry>;
  /** Remove expired records and dead index members; resolves how many records were removed. */
  sweep(now: number): Promise<number>;
  /**
   * Optional cross-process mutex (Redis: SET NX PX + compare-and-delete). Resolves a handle, or
   * `null` when another holder has it. Used for single-flight refresh across processes.
   */
  lock?(name: string, ttlMs: number): Promise<StoreLock | null>;
  /**
   * Apply `tx` as ONE atomic unit (Redis: one script call; SQLite: one transaction): either every
   * precondition in `tx.require` holds and every op is applied, or nothing is written and the
   * result names the first precondition that failed. Every token operation of core (issue,
   * rotate, revoke a grant, revoke a user) ends in exactly one `commit`, so a crash never leaves
   * half of one, and concurrent callers cannot interleave inside it (one rotation wins).
   */
  commit(tx: Transaction): Promise<CommitResult>;
  /**
   * Optional batch write in one transaction/pipeline (bulk import). Index adds here carry no cap:
   * core judges `maxTokens` before it writes a batch (one `indexCount`) and never evicts tokens.
   * A store must apply the batch ahead of calls issued after it returns, as the built-in stores
   * do.
   */
  writeBatch?(ops: BatchOp[]): Promise<void>;
  /**
   * Optional: run a bulk import, whose `writeBatch` calls `run` makes. The store may defer making
   * those batches readable until `run` settles (SQLite stages them and merges in key order), so
   * `run` must not depend on reading its own batches back; everything written is readable once
   * the returned promise resolves. Other operations behave as usual meanwhile. `run` is told which
   * way the store went (a caller may size its batches by it).
   */
  bulkLoad?<T>(run: (load: BulkLoadInfo) => Promise<T>): Promise<T>;
  /** Cheap liveness probe: resolves when the backend answers, throws StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Release connections and timers. */
  close(): Promise<void>;
  /**
   * Optional: subscribe to keys deleted by other processes sharing this store (used by in-process
   * caches to drop stale entries). Resolves an unsubscribe function.
   */
  onRemoteDelete?(listener: (keys: string[]) => void): Promise<() => Promise<void>>;
  /** A short name for logs and health output, e.g. `memory`, `sqlite`, `redis`. Never holds secrets. */
  readonly kind: string;
}

/** A held cross-process lock. */
export interface StoreLock {
  /** Unique per acquisition; a store write guarded by the lock can check it is still current. */
  fencingToken: string;
  /** Release if still held by this acquisition (never releases someone else's). */
  release(): Promise<void>;
}

/** What {@link CacheStore.bulkLoad} tells its `run` about the load. */
export interface BulkLoadInfo {
  /**
   * The store defers the load's batches (SQLite: staged, then merged in key order), so each
   * `writeBatch` costs little whatever its size; `false` when batches are written in place as
   * they come (SQLite: a store that already held data), where larger batches mean fewer commits.
   */
  deferred: boolean;
}

/** One operation of {@link CacheStore.writeBatch}. */
export type BatchOp =
  | { op: 'set'; key: string; value: unknown; ttlMs: number }
  | { op: 'indexAdd'; key: string; member: string; score: number; keepGreater?: boolean };

/**
 * A condition {@link CacheStore.commit} checks, atomically with its writes.
 * - `present` / `absent`: a live record at `key` exists / does not.
 * - `room`: the index `index` has at most `cap - adding` live members (score > `tx.now`), i.e.
 *   `adding` more fit under `cap` (the `maxTokens` cap, judged where it cannot be raced).
 * - `count`: the index `index` has exactly `equals` live members (nothing joined or left it since
 *   the caller read it: a revocation that read a family's tokens deletes all of them).
 */
export type Precondition =
  | { if: 'present'; key: string }
  | { if: 'absent'; key: string }
  | { if: 'room'; index: string; adding: number; cap: number }
  | { if: 'count'; index: string; equals: number };

/**
 * One write of {@link CacheStore.commit}. `indexAdd` drops the index's dead members (score <=
 * `tx.now`) and never evicts; `keepGreater` only raises an existing member's score. `delete` of a
 * missing key and `indexRemove` of a missing member are no-ops.
 */
export type TxOp =
  | { op: 'set'; key: string; value: unknown; ttlMs: number }
  | { op: 'delete'; keys: string[] }
  | { op: 'indexAdd'; key: string; member: string; score: number; keepGreater?: boolean }
  | { op: 'indexRemove'; key: string; members: string[] }
  | { op: 'indexDelete'; key: string };

/** What {@link CacheStore.commit} applies: its preconditions, then its writes in order. */
export interface Transaction {
  /** Current time (epoch ms): index members with a score at or below it are dead. */
  now: number;
  require?: Precondition[];
  ops: TxOp[];
}

/** The outcome of {@link CacheStore.commit}: applied, or the index in `require` that failed. */
export type CommitResult = { ok: true } | { ok: false; failed: number };

/** The grant id a stored value links to (`g`, when a string): the rule of {@link CacheStore.getWithGrant}. */
export function grantIdOf(value: unknown): string | undefined {
  const g = typeof value === 'object' && value !== null ? (value as { g?: unknown }).g : undefined;
  return typeof g === 'string' ? g : undefined;
}

/** The kinds of record core writes. */
export type RecordKind =
  | 'access'
  | 'refresh'
  | 'consumed'
  | 'family-revoked'
  | 'session'
  | 'grant'
  /** An authorization code linked to a grant that has no token yet (`TokenCache.storePendingGrant`). */
  | 'code';

/**
 * A stored record. `exp` (epoch ms) and `kind` are always in the clear; in `maximum` security level
 * every other field is inside `sealed` (AES-256-GCM, see `crypto/sealer.ts`).
 */
export interface StoredRecord {
  /** Record format version. */
  v: 1;
  kind: RecordKind;
  /** Absolute expiry, epoch ms. */
  exp: number;
  /** `maximum` level: the sealed JSON of {@link RecordBody} (less what `pv` holds). */
  sealed?: string;
  /** Every other field, in the clear below `maximum`. */
  body?: RecordBody;
  /**
   * The private part (`ud`; at `maximum` also `uid`) sealed under a key derived from the record's
   * own token (`TokenSealer`): only whoever presents the token opens it, not the server's keys.
   */
  pv?: string;
  /**
   * A token record linked to its grant (`g:<id>`): the grant id. Such a record holds only its
   * kind, expiry, this id, `wk` and what is the token's own (rotation counter, scopes narrowed by
   * a refresh, issue time of a rotated token, the sealed raw token when retrievable).
   */
  g?: string;
  /** The grant's key wrapped under a key derived from this record's token (`TokenSealer`). */
  wk?: string;
  /** A grant record's private part (`ud`; at `maximum` also `uid`) sealed under the grant's key. */
  gp?: string;
}

/** The fields of a record (sealed as a whole in `maximum`). */
export interface RecordBody {
  /** User id (token, session records). */
  uid?: string;
  /** Digest of the user id (`userHash`), readable without the token: index upkeep by id. */
  uh?: string;
  /** Family (grant) id. */
  fam?: string;
  /** OAuth client id. */
  cid?: string;
  /** Scopes. */
  scp?: string[];
  /** RFC 8707 resource (audience). */
  res?: string;
  /** Token type, e.g. `Bearer`. */
  typ?: string;
  /** Id of the session the token is bound to (a handle, not a credential; its record is keyed by digest). */
  sid?: string;
  /** Issued at / created at, epoch ms. */
  iat?: number;
  /** `userData` in the clear (`basic` only). */
  ud?: unknown;
  /** `userData` sealed (`enhanced`). */
  uds?: string;
  /** Refresh rotation counter. */
  rot?: number;
  /** The raw token, only when stored with `retrievable: true` (getFreshToken). Never stored as is: see `toks`. */
  tok?: string;
  /** `tok` sealed. */
  toks?: string;
  /** For `consumed`: when it was consumed (epoch ms). */
  at?: number;
  /**
   * For `consumed` (`rc:`): the id of the consumed token whose retry replaced this one before it was
   * delivered. Such a token presented later is reuse, never a retry.
   */
  via?: string;
  /**
   * For a retry record (`rr:`) that holds everything itself: digests of the access and refresh
   * token the rotation issued (a linked retry record keeps these in `data`).
   */
  nat?: string;
  nrt?: string;
  /** For a retry record (`rr:`): the consumed refresh token's own expiry (epoch ms). */
  rex?: number;
  /** Session: last activity (epoch ms). */
  seen?: number;
  /** Session: absolute end of life (epoch ms). */
  abs?: number;
  /**
   * Session data; what an authorization code keeps of its own (its redirect URI and PKCE
   * challenge); what a linked retry record keeps (`at`, `rex`, `nat`, `nrt`). In the clear at
   * `basic` only.
   */
  data?: unknown;
  /** Session data sealed (`enhanced`). */
  datas?: string;
}

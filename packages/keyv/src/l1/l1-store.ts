import {
  type BatchOp,
  type CacheStore,
  type CommitResult,
  type Held,
  HeldValue,
  type IndexAddOptions,
  type IndexEntry,
  type IndexPageOptions,
  type StoreEntry,
  type StoreLock,
  type Transaction,
} from '@oauth-cache/core';
import { LRUCache } from 'lru-cache';
import { type ChangeWatch, hasChangeWatch } from '../change-watch.js';
import { type ExpiringValue, expiryOf, hasExpiryAwareReads } from '../expiring.js';
import { grantIdOf, hasGrantAwareReads, type RecordWithGrant } from '../grant-link.js';

/** Options of the in-process L1 cache ({@link L1Store}). */
export interface L1Options {
  /** Most entries kept (least recently used go first). Default 10000. */
  max?: number;
  /**
   * The staleness bound, in ms (default 1000): nothing is served that may have changed in another
   * process more than this long ago. An entry younger than this is served as it is; an older one
   * only while the store proves, within this bound, that every change made elsewhere has been
   * reported to the L1 (its change watch: a heartbeat heard back on Redis, `data_version` on
   * SQLite), up to {@link maxHoldMs}.
   */
  maxStaleMs?: number;
  /**
   * Longest time an entry is kept while the store's change watch proves it current, in ms
   * (default 60000; never past the record's own expiry). Without a change watch, entries live
   * `maxStaleMs`.
   */
  maxHoldMs?: number;
  /**
   * Which keys are cached. Default: access-token records and grant records, keys starting with
   * `<prefix>at:` or `<prefix>g:`. A grant record never changes while it lives, except to be
   * written again with a later expiry (an entry holding the earlier one only leaves sooner), and it
   * is deleted when the grant is revoked: that delete reaches the L1 through `onRemoteDelete`, as a
   * token's does. Other records (refresh tokens, sessions, locks) are read-modify-write material:
   * always read through.
   */
  match?: (key: string) => boolean;
  /** The cache's key prefix, for the default `match`. Default `oc:`. */
  prefix?: string;
}

/** A missed key waiting for the next batched read. */
interface PendingRead {
  key: string;
  resolve: (read: ExpiringValue | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * A {@link CacheStore} decorator keeping recent `get` results of matching keys in process memory.
 *
 * - Hits return the SAME object every time (core keeps decoded records in a WeakMap keyed by it).
 * - An entry is served for `maxStaleMs` after it was read, and after that only while the inner
 *   store's change watch ({@link ChangeWatch}) has proven, less than `maxStaleMs` ago, that every
 *   change made elsewhere was reported, up to `maxHoldMs`; never past the record's own expiry (read
 *   from the inner store when it reports it, else from the record's `exp` field). The staleness
 *   bound stays `maxStaleMs` either way; a hot set of tokens larger than one `maxStaleMs` of
 *   requests now stays held (10,000 tokens at 8,000 requests/s: every token came back after 1.2 s,
 *   past a 1 s bound, and the hit rate was 0).
 * - Misses are never cached: a token stored by another process is visible at the next call.
 * - Concurrent misses of one key share ONE read of the inner store (single flight). Without it, a
 *   hot token under concurrent load never got back into the L1 once it left it: every miss started
 *   a read that superseded the previous one, so no read was ever "the latest" when it finished
 *   (measured before the fix: 0 hits in 118 000 validations from 32 concurrent callers on SQLite).
 * - Misses of distinct keys in the same event-loop turn are read together, one `getMany` of the
 *   inner store per turn (many tokens, many connections: one query instead of ten).
 * - Local `delete`/`set`/`writeBatch`/`commit` drop the keys they touch; deletes by
 *   other processes arrive through the inner store's `onRemoteDelete` (Redis pub/sub: tens of µs
 *   on a LAN) and drop them too. A change watch that reports lost changes empties the L1.
 * - A read racing with an invalidation of the same key does not repopulate the L1 with the value
 *   it read before the invalidation.
 * - `getWithGrant` serves each of its two keys from the L1 when held. A record not held is read
 *   with its grant in one operation of the inner store when it offers one (Redis: one script
 *   call); the record is that read's flight, and the grant (whose key is known only once the
 *   record is read, too late to register a flight) fills the L1 only if nothing at all was
 *   invalidated while the read was out.
 */
export class L1Store implements CacheStore {
  readonly kind: string;
  /** The wrapped store. */
  readonly inner: CacheStore;
  readonly lock?: (name: string, ttlMs: number) => Promise<StoreLock | null>;
  readonly writeBatch?: (ops: BatchOp[]) => Promise<void>;
  readonly onRemoteDelete?: (listener: (keys: string[]) => void) => Promise<() => Promise<void>>;
  /**
   * Entries: `until` is the record's own expiry when known, and at most `maxHoldMs` after filling;
   * `since`, when it was read: younger than `maxStaleMs`, an entry is served without a proof.
   */
  readonly #lru: LRUCache<string, HeldValue>;
  readonly #maxStaleMs: number;
  readonly #maxHoldMs: number;
  /** The latest time before which every change made elsewhere was reported (the change watch). */
  #settledAt = Number.NEGATIVE_INFINITY;
  #stopWatching: (() => Promise<void>) | undefined;
  readonly #read: (key: string) => Promise<ExpiringValue | undefined>;
  readonly #readMany: (keys: string[]) => Promise<Array<ExpiringValue | undefined>>;
  readonly #match: (key: string) => boolean;
  /** The inner store's read of a record with its grant, when it has one. */
  readonly #readWithGrant: ((key: string, grantKeyPrefix: string) => Promise<RecordWithGrant>) | undefined;
  /**
   * Invalidations so far (any key, and every `lost`): a read whose keys were not known when it
   * started fills the L1 only if this did not move meanwhile.
   */
  #invalidations = 0;
  /**
   * The read in flight per key, shared by every concurrent miss of that key. It may fill the L1 only
   * if it is still the key's flight when it lands: an invalidation removes it, so a read racing
   * with a delete or a write never puts the old value back.
   */
  readonly #inFlight = new Map<string, Promise<ExpiringValue | undefined>>();
  #unsubscribe: (() => Promise<void>) | undefined;
  #hits = 0;
  #misses = 0;
  #coalesced = 0;
  /**
   * Misses waiting for the next batched read (see {@link L1Store.#batchedRead}), `undefined` when
   * no flush is scheduled.
   */
  #pendingReads: PendingRead[] | undefined;

  private constructor(inner: CacheStore, options: L1Options) {
    this.inner = inner;
    this.kind = inner.kind;
    const prefix = options.prefix ?? 'oc:';
    const tokenPrefix = `${prefix}at:`;
    const grantPrefix = `${prefix}g:`;
    this.#match = options.match ?? ((key) => key.startsWith(tokenPrefix) || key.startsWith(grantPrefix));
    this.#maxStaleMs = Math.max(1, options.maxStaleMs ?? 1000);
    this.#maxHoldMs = hasChangeWatch(inner)
      ? Math.max(this.#maxStaleMs, options.maxHoldMs ?? 60_000)
      : this.#maxStaleMs;
    // No lru-cache TTL: each entry carries its own `until`, checked on every hit (lru-cache's TTL
    // clock arms a timer every millisecond under load, and reads the clock once more per hit).
    // `dispose` runs on delete, overwrite, eviction and clear alike: every way an entry leaves.
    this.#lru = new LRUCache<string, HeldValue>({
      max: options.max ?? 10_000,
      dispose: (held) => held.drop(),
    });
    if (hasExpiryAwareReads(inner)) {
      this.#read = (key) => inner.getWithExpiry(key);
      this.#readMany = (keys) => inner.getManyWithExpiry(keys);
    } else {
      this.#read = async (key) => expiryOf(await inner.get(key));
      this.#readMany = async (keys) => (await inner.getMany(keys)).map(expiryOf);
    }
    if (hasGrantAwareReads(inner)) {
      this.#readWithGrant = (key, grantKeyPrefix) => inner.getWithGrantAndExpiry(key, grantKeyPrefix);
    } else if (inner.getWithGrant) {
      this.#readWithGrant = async (key, grantKeyPrefix) => {
        const [record, grant] = await inner.getWithGrant!(key, grantKeyPrefix);
        return [expiryOf(record), expiryOf(grant)];
      };
    }
    if (inner.lock) this.lock = (name, ttlMs) => inner.lock!(name, ttlMs);
    if (inner.writeBatch) {
      this.writeBatch = async (ops) => {
        for (const op of ops) if (op.op === 'set') this.#invalidate(op.key);
        await inner.writeBatch!(ops);
        for (const op of ops) if (op.op === 'set') this.#invalidate(op.key);
      };
    }
    if (inner.onRemoteDelete) this.onRemoteDelete = (listener) => inner.onRemoteDelete!(listener);
  }

  /**
   * Wrap `inner`, subscribing to its remote deletes when it offers them. Rejects when the
   * subscription cannot be set up (the L1 would otherwise be stale up to `maxStaleMs` silently).
   */
  static async wrap(inner: CacheStore, options: L1Options = {}): Promise<L1Store> {
    const store = new L1Store(inner, options);
    if (inner.onRemoteDelete) {
      store.#unsubscribe = await inner.onRemoteDelete((keys) => {
        for (const key of keys) store.#invalidate(key);
      });
    }
    if (hasChangeWatch(inner)) await store.#watch(inner);
    return store;
  }

  /**
   * Hit/miss counts of the L1 (matching keys only). `coalesced`: misses that joined a read already
   * in flight for the same key instead of reading the inner store again.
   */
  get l1Stats(): { hits: number; misses: number; coalesced: number; size: number } {
    return { hits: this.#hits, misses: this.#misses, coalesced: this.#coalesced, size: this.#lru.size };
  }

  async #watch(inner: ChangeWatch): Promise<void> {
    // A few proofs per staleness bound: one late heartbeat does not make every entry a miss.
    const interval = Math.max(5, Math.floor(this.#maxStaleMs / 4));
    this.#stopWatching = await inner.watchChanges(
      {
        settled: (at) => {
          if (at > this.#settledAt) this.#settledAt = at;
        },
        lost: () => {
          this.#settledAt = Number.NEGATIVE_INFINITY;
          this.#lru.clear();
          // Reads in flight may have seen what went unreported: they must not fill the L1.
          this.#inFlight.clear();
          this.#invalidations += 1;
        },
      },
      interval,
    );
  }

  async get(key: string): Promise<unknown> {
    if (!this.#match(key)) return this.inner.get(key);
    const held = this.#hit(key);
    if (held !== undefined) {
      this.#hits += 1;
      return held.value;
    }
    this.#misses += 1;
    return (await this.#load(key))?.value;
  }

  /** A held entry at once (counted as a hit), else `undefined`: see core's `CacheStore.hold`. */
  hold(key: string): Held | undefined {
    if (!this.#match(key)) return undefined;
    const held = this.#hit(key);
    if (held === undefined) return undefined;
    this.#hits += 1;
    return held;
  }

  /**
   * Whether an entry `hold` gave is still served (counted as a hit): the rules of a hit, read from
   * the entry itself. See core's `CacheStore.stillHolds`.
   */
  stillHolds(held: Held): boolean {
    const h = held as HeldValue;
    if (h.dropped) return false;
    const now = Date.now();
    if (h.until <= now) {
      h.drop(); // expired: never served again (a stale one may be, once the store proves it current)
      return false;
    }
    if (!this.#fresh(h, now)) return false;
    if (h.dueForTouch(now)) this.#lru.get(h.key);
    this.#hits += 1;
    return true;
  }

  /**
   * The record at `key` and, when it is linked to a grant (`g` a string), the grant at
   * `grantKeyPrefix + g`: see core's `CacheStore.getWithGrant`. Each key is served from the L1
   * when held (a hit, as `get` counts it). A record neither held nor in flight is read with its
   * grant in one operation of the inner store when it offers one; otherwise each key takes the
   * `get` path (single flight, batched reads).
   */
  async getWithGrant(key: string, grantKeyPrefix: string): Promise<[unknown, unknown]> {
    let record: unknown;
    const held = this.#match(key) ? this.#hit(key) : undefined;
    if (held !== undefined) {
      this.#hits += 1;
      record = held.value;
    } else if (this.#readWithGrant !== undefined && !this.#inFlight.has(key)) {
      return this.#loadWithGrant(key, grantKeyPrefix, this.#readWithGrant);
    } else {
      record = await this.get(key);
    }
    const grantId = grantIdOf(record);
    return [record, grantId === undefined ? undefined : await this.get(grantKeyPrefix + grantId)];
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    const result: unknown[] = new Array(keys.length);
    const pending: Array<Promise<void>> = [];
    const batch: number[] = [];
    for (const [i, key] of keys.entries()) {
      if (!this.#match(key)) {
        batch.push(i);
        continue;
      }
      const held = this.#hit(key);
      if (held !== undefined) {
        this.#hits += 1;
        result[i] = held.value;
        continue;
      }
      this.#misses += 1;
      const flight = this.#inFlight.get(key);
      if (flight === undefined) {
        batch.push(i);
      } else {
        this.#coalesced += 1;
        pending.push(
          flight.then((read) => {
            result[i] = read?.value;
          }),
        );
      }
    }
    if (batch.length > 0) {
      const batchKeys = batch.map((i) => keys[i]!);
      const reads = this.#readMany(batchKeys);
      for (const [j, i] of batch.entries()) {
        const key = batchKeys[j]!;
        // Matching keys become flights of their own, which concurrent gets can join.
        const read = this.#match(key)
          ? this.#startFlight(
              key,
              reads.then((all) => all[j]),
            )
          : reads.then((all) => all[j]);
        pending.push(
          read.then((r) => {
            result[i] = r?.value;
          }),
        );
      }
    }
    await Promise.all(pending);
    return result;
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.#invalidate(key);
    try {
      await this.inner.set(key, value, ttlMs);
    } finally {
      this.#invalidate(key);
    }
  }

  async delete(...keys: string[]): Promise<number> {
    for (const key of keys) this.#invalidate(key);
    try {
      return await this.inner.delete(...keys);
    } finally {
      for (const key of keys) this.#invalidate(key);
    }
  }

  /**
   * The inner store's commit. Every key the transaction sets or deletes is dropped before (a read
   * in flight then cannot fill the L1 with what it read before the commit) and after, whatever the
   * outcome, as `set`/`delete` do.
   */
  async commit(tx: Transaction): Promise<CommitResult> {
    this.#invalidateWritten(tx);
    try {
      return await this.inner.commit(tx);
    } finally {
      this.#invalidateWritten(tx);
    }
  }

  indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    return this.inner.indexAdd(key, member, score, options);
  }

  indexRemove(key: string, members: string[]): Promise<void> {
    return this.inner.indexRemove(key, members);
  }

  indexRange(key: string, now: number): Promise<IndexEntry[]> {
    return this.inner.indexRange(key, now);
  }

  indexPage(key: string, now: number, options: IndexPageOptions): Promise<IndexEntry[]> {
    return this.inner.indexPage(key, now, options);
  }

  indexCount(key: string, now: number): Promise<number> {
    return this.inner.indexCount(key, now);
  }

  indexDelete(key: string): Promise<void> {
    return this.inner.indexDelete(key);
  }

  entries(prefix: string): AsyncIterable<StoreEntry> {
    return this.inner.entries(prefix);
  }

  sweep(now: number): Promise<number> {
    return this.inner.sweep(now);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  async close(): Promise<void> {
    const unsubscribe = this.#unsubscribe;
    const stopWatching = this.#stopWatching;
    this.#unsubscribe = undefined;
    this.#stopWatching = undefined;
    this.#settledAt = Number.NEGATIVE_INFINITY;
    this.#lru.clear();
    this.#inFlight.clear();
    this.#invalidations += 1;
    await unsubscribe?.().catch(() => undefined);
    await stopWatching?.().catch(() => undefined);
    await this.inner.close();
  }

  /** The key's read in flight, or a new one (the single flight every concurrent miss shares). */
  #load(key: string): Promise<ExpiringValue | undefined> {
    const flight = this.#inFlight.get(key);
    if (flight !== undefined) {
      this.#coalesced += 1;
      return flight;
    }
    return this.#startFlight(key, this.#batchedRead(key));
  }

  /**
   * The read of one missed key, made together with every other key missed before the event loop
   * turns (`setImmediate`): concurrent validations of distinct tokens cost one `getMany` (one
   * SQLite query, one Redis MGET) instead of one query each. Requests parsed in the same loop turn
   * land in the same batch; a lone miss is read alone, a check phase later. Freshness is that of a
   * read made now: nothing is served from before the batch's read.
   */
  #batchedRead(key: string): Promise<ExpiringValue | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#pendingReads === undefined) {
        this.#pendingReads = [];
        setImmediate(() => this.#flushReads());
      }
      this.#pendingReads.push({ key, resolve, reject });
    });
  }

  #flushReads(): void {
    const batch = this.#pendingReads ?? [];
    this.#pendingReads = undefined;
    if (batch.length === 1) {
      const only = batch[0]!;
      this.#read(only.key).then(only.resolve, only.reject);
      return;
    }
    if (batch.length === 0) return;
    this.#readMany(batch.map((pending) => pending.key)).then(
      (reads) => {
        for (const [i, pending] of batch.entries()) pending.resolve(reads[i]);
      },
      (error: unknown) => {
        for (const pending of batch) pending.reject(error);
      },
    );
  }

  /**
   * A missed record read with its grant in one operation of the inner store. The record's read is
   * its flight (concurrent gets join it); the grant is judged as the read lands, before the
   * record's flight settles, so callers that joined it find the grant held.
   */
  async #loadWithGrant(
    key: string,
    grantKeyPrefix: string,
    readWithGrant: (key: string, grantKeyPrefix: string) => Promise<RecordWithGrant>,
  ): Promise<[unknown, unknown]> {
    const invalidations = this.#invalidations;
    let grant: unknown;
    const read = readWithGrant(key, grantKeyPrefix).then(([record, grantRead]) => {
      grant = this.#landGrant(record, grantRead, grantKeyPrefix, invalidations);
      return record;
    });
    let record: ExpiringValue | undefined;
    if (this.#match(key)) {
      this.#misses += 1;
      record = await this.#startFlight(key, read);
    } else {
      record = await read;
    }
    return [record?.value, grant];
  }

  /**
   * The grant a record's combined read brought back: the held entry when there is one (hits keep
   * returning the same object), else the value read, filling the L1 only if no invalidation came
   * in since the read started (the grant's key was unknown then, so it had no flight to void).
   * Missing from the store means missing, whatever is held: the read is the fresher.
   */
  #landGrant(
    record: ExpiringValue | undefined,
    grant: ExpiringValue | undefined,
    grantKeyPrefix: string,
    invalidations: number,
  ): unknown {
    const grantId = grantIdOf(record?.value);
    if (grantId === undefined || grant === undefined) return undefined;
    const grantKey = grantKeyPrefix + grantId;
    if (!this.#match(grantKey)) return grant.value;
    const held = this.#hit(grantKey);
    if (held !== undefined) {
      this.#hits += 1;
      return held.value;
    }
    this.#misses += 1;
    if (this.#invalidations === invalidations) this.#fill(grantKey, grant);
    return grant.value;
  }

  /** Register `read` as the key's flight; when it lands, it fills the L1 if still the key's flight. */
  #startFlight(key: string, read: Promise<ExpiringValue | undefined>): Promise<ExpiringValue | undefined> {
    const flight: Promise<ExpiringValue | undefined> = read.then(
      (value) => {
        if (this.#inFlight.get(key) === flight) {
          this.#inFlight.delete(key);
          this.#fill(key, value);
        }
        return value;
      },
      (error: unknown) => {
        if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
        throw error;
      },
    );
    this.#inFlight.set(key, flight);
    return flight;
  }

  /**
   * A held entry still within the record's own expiry, and either younger than `maxStaleMs` or
   * proven current by the change watch less than `maxStaleMs` ago.
   */
  #hit(key: string): HeldValue | undefined {
    const held = this.#lru.get(key);
    if (held === undefined) return undefined;
    const now = Date.now();
    if (held.until <= now) {
      this.#lru.delete(key);
      return undefined;
    }
    return this.#fresh(held, now) ? held : undefined;
  }

  /** Younger than `maxStaleMs`, or proven current by the change watch less than `maxStaleMs` ago. */
  #fresh(held: HeldValue, now: number): boolean {
    return now - held.since <= this.#maxStaleMs || now - this.#settledAt <= this.#maxStaleMs;
  }

  #fill(key: string, read: ExpiringValue | undefined): void {
    if (read === undefined) return; // never cache a miss
    const now = Date.now();
    const until = Math.min(now + this.#maxHoldMs, read.expiresAt ?? Number.POSITIVE_INFINITY);
    if (until - now >= 1) this.#lru.set(key, new HeldValue(key, read.value, until, now));
  }

  /** Drop the records `tx` sets or deletes (index ops touch no record). */
  #invalidateWritten(tx: Transaction): void {
    for (const op of tx.ops) {
      if (op.op === 'set') this.#invalidate(op.key);
      else if (op.op === 'delete') for (const key of op.keys) this.#invalidate(key);
    }
  }

  #invalidate(key: string): void {
    this.#lru.delete(key);
    this.#inFlight.delete(key);
    this.#invalidations += 1;
  }
}

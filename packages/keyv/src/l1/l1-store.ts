import type {
  BatchOp,
  CacheStore,
  IndexAddOptions,
  IndexEntry,
  StoreEntry,
  StoreLock,
} from '@oauth-cache/core';
import { LRUCache } from 'lru-cache';
import { type ExpiringValue, expiryOf, hasExpiryAwareReads } from '../expiring.js';

/** Options of the in-process L1 cache ({@link L1Store}). */
export interface L1Options {
  /** Most entries kept (least recently used go first). Default 10000. */
  max?: number;
  /**
   * Longest time an entry is served without asking the store again, in ms. Default 1000. This is
   * the staleness bound for changes the L1 is not told about: all changes on a store without
   * `onRemoteDelete` (SQLite), and overwrites (`set`) by other processes on any store.
   */
  maxStaleMs?: number;
  /**
   * Which keys are cached. Default: access-token records, keys starting with `<prefix>at:`. Other
   * records (refresh tokens, sessions, locks) are read-modify-write material: always read through.
   */
  match?: (key: string) => boolean;
  /** The cache's key prefix, for the default `match`. Default `oc:`. */
  prefix?: string;
}

interface Held {
  value: unknown;
  /** The record's own expiry (epoch ms), when known: a hit never outlives it. */
  expiresAt: number | undefined;
}

/**
 * A {@link CacheStore} decorator keeping recent `get` results of matching keys in process memory.
 *
 * - Hits return the SAME object every time (core keeps decoded records in a WeakMap keyed by it).
 * - An entry lives at most `maxStaleMs`, and never past the record's own expiry (read from the
 *   inner store when it reports it, else from the record's `exp` field).
 * - Misses are never cached: a token stored by another process is visible at the next call.
 * - Local `delete`/`take`/`set`/`add`/`writeBatch` drop the keys they touch; deletes by other
 *   processes arrive through the inner store's `onRemoteDelete` (Redis pub/sub: tens of µs on a
 *   LAN) and drop them too. Without that channel the bound is `maxStaleMs`.
 * - A read racing with an invalidation of the same key does not repopulate the L1 with the value
 *   it read before the invalidation.
 */
export class L1Store implements CacheStore {
  readonly kind: string;
  /** The wrapped store. */
  readonly inner: CacheStore;
  readonly lock?: (name: string, ttlMs: number) => Promise<StoreLock | null>;
  readonly writeBatch?: (ops: BatchOp[]) => Promise<void>;
  readonly onRemoteDelete?: (listener: (keys: string[]) => void) => Promise<() => Promise<void>>;
  readonly #lru: LRUCache<string, Held>;
  readonly #maxStaleMs: number;
  readonly #read: (key: string) => Promise<ExpiringValue | undefined>;
  readonly #readMany: (keys: string[]) => Promise<Array<ExpiringValue | undefined>>;
  readonly #match: (key: string) => boolean;
  /** Reads in flight per key: a read may fill the L1 only if its ticket is still there. */
  readonly #inFlight = new Map<string, number>();
  #ticket = 0;
  #unsubscribe: (() => Promise<void>) | undefined;
  #hits = 0;
  #misses = 0;

  private constructor(inner: CacheStore, options: L1Options) {
    this.inner = inner;
    this.kind = inner.kind;
    const prefix = options.prefix ?? 'oc:';
    const tokenPrefix = `${prefix}at:`;
    this.#match = options.match ?? ((key) => key.startsWith(tokenPrefix));
    this.#maxStaleMs = Math.max(1, options.maxStaleMs ?? 1000);
    // lru-cache 11 takes a per-entry TTL as `set(k, v, { ttl })` (a bare number as third argument,
    // which is how Keyv calls stores, throws). Expiry is checked lazily on get: no timers.
    this.#lru = new LRUCache<string, Held>({
      max: options.max ?? 10_000,
      ttl: this.#maxStaleMs,
      ttlResolution: 1,
      updateAgeOnGet: false,
    });
    if (hasExpiryAwareReads(inner)) {
      this.#read = (key) => inner.getWithExpiry(key);
      this.#readMany = (keys) => inner.getManyWithExpiry(keys);
    } else {
      this.#read = async (key) => expiryOf(await inner.get(key));
      this.#readMany = async (keys) => (await inner.getMany(keys)).map(expiryOf);
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
    return store;
  }

  /** Hit/miss counts of the L1 (matching keys only). */
  get l1Stats(): { hits: number; misses: number; size: number } {
    return { hits: this.#hits, misses: this.#misses, size: this.#lru.size };
  }

  async get(key: string): Promise<unknown> {
    if (!this.#match(key)) return this.inner.get(key);
    const held = this.#hit(key);
    if (held !== undefined) {
      this.#hits += 1;
      return held.value;
    }
    this.#misses += 1;
    const ticket = this.#begin(key);
    try {
      const read = await this.#read(key);
      this.#fill(key, ticket, read);
      return read?.value;
    } finally {
      this.#end(key, ticket);
    }
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    const result: unknown[] = new Array(keys.length);
    const missing: number[] = [];
    for (const [i, key] of keys.entries()) {
      if (!this.#match(key)) {
        missing.push(i);
        continue;
      }
      const held = this.#hit(key);
      if (held === undefined) {
        this.#misses += 1;
        missing.push(i);
      } else {
        this.#hits += 1;
        result[i] = held.value;
      }
    }
    if (missing.length === 0) return result;
    const missingKeys = missing.map((i) => keys[i]!);
    const tickets = missingKeys.map((k) => (this.#match(k) ? this.#begin(k) : 0));
    try {
      const reads = await this.#readMany(missingKeys);
      for (const [j, i] of missing.entries()) {
        result[i] = reads[j]?.value;
        if (tickets[j]) this.#fill(missingKeys[j]!, tickets[j]!, reads[j]);
      }
      return result;
    } finally {
      for (const [j, k] of missingKeys.entries()) if (tickets[j]) this.#end(k, tickets[j]!);
    }
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.#invalidate(key);
    try {
      await this.inner.set(key, value, ttlMs);
    } finally {
      this.#invalidate(key);
    }
  }

  async add(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    this.#invalidate(key);
    try {
      return await this.inner.add(key, value, ttlMs);
    } finally {
      this.#invalidate(key);
    }
  }

  async take(key: string): Promise<unknown> {
    this.#invalidate(key);
    try {
      return await this.inner.take(key);
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

  indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    return this.inner.indexAdd(key, member, score, options);
  }

  indexRemove(key: string, members: string[]): Promise<void> {
    return this.inner.indexRemove(key, members);
  }

  indexRange(key: string, now: number): Promise<IndexEntry[]> {
    return this.inner.indexRange(key, now);
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
    this.#unsubscribe = undefined;
    this.#lru.clear();
    this.#inFlight.clear();
    await unsubscribe?.().catch(() => undefined);
    await this.inner.close();
  }

  #begin(key: string): number {
    this.#ticket += 1;
    this.#inFlight.set(key, this.#ticket);
    return this.#ticket;
  }

  /** A held entry still within the record's own expiry. */
  #hit(key: string): Held | undefined {
    const held = this.#lru.get(key);
    if (held === undefined) return undefined;
    if (held.expiresAt !== undefined && held.expiresAt <= Date.now()) {
      this.#lru.delete(key);
      return undefined;
    }
    return held;
  }

  #fill(key: string, ticket: number, read: ExpiringValue | undefined): void {
    // Only the latest read of a key, and only if nothing invalidated it meanwhile; never a miss.
    if (read === undefined || this.#inFlight.get(key) !== ticket) return;
    const ttl =
      read.expiresAt === undefined
        ? this.#maxStaleMs
        : Math.min(this.#maxStaleMs, read.expiresAt - Date.now());
    if (ttl >= 1) this.#lru.set(key, { value: read.value, expiresAt: read.expiresAt }, { ttl });
  }

  #end(key: string, ticket: number): void {
    if (this.#inFlight.get(key) === ticket) this.#inFlight.delete(key);
  }

  #invalidate(key: string): void {
    this.#lru.delete(key);
    this.#inFlight.delete(key);
  }
}

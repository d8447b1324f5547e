import { LRUCache } from 'lru-cache';
import type {
  BatchOp,
  CacheStore,
  CommitResult,
  IndexAddOptions,
  IndexEntry,
  IndexPageOptions,
  StoreEntry,
  Transaction,
} from './contract.js';
import { grantIdOf, type Held } from './contract.js';
import { HeldValue } from './held-value.js';
import { indexPageOf } from './index-page.js';
import { failedPrecondition } from './transaction.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most records kept; the least recently used go first. Default 100000. */
  max?: number;
}

/**
 * In-process store for tests and single-process servers: a bounded LRU of records plus in-memory
 * indexes. Values are kept by reference (no JSON round trip on the validation path), so callers
 * must treat what `get` returns as immutable; core does.
 */
export class MemoryStore implements CacheStore {
  readonly kind = 'memory';
  readonly #records: LRUCache<string, HeldValue>;
  readonly #indexes = new Map<string, Map<string, number>>();
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    // TTLs are checked here against `exp` rather than handed to lru-cache: one clock for records
    // and indexes, and no lru-cache timer per entry.
    // `dispose` runs on delete, overwrite, eviction and clear alike: every way a value leaves.
    this.#records = new LRUCache<string, HeldValue>({
      max: options.max ?? 100_000,
      dispose: (held) => held.drop(),
    });
  }

  async get(key: string): Promise<unknown> {
    return this.#read(key);
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    return keys.map((k) => this.#read(k));
  }

  hold(key: string): Held | undefined {
    return this.#held(key);
  }

  stillHolds(held: Held): boolean {
    const h = held as HeldValue;
    if (h.dropped) return false;
    const now = Date.now();
    if (h.until <= now) {
      h.drop(); // expired: let go of what was derived now, not when the entry is swept
      return false;
    }
    if (h.dueForTouch(now)) this.#records.get(h.key);
    return true;
  }

  async getWithGrant(key: string, grantKeyPrefix: string): Promise<[unknown, unknown]> {
    const value = this.#read(key);
    const grantId = grantIdOf(value);
    return [value, grantId === undefined ? undefined : this.#read(grantKeyPrefix + grantId)];
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.#put(key, value, ttlMs);
  }

  async delete(...keys: string[]): Promise<number> {
    let n = 0;
    for (const k of keys) {
      if (this.#read(k) !== undefined) n++;
      this.#records.delete(k);
    }
    return n;
  }

  async indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    const index = this.#indexAdd(key, member, score, options.now, options.keepGreater, false);
    const cap = options.cap;
    if (cap === undefined || index.size <= cap) return [];
    for (const [m, s] of index) if (s <= options.now) index.delete(m);
    if (index.size <= cap) return [];
    // The member just added is evicted only when nothing else can go (cap 0), as the contract says.
    const evicted = [...index.entries()]
      .filter(([m]) => cap === 0 || m !== member)
      .sort((a, b) => a[1] - b[1])
      .slice(0, index.size - cap)
      .map(([m]) => m);
    for (const m of evicted) index.delete(m);
    return evicted;
  }

  async indexRemove(key: string, members: string[]): Promise<void> {
    this.#indexRemove(key, members);
  }

  async indexRange(key: string, now: number): Promise<IndexEntry[]> {
    const index = this.#indexes.get(key);
    if (!index) return [];
    const live: IndexEntry[] = [];
    for (const [member, score] of index) if (score > now) live.push({ member, score });
    return live.sort((a, b) => a.score - b.score);
  }

  async indexPage(key: string, now: number, options: IndexPageOptions): Promise<IndexEntry[]> {
    const index = this.#indexes.get(key);
    return index ? indexPageOf(index, now, options) : [];
  }

  async indexCount(key: string, now: number): Promise<number> {
    return this.#liveCount(key, now);
  }

  async indexDelete(key: string): Promise<void> {
    this.#indexes.delete(key);
  }

  async *entries(prefix: string): AsyncIterable<StoreEntry> {
    const now = Date.now();
    for (const [key, held] of this.#records.entries()) {
      if (key.startsWith(prefix) && held.until > now) yield { key, value: held.value, expiresAt: held.until };
    }
  }

  async sweep(now: number): Promise<number> {
    let removed = 0;
    for (const [key, held] of this.#records.entries()) {
      if (held.until <= now) {
        this.#records.delete(key);
        removed++;
      }
    }
    for (const [key, index] of this.#indexes) {
      for (const [m, s] of index) if (s <= now) index.delete(m);
      if (index.size === 0) this.#indexes.delete(key);
    }
    return removed;
  }

  async writeBatch(ops: BatchOp[]): Promise<void> {
    const now = Date.now();
    // Every op applied before the first await: the batch lands ahead of anything the caller issues
    // next (core's cap check), as on the other stores.
    const applied: Array<Promise<unknown>> = [];
    for (const op of ops) {
      if (op.op === 'set') applied.push(this.set(op.key, op.value, op.ttlMs));
      else applied.push(this.indexAdd(op.key, op.member, op.score, { now, keepGreater: op.keepGreater }));
    }
    await Promise.all(applied);
  }

  async commit(tx: Transaction): Promise<CommitResult> {
    // Synchronous from the first check to the last write: nothing else runs in between.
    const failed = failedPrecondition(tx, {
      present: (key) => this.#read(key) !== undefined,
      liveCount: (index) => this.#liveCount(index, tx.now),
    });
    if (failed !== undefined) return { ok: false, failed };
    for (const op of tx.ops) {
      switch (op.op) {
        case 'set':
          this.#put(op.key, op.value, op.ttlMs);
          break;
        case 'delete':
          for (const key of op.keys) this.#records.delete(key);
          break;
        case 'indexAdd':
          this.#indexAdd(op.key, op.member, op.score, tx.now, op.keepGreater);
          break;
        case 'indexRemove':
          this.#indexRemove(op.key, op.members);
          break;
        case 'indexDelete':
          this.#indexes.delete(op.key);
          break;
      }
    }
    return { ok: true };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** True once `close()` ran (the store stays usable; nothing to release). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Add or re-score a member. `dropDead` removes members at or below `now` first (a commit's
   * indexAdd does; the capped `indexAdd` drops them only when over its cap).
   */
  #indexAdd(
    key: string,
    member: string,
    score: number,
    now: number,
    keepGreater: boolean | undefined,
    dropDead = true,
  ): Map<string, number> {
    let index = this.#indexes.get(key);
    if (!index) {
      index = new Map();
      this.#indexes.set(key, index);
    } else if (dropDead) {
      for (const [m, s] of index) if (s <= now) index.delete(m);
    }
    const previous = index.get(member);
    index.set(member, keepGreater && previous !== undefined ? Math.max(previous, score) : score);
    return index;
  }

  #indexRemove(key: string, members: string[]): void {
    const index = this.#indexes.get(key);
    if (!index) return;
    for (const m of members) index.delete(m);
    if (index.size === 0) this.#indexes.delete(key);
  }

  #liveCount(key: string, now: number): number {
    const index = this.#indexes.get(key);
    if (!index) return 0;
    let n = 0;
    for (const score of index.values()) if (score > now) n++;
    return n;
  }

  #read(key: string): unknown {
    return this.#held(key)?.value;
  }

  #held(key: string): HeldValue | undefined {
    const held = this.#records.get(key);
    if (held === undefined) return undefined;
    const now = Date.now();
    if (held.until <= now) {
      this.#records.delete(key);
      return undefined;
    }
    return held;
  }

  #put(key: string, value: unknown, ttlMs: number): void {
    const now = Date.now();
    this.#records.set(key, new HeldValue(key, value, now + ttlMs, now));
  }
}

import {
  type CacheStore,
  type CommitResult,
  type IndexAddOptions,
  type IndexEntry,
  type IndexPageOptions,
  MemoryStore,
  type StoreEntry,
  StoreUnavailableError,
  type Transaction,
} from '@oauth-cache/core';

/**
 * Fault injector: a real MemoryStore that can be switched "down", after which every call throws
 * StoreUnavailableError exactly as a dead Redis/SQLite store would.
 */
export class SwitchableStore implements CacheStore {
  readonly kind = 'memory';
  down = false;
  readonly #inner = new MemoryStore();

  #check(): void {
    if (this.down) throw new StoreUnavailableError('test store switched down');
  }

  async get(key: string): Promise<unknown> {
    this.#check();
    return this.#inner.get(key);
  }
  async getMany(keys: string[]): Promise<unknown[]> {
    this.#check();
    return this.#inner.getMany(keys);
  }
  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    this.#check();
    return this.#inner.set(key, value, ttlMs);
  }
  async delete(...keys: string[]): Promise<number> {
    this.#check();
    return this.#inner.delete(...keys);
  }
  async indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    this.#check();
    return this.#inner.indexAdd(key, member, score, options);
  }
  async indexRemove(key: string, members: string[]): Promise<void> {
    this.#check();
    return this.#inner.indexRemove(key, members);
  }
  async indexRange(key: string, now: number): Promise<IndexEntry[]> {
    this.#check();
    return this.#inner.indexRange(key, now);
  }
  async indexPage(key: string, now: number, options: IndexPageOptions): Promise<IndexEntry[]> {
    this.#check();
    return this.#inner.indexPage(key, now, options);
  }
  async indexCount(key: string, now: number): Promise<number> {
    this.#check();
    return this.#inner.indexCount(key, now);
  }
  async indexDelete(key: string): Promise<void> {
    this.#check();
    return this.#inner.indexDelete(key);
  }
  async commit(tx: Transaction): Promise<CommitResult> {
    this.#check();
    return this.#inner.commit(tx);
  }
  async *entries(prefix: string): AsyncIterable<StoreEntry> {
    this.#check();
    yield* this.#inner.entries(prefix);
  }
  async sweep(now: number): Promise<number> {
    this.#check();
    return this.#inner.sweep(now);
  }
  async ping(): Promise<void> {
    this.#check();
  }
  async close(): Promise<void> {
    return this.#inner.close();
  }
}

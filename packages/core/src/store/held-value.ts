import type { Held } from './contract.js';

/**
 * How often a handle that keeps being asked about (`CacheStore.stillHolds`) refreshes its
 * key's place in the store's recency order. Answering from the handle alone would let a hot record
 * age to the cold end of an LRU and be evicted before cold ones; one lookup per key every few
 * seconds keeps the order right at a fraction of a lookup per request.
 */
export const RECENCY_REFRESH_MS = 5_000;

/**
 * The {@link Held} handle of an in-process store (the memory store, the L1): the value, its key,
 * and until when it may be served. The store calls {@link drop} whenever it lets go of the value
 * (delete, overwrite, eviction, expiry, clear), synchronously, so a handle never outlives its value.
 */
export class HeldValue implements Held {
  derived: unknown = undefined;
  /** Set once the store let go of the value: never held again. */
  dropped = false;
  #touchedAt: number;

  /**
   * @param key the store key the value sits at.
   * @param value the stored value.
   * @param until served until (epoch ms): the record's expiry, or sooner if the store says so.
   * @param since when the store took the value in (epoch ms, the store's clock).
   */
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly until: number,
    readonly since: number,
  ) {
    this.#touchedAt = since;
  }

  /** Let go of the value, and of what a caller derived from it. */
  drop(): void {
    this.dropped = true;
    this.derived = undefined;
  }

  /** Whether the store should refresh the key's recency now (true at most once per {@link RECENCY_REFRESH_MS}). */
  dueForTouch(now: number): boolean {
    if (now - this.#touchedAt < RECENCY_REFRESH_MS) return false;
    this.#touchedAt = now;
    return true;
  }
}

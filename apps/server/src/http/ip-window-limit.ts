/**
 * A per-IP sliding-window counter in the cache's store (shared by every instance), for endpoints
 * anyone can call without credentials, such as dynamic client registration.
 */
import { randomBytes } from 'node:crypto';
import type { TokenCache } from '@oauth-cache/core';

/** Counts events per IP; `hit` resolves the seconds to wait when over the limit, else undefined. */
export class IpWindowLimit {
  readonly #cache: TokenCache;
  readonly #name: string;
  readonly #max: number;
  readonly #windowMs: number;

  constructor(cache: TokenCache, name: string, max: number, windowMs: number) {
    this.#cache = cache;
    this.#name = name;
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Count one event from `ip`. Resolves `Retry-After` seconds when the limit is exceeded. */
  async hit(ip: string, now = Date.now()): Promise<number | undefined> {
    const key = this.#key(ip);
    const wait = await this.retryAfter(ip, now);
    if (wait !== undefined) return wait;
    await this.#cache.store.indexAdd(key, randomBytes(9).toString('base64url'), now + this.#windowMs, {
      cap: this.#max + 10,
      now,
    });
    return undefined;
  }

  /**
   * `Retry-After` seconds when `ip` is over the limit, without counting anything: for limits that
   * count only failures (the console sign-in), judged before the attempt.
   */
  async retryAfter(ip: string, now = Date.now()): Promise<number | undefined> {
    const live = await this.#cache.store.indexRange(this.#key(ip), now);
    if (live.length < this.#max) return undefined;
    const pivot = live[live.length - this.#max]?.score ?? now + this.#windowMs;
    return Math.max(1, Math.ceil((pivot - now) / 1000));
  }

  #key(ip: string): string {
    return this.#cache.key(`x:rl:${this.#name}:${this.#cache.digest(`ip:${ip}`)}`);
  }
}

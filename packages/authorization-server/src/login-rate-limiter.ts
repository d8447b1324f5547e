/**
 * Brute-force protection for the login form: failed attempts are counted per user name and per
 * client IP in a sliding window kept in the cache's store (an index whose members expire), so every
 * instance sharing the store sees the same counts.
 *
 * An attempt is counted when it starts, not when it fails: a burst of parallel guesses cannot slip
 * through before the first failure lands. A success clears the user name's failures and withdraws
 * the attempt from the IP count; an attempt that could not be checked (1C down) is withdrawn.
 * User names and IPs are stored only as HMAC digests.
 */
import { randomBytes } from 'node:crypto';
import type { TokenCache } from '@oauth-cache/core';

/** Limits of {@link LoginRateLimiter}. */
export interface LoginRateLimitOptions {
  /** Sliding window in ms. Default 15 minutes. */
  windowMs?: number;
  /** Failures per user name within the window before refusing. Default 5. */
  maxFailuresPerUser?: number;
  /** Failures per client IP within the window before refusing. Default 20. */
  maxFailuresPerIp?: number;
  /** Failures after which each further attempt is slowed down. Default 2. */
  slowAfter?: number;
  /** Added delay per failure beyond `slowAfter`, ms. Default 400. */
  delayStepMs?: number;
  /** Longest delay, ms. Default 2000. */
  maxDelayMs?: number;
}

/** A refusal: answer 429 with `Retry-After: retryAfterSeconds`. */
export interface LoginRefused {
  allowed: false;
  retryAfterSeconds: number;
  /** Which limit was hit. */
  limit: 'user' | 'ip';
}

/** An attempt in progress: wait `delayMs` before checking the password, then report the outcome. */
export interface LoginAttempt {
  allowed: true;
  delayMs: number;
  /** The credentials were right. */
  succeeded(): Promise<void>;
  /** The credentials were wrong: the attempt stays counted. */
  failed(): Promise<void>;
  /** The credentials could not be checked (upstream down): the attempt is withdrawn. */
  abandoned(): Promise<void>;
}

/** Counts failed logins and refuses or slows down further attempts. */
export class LoginRateLimiter {
  readonly #cache: TokenCache;
  readonly #windowMs: number;
  readonly #maxUser: number;
  readonly #maxIp: number;
  readonly #slowAfter: number;
  readonly #delayStepMs: number;
  readonly #maxDelayMs: number;

  constructor(cache: TokenCache, options: LoginRateLimitOptions = {}) {
    this.#cache = cache;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#maxUser = options.maxFailuresPerUser ?? 5;
    this.#maxIp = options.maxFailuresPerIp ?? 20;
    this.#slowAfter = options.slowAfter ?? 2;
    this.#delayStepMs = options.delayStepMs ?? 400;
    this.#maxDelayMs = options.maxDelayMs ?? 2000;
  }

  /** Start an attempt for `username` from `ip`, or refuse it. */
  async begin(username: string, ip: string, now = Date.now()): Promise<LoginAttempt | LoginRefused> {
    const userKey = this.#userKey(username);
    const ipKey = this.#ipKey(ip);
    const before = await this.#refusal(userKey, ipKey, now, 0);
    if (before) return before;

    const member = randomBytes(9).toString('base64url');
    const score = now + this.#windowMs;
    await this.#cache.store.indexAdd(userKey, member, score, { cap: this.#maxUser + 10, now });
    await this.#cache.store.indexAdd(ipKey, member, score, { cap: this.#maxIp + 10, now });
    const withdraw = async () => {
      await this.#cache.store.indexRemove(userKey, [member]);
      await this.#cache.store.indexRemove(ipKey, [member]);
    };
    // Counted with this attempt included: parallel attempts beyond the limit are refused here.
    const after = await this.#refusal(userKey, ipKey, now, 1);
    if (after) {
      await withdraw();
      return after;
    }
    const failures = Math.max(
      (await this.#cache.store.indexCount(userKey, now)) - 1,
      (await this.#cache.store.indexCount(ipKey, now)) - 1,
    );
    const delayMs =
      failures >= this.#slowAfter
        ? Math.min(this.#maxDelayMs, (failures - this.#slowAfter + 1) * this.#delayStepMs)
        : 0;
    return {
      allowed: true,
      delayMs,
      succeeded: async () => {
        await this.#cache.store.indexDelete(userKey);
        await this.#cache.store.indexRemove(ipKey, [member]);
      },
      failed: async () => {},
      abandoned: withdraw,
    };
  }

  /** Forget every failure of `username` (e.g. after an administrator reset the password). */
  async reset(username: string): Promise<void> {
    await this.#cache.store.indexDelete(this.#userKey(username));
  }

  async #refusal(
    userKey: string,
    ipKey: string,
    now: number,
    own: number,
  ): Promise<LoginRefused | undefined> {
    const user = await this.#cache.store.indexRange(userKey, now);
    if (user.length - own >= this.#maxUser) return this.#refused(user, this.#maxUser, own, now, 'user');
    const ip = await this.#cache.store.indexRange(ipKey, now);
    if (ip.length - own >= this.#maxIp) return this.#refused(ip, this.#maxIp, own, now, 'ip');
    return undefined;
  }

  #refused(
    entries: { score: number }[],
    max: number,
    own: number,
    now: number,
    limit: 'user' | 'ip',
  ): LoginRefused {
    // The count drops below `max` when the failure at this position leaves the window.
    const pivot = entries[entries.length - own - max]?.score ?? now + this.#windowMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((pivot - now) / 1000)), limit };
  }

  #userKey(username: string): string {
    const normalized = username.normalize('NFC').trim().toLowerCase();
    return this.#cache.key(`x:rl:u:${this.#cache.digest(`login:${normalized}`)}`);
  }

  #ipKey(ip: string): string {
    return this.#cache.key(`x:rl:ip:${this.#cache.digest(`ip:${ip}`)}`);
  }
}

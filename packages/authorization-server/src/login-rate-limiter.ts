/**
 * Brute-force protection for the login form, built so that nobody can lock an innocent user out:
 *
 * - the hard limit (429) on a user name counts failures of that user name **from one client
 *   address** only: five wrong passwords for `ivanov` from an attacker's address refuse that
 *   address, while Ivanov signing in from his own is only slowed down;
 * - failures of a user name from anywhere only **slow down** further attempts on it (a growing
 *   delay before the password is checked, up to `maxDelayMs`), which bounds guessing spread over
 *   many addresses without refusing anyone;
 * - failures per client address (any user names) are limited too (`maxFailuresPerIp`), so one
 *   address cannot walk through a list of user names. Addresses are counted per
 *   {@link addressBucket}: IPv4 as is, IPv6 per /64. Everyone behind one NAT address shares that
 *   bucket: operators with large offices behind one address raise the limit (the slowdown and the
 *   per-pair limit still apply).
 *
 * Counts live in sliding windows in the cache's store (indexes whose members expire), so every
 * instance sharing the store sees the same counts. Keys are HMAC digests, never the values:
 * - attempts (`x:rl:u:` per user name, members tagged with the address bucket's digest, and
 *   `x:rl:ip:` per address): an attempt is counted when it starts, not when it fails, and the
 *   refusals are decided on these, so a burst of parallel guesses cannot slip through before the
 *   first failure lands;
 * - settled failures (`x:rl:uf:`, `x:rl:ipf:`), written by `failed()`: the slowdown is computed
 *   from these only, so correct logins still in flight (colleagues behind one NAT address signing
 *   in at once) do not delay each other as if they had failed.
 *
 * A success withdraws the attempts and failures of that user name from that address (the user's
 * own typos), not those from elsewhere (an attacker's guesses keep slowing the attacker down), and
 * withdraws the attempt from the address count; an attempt that could not be checked (1C down) is
 * withdrawn.
 *
 * Successful logins are limited too, per user name (`x:rl:us:`, written by `succeeded()`): each
 * one issues a grant, and a valid account logging in in a loop would otherwise fill the token
 * cache. The limit is judged in `begin()`, before the password is checked, like the failure limits;
 * logins in flight are not counted yet, so parallel correct logins may overshoot it by their
 * number (only whoever knows the password can do that, and the per-user grant cap still holds).
 */
import { randomBytes } from 'node:crypto';
import type { TokenCache } from '@oauth-cache/core';
import { addressBucket } from './address-bucket.js';

/**
 * Most attempts kept per user name across all addresses: enough for many addresses at the
 * per-pair limit; beyond it the oldest are dropped (the per-address limit still holds them).
 */
const USER_ATTEMPTS_CAP = 1000;

/** Limits of {@link LoginRateLimiter}. */
export interface LoginRateLimitOptions {
  /** Sliding window in ms. Default 15 minutes. */
  windowMs?: number;
  /**
   * Failures of one user name from one client address (its {@link addressBucket}) within the
   * window before that pair is refused. Failures from other addresses only slow the name down.
   * Default 5.
   */
  maxFailuresPerUser?: number;
  /** Failures per client address bucket (IPv4 address, IPv6 /64) within the window before refusing. Default 20. */
  maxFailuresPerIp?: number;
  /** Successful logins per user name within the window before refusing. Default 20. */
  maxSuccessesPerUser?: number;
  /** Failures (of the user name from anywhere, or of the address) after which each further attempt is slowed down. Default 2. */
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
  /**
   * Which limit was hit: failures of this user name from this address (`user_address`), failures
   * from this address (`ip`), or successes of this user name (`user_successes`).
   */
  limit: 'user_address' | 'ip' | 'user_successes';
}

/** An attempt in progress: wait `delayMs` before checking the password, then report the outcome. */
export interface LoginAttempt {
  allowed: true;
  delayMs: number;
  /** The credentials were right. */
  succeeded(): Promise<void>;
  /** The credentials were wrong: the attempt stays counted and becomes a failure (slows the next ones). */
  failed(): Promise<void>;
  /** The credentials could not be checked (upstream down): the attempt is withdrawn. */
  abandoned(): Promise<void>;
}

/** Counts failed logins and refuses or slows down further attempts. */
export class LoginRateLimiter {
  readonly #cache: TokenCache;
  readonly #windowMs: number;
  readonly #maxPair: number;
  readonly #maxIp: number;
  readonly #maxSuccesses: number;
  readonly #slowAfter: number;
  readonly #delayStepMs: number;
  readonly #maxDelayMs: number;

  constructor(cache: TokenCache, options: LoginRateLimitOptions = {}) {
    this.#cache = cache;
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#maxPair = options.maxFailuresPerUser ?? 5;
    this.#maxIp = options.maxFailuresPerIp ?? 20;
    this.#maxSuccesses = options.maxSuccessesPerUser ?? 20;
    this.#slowAfter = options.slowAfter ?? 2;
    this.#delayStepMs = options.delayStepMs ?? 400;
    this.#maxDelayMs = options.maxDelayMs ?? 2000;
  }

  /** Start an attempt for `username` from client address `ip`, or refuse it. */
  async begin(username: string, ip: string, now = Date.now()): Promise<LoginAttempt | LoginRefused> {
    const store = this.#cache.store;
    const keys = this.#keys(username, ip);
    const before = await this.#refusal(keys, now, 0);
    if (before) return before;

    // Tagged with the address: the per-pair count is the members of the user's index with this tag.
    const member = `${keys.tag}.${randomBytes(9).toString('base64url')}`;
    const score = now + this.#windowMs;
    await store.indexAdd(keys.user, member, score, {
      cap: Math.max(USER_ATTEMPTS_CAP, this.#maxPair + 10),
      now,
    });
    await store.indexAdd(keys.ip, member, score, { cap: this.#maxIp + 10, now });
    const withdraw = async () => {
      await store.indexRemove(keys.user, [member]);
      await store.indexRemove(keys.ip, [member]);
    };
    // Counted with this attempt included: parallel attempts beyond the limit are refused here.
    const after = await this.#refusal(keys, now, 1);
    if (after) {
      await withdraw();
      return after;
    }
    // Settled failures only: attempts still in flight may well be correct.
    const failures = Math.max(
      await store.indexCount(keys.userFailures, now),
      await store.indexCount(keys.ipFailures, now),
    );
    const delayMs =
      failures >= this.#slowAfter
        ? Math.min(this.#maxDelayMs, (failures - this.#slowAfter + 1) * this.#delayStepMs)
        : 0;
    return {
      allowed: true,
      delayMs,
      succeeded: async () => {
        await this.#withdrawTagged(keys.user, keys.tag, now);
        await this.#withdrawTagged(keys.userFailures, keys.tag, now);
        await store.indexRemove(keys.ip, [member]);
        await store.indexAdd(keys.userSuccesses, member, score, { cap: this.#maxSuccesses + 10, now });
      },
      failed: async () => {
        // Same member and expiry as the attempt: both leave their windows together.
        await store.indexAdd(keys.userFailures, member, score, { cap: this.#failureCap(), now });
        await store.indexAdd(keys.ipFailures, member, score, { cap: this.#maxIp + 10, now });
      },
      abandoned: withdraw,
    };
  }

  /** Forget every attempt and failure of `username` (e.g. after an administrator reset the password). */
  async reset(username: string): Promise<void> {
    const keys = this.#userKeys(username);
    await this.#cache.store.indexDelete(keys.user);
    await this.#cache.store.indexDelete(keys.userFailures);
    await this.#cache.store.indexDelete(keys.userSuccesses);
  }

  /** Enough settled failures per user name to reach the longest delay, with some headroom. */
  #failureCap(): number {
    const toLongest = this.#delayStepMs > 0 ? Math.ceil(this.#maxDelayMs / this.#delayStepMs) : 0;
    return Math.max(this.#maxIp, this.#slowAfter + toLongest) + 10;
  }

  async #withdrawTagged(key: string, tag: string, now: number): Promise<void> {
    const own = (await this.#cache.store.indexRange(key, now)).filter((e) => e.member.startsWith(`${tag}.`));
    if (own.length > 0)
      await this.#cache.store.indexRemove(
        key,
        own.map((e) => e.member),
      );
  }

  async #refusal(keys: LimiterKeys, now: number, own: number): Promise<LoginRefused | undefined> {
    const pair = (await this.#cache.store.indexRange(keys.user, now)).filter((e) =>
      e.member.startsWith(`${keys.tag}.`),
    );
    if (pair.length - own >= this.#maxPair)
      return this.#refused(pair, this.#maxPair, own, now, 'user_address');
    const ip = await this.#cache.store.indexRange(keys.ip, now);
    if (ip.length - own >= this.#maxIp) return this.#refused(ip, this.#maxIp, own, now, 'ip');
    // Judged once, before this attempt is counted (successes are recorded by `succeeded()` only).
    if (own === 0) {
      const successes = await this.#cache.store.indexRange(keys.userSuccesses, now);
      if (successes.length >= this.#maxSuccesses)
        return this.#refused(successes, this.#maxSuccesses, 0, now, 'user_successes');
    }
    return undefined;
  }

  #refused(
    entries: { score: number }[],
    max: number,
    own: number,
    now: number,
    limit: LoginRefused['limit'],
  ): LoginRefused {
    // The count drops below `max` when the failure at this position leaves the window.
    const pivot = entries[entries.length - own - max]?.score ?? now + this.#windowMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((pivot - now) / 1000)), limit };
  }

  #keys(username: string, ip: string): LimiterKeys {
    return { ...this.#userKeys(username), ...this.#ipKeys(ip) };
  }

  #userKeys(username: string): Pick<LimiterKeys, 'user' | 'userFailures' | 'userSuccesses'> {
    const normalized = username.normalize('NFC').trim().toLowerCase();
    const digest = this.#cache.digest(`login:${normalized}`);
    return {
      user: this.#cache.key(`x:rl:u:${digest}`),
      userFailures: this.#cache.key(`x:rl:uf:${digest}`),
      userSuccesses: this.#cache.key(`x:rl:us:${digest}`),
    };
  }

  #ipKeys(ip: string): Pick<LimiterKeys, 'ip' | 'ipFailures' | 'tag'> {
    const digest = this.#cache.digest(`ip:${addressBucket(ip)}`);
    return {
      ip: this.#cache.key(`x:rl:ip:${digest}`),
      ipFailures: this.#cache.key(`x:rl:ipf:${digest}`),
      // A digest fragment, never the address: long enough that two buckets do not share one.
      tag: digest.slice(0, 16),
    };
  }
}

/** Store keys of one attempt: attempts (refusals), settled failures (slowdown), successes (refusals). */
interface LimiterKeys {
  user: string;
  ip: string;
  userFailures: string;
  ipFailures: string;
  userSuccesses: string;
  /** Tag of the address bucket on the members of the per-user-name indexes. */
  tag: string;
}

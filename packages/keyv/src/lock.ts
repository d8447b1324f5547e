import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheStore, StoreLock } from '@oauth-cache/core';

/** Options of {@link acquireLock}. */
export interface AcquireLockOptions {
  /** Keep retrying this long while another holder has the lock. Default 0 (one attempt). */
  waitMs?: number;
  /** Pause between attempts. Default 25 ms. */
  retryDelayMs?: number;
}

/**
 * Take the cross-process lock `key` (a full store key, e.g. `cache.key('lock:refresh:<uh>')`) for
 * `ttlMs`. Resolves `{ fencingToken, release }`, or `null` when someone else holds it after
 * `waitMs`. The lock expires by itself after `ttlMs` (a crashed holder never blocks for longer);
 * `release()` deletes it only if it is still this acquisition's (compare-and-delete).
 *
 * Uses the store's native `lock` (Redis: SET NX PX + Lua compare-and-delete; SQLite: insert-if-
 * absent-or-expired + conditional DELETE). A store without one (memory) gets a `commit` that
 * requires the key absent and sets it, and a read-compare-delete release, which is only atomic
 * within one process: fine for a store that cannot be shared anyway.
 */
export async function acquireLock(
  store: CacheStore,
  key: string,
  ttlMs: number,
  options: AcquireLockOptions = {},
): Promise<StoreLock | null> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  const retryDelay = options.retryDelayMs ?? 25;
  for (;;) {
    const lock = store.lock ? await store.lock(key, ttlMs) : await fallbackLock(store, key, ttlMs);
    if (lock || Date.now() + retryDelay > deadline) return lock;
    await sleep(retryDelay);
  }
}

async function fallbackLock(store: CacheStore, key: string, ttlMs: number): Promise<StoreLock | null> {
  const fencingToken = randomBytes(18).toString('base64url');
  const taken = await store.commit({
    now: Date.now(),
    require: [{ if: 'absent', key }],
    ops: [{ op: 'set', key, value: fencingToken, ttlMs }],
  });
  if (!taken.ok) return null;
  return {
    fencingToken,
    release: async () => {
      try {
        if ((await store.get(key)) === fencingToken) await store.delete(key);
      } catch {
        // The lock expires after ttlMs anyway.
      }
    },
  };
}

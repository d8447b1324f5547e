import { type CacheStore, createTokenCache, MemoryStore, type TokenCache } from '@oauth-cache/core';

/** A controllable clock (epoch ms) for expiry tests. */
export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

export function testClock(start = Date.now()): TestClock {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** A real cache over a real store (memory by default), test preset, no background timers. */
export function newCache(options: { store?: CacheStore; clock?: TestClock } = {}): TokenCache {
  return createTokenCache({
    store: options.store ?? new MemoryStore(),
    environment: 'test',
    autoCleanup: false,
    ...(options.clock ? { now: options.clock.now } : {}),
  });
}

import type { CacheStore } from '@oauth-cache/core';
import { describe, expect, it } from 'vitest';
import { batchSizing, DEFAULT_BATCH_SIZE, IN_PLACE_SQLITE_BATCH_SIZE } from '../src/migrate/batch-sizing.js';

// batchSizing reads nothing of a store but its kind.
const sqlite = { kind: 'sqlite' } as CacheStore;
const redis = { kind: 'redis' } as CacheStore;
const noEnv = {};

describe('batchSizing (the default --batch-size)', () => {
  it('is small where a batch costs the store little: Redis, a staged SQLite load, a dry run', () => {
    expect(DEFAULT_BATCH_SIZE).toBe(500);
    for (const [store, load] of [
      [redis, { deferred: false }],
      [redis, undefined],
      [null, undefined],
    ] as const) {
      expect(batchSizing(undefined, store, load, noEnv)).toEqual({ batchSize: 500, batchesInFlight: 3 });
    }
    // SQLite writes one batch at a time: two in flight.
    expect(batchSizing(undefined, sqlite, { deferred: true }, noEnv)).toEqual({
      batchSize: 500,
      batchesInFlight: 2,
    });
  });

  it('is larger into a SQLite store written in place (each batch a commit)', () => {
    expect(IN_PLACE_SQLITE_BATCH_SIZE).toBe(2000);
    expect(batchSizing(undefined, sqlite, { deferred: false }, noEnv).batchSize).toBe(2000);
    // A run outside a bulk load (a store without one, or a SQLite file that ended its staged load early).
    expect(batchSizing(undefined, sqlite, undefined, noEnv).batchSize).toBe(2000);
  });

  it('takes --batch-size as given, with fewer batches in flight for large ones', () => {
    expect(batchSizing(100, redis, undefined, noEnv)).toEqual({ batchSize: 100, batchesInFlight: 3 });
    expect(batchSizing(100, sqlite, { deferred: false }, noEnv)).toEqual({
      batchSize: 100,
      batchesInFlight: 2,
    });
    expect(batchSizing(6000, redis, undefined, noEnv)).toEqual({ batchSize: 6000, batchesInFlight: 2 });
    expect(batchSizing(10_000, redis, undefined, noEnv)).toEqual({ batchSize: 10_000, batchesInFlight: 1 });
    expect(batchSizing(20_000, redis, undefined, noEnv)).toEqual({ batchSize: 20_000, batchesInFlight: 1 });
  });

  it('lets OAUTH_CACHE_CLI_BATCHES_IN_FLIGHT set the batches in flight, ignoring a bad value', () => {
    const env = { OAUTH_CACHE_CLI_BATCHES_IN_FLIGHT: '5' };
    expect(batchSizing(undefined, redis, undefined, env).batchesInFlight).toBe(5);
    for (const bad of ['0', '-1', '1.5', 'many']) {
      expect(
        batchSizing(undefined, redis, undefined, { OAUTH_CACHE_CLI_BATCHES_IN_FLIGHT: bad }).batchesInFlight,
      ).toBe(3);
    }
  });
});

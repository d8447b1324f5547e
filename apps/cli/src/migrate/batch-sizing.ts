import type { BulkLoadInfo, CacheStore } from '@oauth-cache/core';

/**
 * Default `--batch-size` where a batch costs the store little by itself: Redis (one script call)
 * and a staged SQLite load. Smaller batches mean fewer tokens alive in the CLI at once, so far less
 * garbage-collection work: 1M legacy entries took 45.6 s into Redis at 2000 and 40.9 s at 500,
 * 68.9 s and 61.3 s into an empty SQLite file (peak RSS 245 → 200 MB and 266 → 241 MB).
 */
export const DEFAULT_BATCH_SIZE = 500;

/**
 * Default `--batch-size` into a SQLite store written in place (it already held data, or the source
 * is not a legacy dump): each batch is a commit that rewrites the scattered pages it touched, so
 * fewer, larger batches win (300k entries into a non-empty file: 44 s at 2000, 53 s at 500).
 */
export const IN_PLACE_SQLITE_BATCH_SIZE = 2000;

/**
 * Tokens held by the batches in flight and the one checked ahead of them, at most: keeps a run
 * inside the bin's 128 MB old space at any `--batch-size` (three batches of 20000 did not fit
 * 192 MB; one in flight plus one checked ahead came within a few MB of 128).
 */
const TOKENS_IN_FLIGHT = 20_000;

/** How a run batches its writes. */
export interface BatchSizing {
  batchSize: number;
  /** Batches written at the same time (the next is read and checked while one is written). */
  batchesInFlight: number;
}

/**
 * The batching of a run: `requested` (`--batch-size`) when given, else the default for `store`
 * (`null` on a dry run) and, inside a bulk load, the way the store took it.
 *
 * Batches in flight: three into Redis (one written by the store, one prepared by the CLI, one
 * whose presence check is on its way, see `legacy-migration.ts`; a fourth measured no faster), two
 * into SQLite, whose connection writes one batch at a time (a third there only kept more tokens
 * alive: 300k entries into an empty file, 18.3 s against 17.6 s). Fewer for large batches (see
 * TOKENS_IN_FLIGHT).
 * `OAUTH_CACHE_CLI_BATCHES_IN_FLIGHT` overrides it, for measurements.
 */
export function batchSizing(
  requested: number | undefined,
  store: CacheStore | null,
  load?: BulkLoadInfo,
  env: NodeJS.ProcessEnv = process.env,
): BatchSizing {
  const sqlite = store?.kind === 'sqlite';
  const inPlaceSqlite = sqlite && load?.deferred !== true;
  const batchSize = requested ?? (inPlaceSqlite ? IN_PLACE_SQLITE_BATCH_SIZE : DEFAULT_BATCH_SIZE);
  const configured = Number(env.OAUTH_CACHE_CLI_BATCHES_IN_FLIGHT);
  const batchesInFlight =
    Number.isInteger(configured) && configured > 0
      ? configured
      : Math.max(1, Math.min(sqlite ? 2 : 3, Math.floor(TOKENS_IN_FLIGHT / batchSize) - 1));
  return { batchSize, batchesInFlight };
}

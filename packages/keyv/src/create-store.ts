import { type CacheStore, ConfigError, MemoryStore } from '@oauth-cache/core';
import { type L1Options, L1Store } from './l1/l1-store.js';
import type { RedisTimings, RedisTlsOptions } from './redis/client-options.js';
import { RedisStore } from './redis/redis-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { maskUrl, parseStoreUrl } from './url.js';

/** Options of {@link createStore}. */
export interface CreateStoreOptions {
  /** The cache's key prefix (default `oc:`): L1 key pattern, Redis invalidation channel and sweep scope. */
  prefix?: string;
  /**
   * Wrap the store in an in-process L1 of access-token and grant reads ({@link L1Store}). Ignored for
   * `memory://` (already in process). Off by default.
   */
  l1?: L1Options | false;
  /** SQLite: how long a statement waits for another process's write lock. */
  sqlite?: { busyTimeoutMs?: number };
  /** Redis: the per-command deadline, TLS trust settings for `rediss://`. */
  redis?: RedisTimings & { tls?: RedisTlsOptions };
  /** Base for relative `sqlite://` paths. Default `process.cwd()`. */
  cwd?: string;
}

/**
 * Open the store named by `url` and check it answers before resolving:
 *
 * - `memory://` or `memory://?max=N`: core's {@link MemoryStore} (one process only);
 * - `sqlite:///abs/file.db`, `sqlite://./rel/file.db`, `sqlite://rel/file.db`: {@link SqliteStore}
 *   (folder created, WAL, tables created, write probed);
 * - `redis://[user:pass@]host:port[/db]`, `rediss://…`: {@link RedisStore} (connected and PINGed).
 *
 * Throws {@link ConfigError} for a URL that cannot be used (unknown scheme, bad path or db) and
 * `StoreUnavailableError` when the backend cannot be opened or reached; both name the URL with its
 * password masked (see {@link maskUrl}).
 */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<CacheStore> {
  const parsed = parseStoreUrl(url, options.cwd);
  const label = maskUrl(url.trim());
  let store: CacheStore;
  switch (parsed.scheme) {
    case 'memory':
      return new MemoryStore(parsed.max === undefined ? {} : { max: parsed.max });
    case 'sqlite':
      store = await SqliteStore.open({ path: parsed.path, label, ...options.sqlite });
      break;
    case 'redis':
      store = await RedisStore.open({
        url: parsed.url,
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...options.redis,
      });
      break;
  }
  if (!options.l1) return store;
  try {
    return await L1Store.wrap(store, {
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      ...options.l1,
    });
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

function wholeNumber(
  env: Record<string, string | undefined>,
  name: string,
  issues: string[],
): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    issues.push(`${name}: expected a whole number, got "${raw.slice(0, 40)}"`);
    return undefined;
  }
  return Number(raw);
}

/**
 * {@link createStore} from the environment:
 * - `OAUTH_CACHE_STORE`: the store URL (default `memory://`);
 * - `OAUTH_CACHE_PREFIX`: key prefix (default `oc:`);
 * - `OAUTH_CACHE_L1_MAX` (entries; `0` or unset = no L1) and `OAUTH_CACHE_L1_MAX_STALE_MS` (default 1000).
 */
export async function createStoreFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: CreateStoreOptions = {},
): Promise<CacheStore> {
  const issues: string[] = [];
  const l1Max = wholeNumber(env, 'OAUTH_CACHE_L1_MAX', issues);
  const l1Stale = wholeNumber(env, 'OAUTH_CACHE_L1_MAX_STALE_MS', issues);
  if (issues.length > 0) throw new ConfigError(issues);
  const prefix = env.OAUTH_CACHE_PREFIX?.trim() || options.prefix;
  const l1: L1Options | false =
    l1Max !== undefined && l1Max > 0
      ? { ...(options.l1 || {}), max: l1Max, ...(l1Stale === undefined ? {} : { maxStaleMs: l1Stale }) }
      : (options.l1 ?? false);
  return createStore(env.OAUTH_CACHE_STORE?.trim() || 'memory://', {
    ...options,
    ...(prefix === undefined ? {} : { prefix }),
    l1,
  });
}

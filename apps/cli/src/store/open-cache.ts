import {
  type CacheConfig,
  ConfigError,
  configFromEnv,
  createTokenCache,
  StoreUnavailableError,
  type TokenCache,
} from '@oauth-cache/core';
import { createStore, maskUrl, parseStoreUrl } from '@oauth-cache/keyv';
import { FatalError, UsageError } from '../cli/errors.js';

/** Environment variables, as `process.env`. */
export type Env = Record<string, string | undefined>;

/** What a command needs from the keys. */
export type KeyNeed =
  /** Reads and deletes only (stats, purge, export, revoke --family). */
  | 'none'
  /** Digests of user ids (revoke --user): the secret must be the server's. */
  | 'secret'
  /** Writes records the server must read: the server's secret and encryption keys. */
  | 'all';

/**
 * Resolve the cache configuration from the environment, as the server does (`configFromEnv`), with
 * the cleanup timer off: a CLI run must not sweep behind the operator's back. Configuration
 * problems are usage errors (exit 2) naming each variable.
 */
export function configForCli(env: Env, keys: KeyNeed): CacheConfig {
  let config: CacheConfig;
  try {
    config = configFromEnv(env, { cleanupInterval: 0 });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`configuration: ${error.issues.join('; ')}`);
    throw error;
  }
  if (keys !== 'none' && !config.secret) {
    throw new UsageError(
      'OAUTH_CACHE_SECRET is required: without the server secret the tokens written or looked up here would not match the server',
    );
  }
  if (keys === 'all' && config.securityLevel !== 'basic' && config.encryptionKeys.length === 0) {
    throw new UsageError(
      `OAUTH_CACHE_ENCRYPTION_KEYS is required at security level "${config.securityLevel}": records are sealed with the server keys`,
    );
  }
  return config;
}

/** Check a store URL without opening it (bad URL: usage error naming it, password masked). */
export function checkStoreUrl(url: string, role: string): void {
  try {
    parseStoreUrl(url);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError(`${role}: ${error.issues.join('; ').replace(/^OAUTH_CACHE_STORE: /, '')}`);
    }
    throw error;
  }
}

/**
 * Open a cache over the store at `url` with `config`. A URL that cannot be used is a usage error;
 * a store that cannot be reached is fatal (exit 1).
 */
export async function openCache(url: string, config: CacheConfig, role: string): Promise<TokenCache> {
  checkStoreUrl(url, role);
  let store: Awaited<ReturnType<typeof createStore>>;
  try {
    store = await createStore(url, { prefix: config.prefix });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`${role}: ${error.issues.join('; ')}`);
    if (error instanceof StoreUnavailableError) {
      throw new FatalError(`${role}: cannot open ${maskUrl(url)}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  return createTokenCache({ config, store, autoCleanup: false });
}

/** `--store`/`--to` value, or `OAUTH_CACHE_STORE`; a usage error when neither is set. */
export function storeUrlFrom(option: string | undefined, env: Env, optionName: string): string {
  const url = option?.trim() || env.OAUTH_CACHE_STORE?.trim();
  if (!url) throw new UsageError(`${optionName} <url> is required (or set OAUTH_CACHE_STORE)`);
  return url;
}

import { StoreUnavailableError, type TokenCache } from '@oauth-cache/core';
import { ExitCode, type ExitCodeValue } from '../cli/errors.js';
import type { CliIO } from '../cli/io.js';
import { configForCli, type KeyNeed, openCache, storeUrlFrom } from '../store/open-cache.js';

/**
 * Open the store of `--store` (or OAUTH_CACHE_STORE), run `body`, close. A store that fails midway
 * is reported on stderr (exit 1); usage errors propagate (exit 2).
 */
export async function withCache(
  storeOption: string | undefined,
  keys: KeyNeed,
  io: CliIO,
  body: (cache: TokenCache) => Promise<void>,
): Promise<ExitCodeValue> {
  const url = storeUrlFrom(storeOption, io.env, '--store');
  const config = configForCli(io.env, keys);
  const cache = await openCache(url, config, '--store');
  try {
    await body(cache);
    return ExitCode.Ok;
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    io.stderr.write(`fatal: store unavailable: ${error.message}\n`);
    return ExitCode.Failed;
  } finally {
    await cache.close().catch(() => undefined);
  }
}

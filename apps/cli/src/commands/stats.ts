import type { CacheStats } from '@oauth-cache/core';
import type { ExitCodeValue } from '../cli/errors.js';
import type { CliIO } from '../cli/io.js';
import { withCache } from './with-cache.js';

/** Human form of the store-wide gauges (the per-process counters are zero in a fresh CLI process). */
export function formatStats(stats: CacheStats): string {
  const n = (v: number) => v.toLocaleString('en-US');
  return [
    `store: ${stats.store.kind}`,
    `security level: ${stats.security.level}`,
    `active tokens: ${n(stats.summary.totalActiveTokens)}`,
    `active sessions: ${n(stats.summary.totalActiveSessions)}`,
    `users: ${n(stats.summary.totalUsers)}`,
  ].join('\n');
}

/** `oauth-cache stats`: core's `stats()` of the store. */
export function runStats(opts: { store?: string; json?: boolean }, io: CliIO): Promise<ExitCodeValue> {
  return withCache(opts.store, 'none', io, async (cache) => {
    const stats = await cache.stats();
    io.stdout.write(`${opts.json ? JSON.stringify(stats) : formatStats(stats)}\n`);
  });
}

import type { CacheStats } from './types.js';

/**
 * Process-local operation counters behind `stats()`. Counters only ever increase; gauges (active
 * tokens, sessions, users) are read from the store's indexes, so they cannot drift negative the
 * way the original module's decremented counter did.
 */
export class Counters {
  tokens = {
    stored: 0,
    validations: 0,
    hits: 0,
    misses: 0,
    expired: 0,
    revoked: 0,
    /** Tokens of grants revoked by the per-user grant cap (`maxGrantsPerUser`). */
    evicted: 0,
    /** Issuances refused because the cache was full (`maxTokens`). */
    refused: 0,
    rotations: 0,
    refreshes: 0,
  };
  sessions = { created: 0, touched: 0, revoked: 0, evicted: 0 };
  security = {
    events: 0,
    reuseDetected: 0,
    rejected: 0,
    lastEvent: undefined as CacheStats['security']['lastEvent'],
  };
  cleanup = { runs: 0, removed: 0, lastRunAt: undefined as number | undefined };

  /** Percentage of validations that found a live token, one decimal. */
  hitRate(): number {
    const { validations, hits } = this.tokens;
    return validations === 0 ? 0 : Math.round((hits / validations) * 1000) / 10;
  }
}

import type { OperationEvent, SecurityEvent, TokenCache } from '@oauth-cache/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Options of {@link createCacheMetrics}. */
export interface CacheMetricsOptions {
  cache: Pick<TokenCache, 'stats' | 'events'>;
  /** Registry to register into; default: a new dedicated one (never prom-client's global). */
  registry?: Registry;
  /** Also collect Node's default process metrics into the registry (default true). */
  defaultMetrics?: boolean;
}

/** Prometheus metrics of one cache. */
export interface CacheMetrics {
  registry: Registry;
  /** The `Content-Type` of {@link CacheMetrics.render}'s output. */
  contentType: string;
  /** The Prometheus text exposition of every metric in the registry. */
  render(): Promise<string>;
  /** Stop listening to the cache and remove these metrics from the registry. */
  close(): void;
}

/** Label values come from core's fixed vocabularies; anything else (never expected) becomes `other`. */
const LABEL_VALUE = /^[a-z][a-z0-9_]{0,31}$/;
const safeLabel = (value: string): string => (LABEL_VALUE.test(value) ? value : 'other');

/** Buckets from 50 µs (memory store) to 2.5 s (a struggling network store). */
const DURATION_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * Prometheus metrics for a cache: operation counters and durations fed from `cache.events`
 * ('operation', 'error'; 'security' for refused issuances), and gauges read from `cache.stats()` at scrape time. Labels hold only
 * operation and result names, never tokens or user ids.
 */
export function createCacheMetrics(options: CacheMetricsOptions): CacheMetrics {
  const { cache } = options;
  const registry = options.registry ?? new Registry();
  const registers = [registry];

  const tokenOperations = new Counter({
    name: 'cache_token_operations_total',
    help: 'Token operations by operation and result',
    labelNames: ['operation', 'result'] as const,
    registers,
  });
  const sessionOperations = new Counter({
    name: 'cache_session_operations_total',
    help: 'Session operations by operation and result',
    labelNames: ['operation', 'result'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'cache_operation_duration_seconds',
    help: 'Duration of cache operations in seconds',
    labelNames: ['operation'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const storeErrors = new Counter({
    name: 'cache_store_errors_total',
    help: "Store failures the cache reported through its 'error' event",
    registers,
  });
  const refusedIssuances = new Counter({
    name: 'cache_token_issuance_refused_total',
    help: 'Token issuances refused because the cache held MAX_TOKEN_CACHE_SIZE live tokens',
    registers,
  });
  const scrapeErrors = new Counter({
    name: 'cache_stats_scrape_errors_total',
    help: 'Scrapes where cache.stats() failed (gauges kept their last value)',
    registers,
  });

  // One stats() call per scrape, shared by the three gauges (their collect() run concurrently).
  let pending: Promise<Awaited<ReturnType<typeof cache.stats>> | undefined> | undefined;
  const scrapeStats = () => {
    pending ??= cache
      .stats()
      .catch(() => {
        scrapeErrors.inc();
        return undefined;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  const statsGauge = (name: string, help: string, pick: (summary: StatsSummary) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const stats = await scrapeStats();
        // A store that cannot answer leaves the last value; cache_stats_scrape_errors_total tells why.
        if (stats) this.set(pick(stats.summary));
      },
    });
  const names = [
    'cache_token_operations_total',
    'cache_session_operations_total',
    'cache_operation_duration_seconds',
    'cache_store_errors_total',
    'cache_token_issuance_refused_total',
    'cache_stats_scrape_errors_total',
    'cache_active_tokens',
    'cache_active_sessions',
    'cache_hit_rate_percent',
  ];
  statsGauge('cache_active_tokens', 'Live tokens in the cache', (summary) => summary.totalActiveTokens);
  statsGauge('cache_active_sessions', 'Live sessions in the cache', (summary) => summary.totalActiveSessions);
  statsGauge(
    'cache_hit_rate_percent',
    'Share of validations that found a live token (0-100)',
    (summary) => summary.cacheHitRate,
  );
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const onOperation = (event: OperationEvent) => {
    const operation = safeLabel(event.operation);
    const counter = event.subject === 'session' ? sessionOperations : tokenOperations;
    counter.inc({ operation, result: safeLabel(event.result) });
    if (Number.isFinite(event.duration) && event.duration >= 0)
      duration.observe({ operation }, event.duration);
  };
  const onError = () => storeErrors.inc();
  const onSecurity = (event: SecurityEvent) => {
    if (event.type === 'capacity_reached') refusedIssuances.inc();
  };
  cache.events.on('operation', onOperation);
  cache.events.on('error', onError);
  cache.events.on('security', onSecurity);

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    close() {
      cache.events.off('operation', onOperation);
      cache.events.off('error', onError);
      cache.events.off('security', onSecurity);
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

type StatsSummary = Awaited<ReturnType<TokenCache['stats']>>['summary'];

/**
 * The operator console's long-lived parts for one server: the security event ring and its feeds,
 * the stats sampler, and the server counters they read. Created once in `startServer`, closed on
 * shutdown; the routes ({@link consoleRoutes}) are built from it by the app.
 */
import type { TokenCache } from '@oauth-cache/core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { attachSecurityEvents, type ServerEvents, serverEvents } from './event-feed.js';
import { EventRing } from './event-ring.js';
import { createServerMetrics, type ServerMetrics } from './server-metrics.js';
import { StatsSampler } from './stats-sampler.js';

export interface OperatorConsole {
  ring: EventRing;
  sampler: StatsSampler;
  metrics: ServerMetrics;
  /** The one place security log lines are written through (see `serverEvents`). */
  events: ServerEvents;
  /** Stop sampling, detach from the cache, unregister the counters. */
  close(): void;
}

export interface OperatorConsoleOptions {
  cache: Pick<TokenCache, 'events'>;
  /** The `/metrics` registry (the cache metrics'). */
  registry: Registry;
  logger: Logger;
  /** Sampling interval of the stats page (default a minute). */
  statsIntervalMs?: number;
}

export function createOperatorConsole(options: OperatorConsoleOptions): OperatorConsole {
  const ring = new EventRing();
  const metrics = createServerMetrics(options.registry);
  const detach = attachSecurityEvents(options.cache, ring);
  const sampler = new StatsSampler(options.registry, {
    ...(options.statsIntervalMs ? { intervalMs: options.statsIntervalMs } : {}),
  });
  sampler.start();
  return {
    ring,
    sampler,
    metrics,
    events: serverEvents(options.logger, { ring, metrics }),
    close() {
      sampler.stop();
      detach();
      metrics.close();
    },
  };
}

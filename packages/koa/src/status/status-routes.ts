import Router from '@koa/router';
import type { TokenCache } from '@oauth-cache/core';
import type { Context } from 'koa';
import { DEFAULT_RETRY_AFTER_SECONDS, isStoreUnavailable } from '../errors/store-unavailable.js';
import { type CacheMetrics, createCacheMetrics } from '../metrics/cache-metrics.js';
import { requireStatusToken } from './status-token.js';

/** Options of {@link statusRoutes}. */
export interface StatusRoutesOptions {
  cache: Pick<TokenCache, 'ping' | 'stats' | 'store' | 'events'>;
  /**
   * When set (at least 16 characters), `/cache/status` and `/metrics` require
   * `Authorization: Bearer <statusToken>`. The server app reads it from `OAUTH_CACHE_STATUS_TOKEN`.
   */
  statusToken?: string;
  /** Metrics to serve on `/metrics`; created with {@link createCacheMetrics} when omitted. */
  metrics?: CacheMetrics;
  /** Path prefix for the routes (default none). */
  prefix?: string;
  /** `Retry-After` seconds on 503 (default 5). */
  retryAfterSeconds?: number;
}

/**
 * A `@koa/router` with `GET /health` (public readiness: 503 while the store is down),
 * `GET /health/live` (public liveness: 200 while the process serves requests, no store call),
 * `GET /cache/status` (`cache.stats()`) and `GET /metrics` (Prometheus text). Mount with
 * `app.use(router.routes()).use(router.allowedMethods())`.
 *
 * Point a restart probe (Kubernetes `livenessProbe`) at `/health/live` and a traffic probe
 * (`readinessProbe`, a load balancer) at `/health`: a Redis blip then takes instances out of
 * rotation without restarting them all.
 */
export function statusRoutes(options: StatusRoutesOptions): Router {
  const { cache } = options;
  if (options.statusToken !== undefined && typeof options.statusToken !== 'string') {
    throw new TypeError('statusToken: expected a string');
  }
  const guard = options.statusToken !== undefined ? [requireStatusToken(options.statusToken)] : [];
  const metrics = options.metrics ?? createCacheMetrics({ cache });
  const retryAfter = String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
  const router = new Router(options.prefix ? { prefix: options.prefix } : {});

  const unavailable = (ctx: Context, body: unknown) => {
    ctx.status = 503;
    ctx.set('Retry-After', retryAfter);
    ctx.body = body;
  };

  router.get('/health', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const kind = cache.store.kind;
    try {
      await cache.ping();
      ctx.body = { status: 'ok', store: { kind, ok: true } };
    } catch {
      unavailable(ctx, { status: 'unavailable', store: { kind, ok: false } });
    }
  });

  // Liveness only: answering at all is the signal. The store is deliberately not touched.
  router.get('/health/live', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/cache/status', ...guard, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      ctx.body = await cache.stats();
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      unavailable(ctx, {
        error: 'temporarily_unavailable',
        error_description: 'The token store is temporarily unavailable',
      });
    }
  });

  router.get('/metrics', ...guard, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.contentType;
    ctx.body = await metrics.render();
  });

  return router;
}

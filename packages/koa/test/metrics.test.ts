import { createTokenCache } from '@oauth-cache/core';
import { register as globalRegistry, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createCacheMetrics } from '../src/index.js';
import { newCache } from './support/cache.js';
import { SwitchableStore } from './support/switchable-store.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(store?: SwitchableStore) {
  const cache = newCache(store ? { store } : {});
  const metrics = createCacheMetrics({ cache });
  cleanups.push(
    () => cache.close(),
    () => metrics.close(),
  );
  return { cache, metrics };
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createCacheMetrics', () => {
  it('counts token and session operations by operation and result', async () => {
    const { cache, metrics } = setup();
    await cache.storeToken({ userId: 'metrics-user', accessToken: 'metrics-token-1' });
    await cache.validateAccessToken('metrics-token-1');
    await cache.validateAccessToken('metrics-token-1');
    await cache.validateAccessToken('no-such-token');
    const session = await cache.createSession('metrics-user');
    await cache.touchSession(session.id);

    const text = await metrics.render();
    expect(sample(text, 'cache_token_operations_total{operation="validate",result="hit"}')).toBe(2);
    expect(sample(text, 'cache_token_operations_total{operation="validate",result="miss"}')).toBe(1);
    expect(text).toMatch(/^cache_token_operations_total\{operation="store",result="[a-z_]+"\} 1$/m);
    expect(text).toMatch(/^cache_session_operations_total\{operation="create",result="[a-z_]+"\} 1$/m);
    expect(text).toMatch(/^cache_session_operations_total\{operation="touch",result="[a-z_]+"\} 1$/m);
    expect(sample(text, 'cache_operation_duration_seconds_count{operation="validate"}')).toBe(3);
  });

  it('reads gauges from cache.stats() at scrape time', async () => {
    const { cache, metrics } = setup();
    await cache.storeToken({ userId: 'a', accessToken: 'gauge-token-1' });
    await cache.storeToken({ userId: 'b', accessToken: 'gauge-token-2' });
    await cache.createSession('a');
    await cache.validateAccessToken('gauge-token-1');
    await cache.validateAccessToken('missing');
    const text = await metrics.render();
    expect(sample(text, 'cache_active_tokens')).toBe(2);
    expect(sample(text, 'cache_active_sessions')).toBe(1);
    expect(sample(text, 'cache_hit_rate_percent')).toBe(50);
  });

  it('counts issuances refused because the cache is full (cache_token_issuance_refused_total)', async () => {
    const cache = createTokenCache({ environment: 'test', autoCleanup: false, maxTokens: 2 });
    const metrics = createCacheMetrics({ cache, defaultMetrics: false });
    cleanups.push(
      () => cache.close(),
      () => metrics.close(),
    );
    expect(sample(await metrics.render(), 'cache_token_issuance_refused_total')).toBe(0);
    await cache.storeToken({ userId: 'a', accessToken: 'full-1', refreshToken: 'full-r1' });
    for (const user of ['b', 'c']) {
      await expect(cache.storeToken({ userId: user, accessToken: `refused-${user}` })).rejects.toMatchObject({
        code: 'capacity_reached',
      });
    }
    const text = await metrics.render();
    expect(sample(text, 'cache_token_issuance_refused_total')).toBe(2);
    expect(sample(text, 'cache_token_operations_total{operation="store",result="refused"}')).toBe(2);
    expect(sample(text, 'cache_active_tokens')).toBe(2);
  });

  it('includes Node default metrics in a dedicated registry, not the global one', async () => {
    const { metrics } = setup();
    const text = await metrics.render();
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(metrics.contentType).toMatch(/^text\/plain/);
    expect(await globalRegistry.metrics()).not.toContain('cache_token_operations_total');
  });

  it('never puts tokens or user ids in labels', async () => {
    const { cache, metrics } = setup();
    const userId = 'user-id-ZXCVBNM';
    const token = 'raw-token-QWERTYUIOP';
    await cache.storeToken({ userId, accessToken: token, refreshToken: 'raw-refresh-ASDFGHJKL' });
    await cache.validateAccessToken(token);
    await cache.rotateRefreshToken('raw-refresh-ASDFGHJKL');
    await cache.revokeUserTokens(userId);
    const text = await metrics.render();
    for (const secret of [userId, token, 'raw-refresh-ASDFGHJKL']) expect(text).not.toContain(secret);
    const labelValues = [...text.matchAll(/(operation|result)="([^"]*)"/g)].map((match) => match[2] ?? '');
    expect(labelValues.length).toBeGreaterThan(0);
    for (const value of labelValues) expect(value).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  it('keeps serving when stats() fails, keeping the last gauge values and counting the failure', async () => {
    const store = new SwitchableStore();
    const { cache, metrics } = setup(store);
    await cache.storeToken({ userId: 'a', accessToken: 'down-token' });
    const healthy = await metrics.render();
    expect(sample(healthy, 'cache_active_tokens')).toBe(1);
    expect(sample(healthy, 'cache_stats_scrape_errors_total')).toBe(0);
    store.down = true;
    expect(sample(await metrics.render(), 'cache_active_tokens')).toBe(1);
    // The counter may be read before the gauges' collect() fails within one scrape: look at the next.
    const text = await metrics.render();
    expect(sample(text, 'cache_active_tokens')).toBe(1);
    expect(sample(text, 'cache_stats_scrape_errors_total')).toBeGreaterThanOrEqual(1);
  });

  it("counts the cache's 'error' events (a background cleanup against a dead store)", async () => {
    const store = new SwitchableStore();
    const cache = createTokenCache({ store, environment: 'test', cleanupInterval: 1, autoCleanup: true });
    const metrics = createCacheMetrics({ cache, defaultMetrics: false });
    cleanups.push(
      () => cache.close(),
      () => metrics.close(),
    );
    store.down = true;
    await expect
      .poll(async () => sample(await metrics.render(), 'cache_store_errors_total') ?? 0, {
        timeout: 15_000,
        interval: 250,
      })
      .toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('registers into a given registry and close() detaches and unregisters', async () => {
    const cache = newCache();
    cleanups.push(() => cache.close());
    const registry = new Registry();
    const metrics = createCacheMetrics({ cache, registry, defaultMetrics: false });
    expect(metrics.registry).toBe(registry);
    expect(await registry.metrics()).not.toContain('nodejs_');
    await cache.validateAccessToken('x');
    expect(await registry.metrics()).toContain(
      'cache_token_operations_total{operation="validate",result="miss"} 1',
    );
    metrics.close();
    expect(cache.events.listenerCount('operation')).toBe(0);
    expect(cache.events.listenerCount('security')).toBe(0);
    expect(await registry.metrics()).not.toContain('cache_token_operations_total');
    expect(await registry.metrics()).not.toContain('cache_token_issuance_refused_total');
  });
});

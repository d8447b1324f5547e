import type { TokenCache } from '@oauth-cache/core';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oauthErrorHandler, statusRoutes } from '../src/index.js';
import { newCache } from './support/cache.js';
import { listen, type RunningApp } from './support/http.js';
import { SwitchableStore } from './support/switchable-store.js';

const STATUS_TOKEN = 'status-token-0123456789abcdef';

function mount(options: Parameters<typeof statusRoutes>[0]): Koa {
  const koa = new Koa();
  koa.use(oauthErrorHandler());
  const router = statusRoutes(options);
  koa.use(router.routes()).use(router.allowedMethods());
  return koa;
}

describe('statusRoutes', () => {
  const store = new SwitchableStore();
  let cache: TokenCache;
  let open: RunningApp;
  let guarded: RunningApp;

  beforeAll(async () => {
    cache = newCache({ store });
    open = await listen(mount({ cache }));
    guarded = await listen(mount({ cache, statusToken: STATUS_TOKEN }));
  });
  beforeEach(() => {
    store.down = false;
  });
  afterAll(async () => {
    await Promise.all([open.close(), guarded.close()]);
    await cache.close();
  });

  it('GET /health -> 200 with the store kind', async () => {
    const response = await fetch(`${open.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', store: { kind: 'memory', ok: true } });
  });

  it('GET /health -> 503 with Retry-After when the store is down (no token needed, even when guarded)', async () => {
    store.down = true;
    for (const url of [open.url, guarded.url]) {
      const response = await fetch(`${url}/health`);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toEqual({ status: 'unavailable', store: { kind: 'memory', ok: false } });
    }
  });

  it('GET /health/live -> 200 while the process serves, also with the store down and a status token', async () => {
    for (const down of [false, true]) {
      store.down = down;
      for (const url of [open.url, guarded.url]) {
        const response = await fetch(`${url}/health/live`);
        expect(response.status).toBe(200);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(response.headers.get('retry-after')).toBeNull();
        expect(await response.json()).toEqual({ status: 'ok' });
      }
    }
    // Readiness still reports the dead store next to it.
    expect((await fetch(`${open.url}/health`)).status).toBe(503);
  });

  it('GET /cache/status -> cache.stats() as JSON', async () => {
    await cache.storeToken({ userId: 'status-user', accessToken: 'status-access-token' });
    const response = await fetch(`${open.url}/cache/status`);
    expect(response.status).toBe(200);
    const stats = (await response.json()) as {
      summary: { totalActiveTokens: number };
      store: { kind: string };
    };
    expect(stats.summary.totalActiveTokens).toBeGreaterThanOrEqual(1);
    expect(stats.store.kind).toBe('memory');
    expect(JSON.stringify(stats)).not.toContain('status-access-token');
  });

  it('GET /cache/status -> 503 when the store is down', async () => {
    store.down = true;
    const response = await fetch(`${open.url}/cache/status`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
  });

  it('GET /metrics -> Prometheus text', async () => {
    const response = await fetch(`${open.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('# TYPE cache_token_operations_total counter');
    expect(text).toMatch(/^cache_active_tokens \d+$/m);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('with a status token: /cache/status and /metrics need it, compared exactly', async () => {
    for (const path of ['/cache/status', '/metrics']) {
      const none = await fetch(`${guarded.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="oauth-cache-status"');
      expect(await none.json()).toEqual({
        error: 'invalid_token',
        error_description: 'Status token required',
      });

      for (const wrong of [`${STATUS_TOKEN}x`, STATUS_TOKEN.slice(0, -1), 'short']) {
        const response = await fetch(`${guarded.url}${path}`, {
          headers: { authorization: `Bearer ${wrong}` },
        });
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      }
      const basic = await fetch(`${guarded.url}${path}`, {
        headers: { authorization: `Basic ${STATUS_TOKEN}` },
      });
      expect(basic.status).toBe(401);

      const right = await fetch(`${guarded.url}${path}`, {
        headers: { authorization: `Bearer ${STATUS_TOKEN}` },
      });
      expect(right.status).toBe(200);
    }
  });

  it('/health stays public with a status token', async () => {
    expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
  });

  it('refuses a guessable status token at construction', () => {
    expect(() => statusRoutes({ cache, statusToken: 'short' })).toThrow(/at least 16 characters/);
    expect(() => statusRoutes({ cache, statusToken: '' })).toThrow(/at least 16 characters/);
  });

  it('honours a prefix', async () => {
    const prefixed = await listen(mount({ cache, prefix: '/_status' }));
    try {
      expect((await fetch(`${prefixed.url}/_status/health`)).status).toBe(200);
      expect((await fetch(`${prefixed.url}/_status/health/live`)).status).toBe(200);
      expect((await fetch(`${prefixed.url}/health`)).status).toBe(404);
    } finally {
      await prefixed.close();
    }
  });
});

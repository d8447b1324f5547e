import { StoreUnavailableError, type TokenCache } from '@oauth-cache/core';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearerAuth, oauthErrorHandler, verifyBearer } from '../src/index.js';
import { newCache } from './support/cache.js';
import { listen, type RunningApp } from './support/http.js';
import { SwitchableStore } from './support/switchable-store.js';

describe('store unavailable', () => {
  const store = new SwitchableStore();
  let cache: TokenCache;
  let app: RunningApp;

  beforeAll(async () => {
    cache = newCache({ store });
    const koa = new Koa();
    koa.use(oauthErrorHandler({ retryAfterSeconds: 7 }));
    koa.use(
      bearerAuth({
        cache,
        retryAfterSeconds: 7,
        resourceMetadataUrl: 'https://rs.example/.well-known/oauth-protected-resource',
      }),
    );
    koa.use(async (ctx) => {
      // A handler that hits the store itself: its StoreUnavailableError reaches oauthErrorHandler.
      if (ctx.path === '/sessions') ctx.body = await cache.createSession('someone');
      else ctx.body = { ok: true };
    });
    app = await listen(koa);
  });
  beforeEach(() => {
    store.down = false;
  });
  afterAll(async () => {
    await app.close();
    await cache.close();
  });

  it('verifyBearer reports unavailable, not invalid', async () => {
    await cache.storeToken({ userId: 'u', accessToken: 'live-token' });
    store.down = true;
    expect(await verifyBearer('Bearer live-token', cache)).toEqual({
      kind: 'unavailable',
      description: 'The token store is temporarily unavailable; retry later',
    });
  });

  it('answers 503 with Retry-After and temporarily_unavailable for a live token, never 401', async () => {
    await cache.storeToken({ userId: 'u', accessToken: 'live-token-2' });
    expect((await fetch(`${app.url}/x`, { headers: { authorization: 'Bearer live-token-2' } })).status).toBe(
      200,
    );
    store.down = true;
    for (const token of ['live-token-2', 'unknown-token']) {
      const response = await fetch(`${app.url}/x`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(await response.json()).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'The token store is temporarily unavailable; retry later',
      });
    }
    store.down = false;
    expect((await fetch(`${app.url}/x`, { headers: { authorization: 'Bearer live-token-2' } })).status).toBe(
      200,
    );
  });

  it('malformed and missing headers are still 400/401 while the store is down (no store call needed)', async () => {
    store.down = true;
    expect((await fetch(`${app.url}/x`)).status).toBe(401);
    expect((await fetch(`${app.url}/x`, { headers: { authorization: 'Basic abc' } })).status).toBe(400);
  });

  it('oauthErrorHandler maps a StoreUnavailableError thrown by a handler to 503 + Retry-After', async () => {
    await cache.storeToken({ userId: 'u', accessToken: 'live-token-3' });
    // Validation succeeds, then the store dies before the handler's own store call.
    const koa = new Koa();
    koa.use(oauthErrorHandler({ retryAfterSeconds: 3 }));
    koa.use(bearerAuth({ cache }));
    koa.use(async (ctx) => {
      store.down = true;
      ctx.body = await cache.createSession('someone');
    });
    const running = await listen(koa);
    try {
      const response = await fetch(`${running.url}/sessions`, {
        headers: { authorization: 'Bearer live-token-3' },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('3');
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await running.close();
    }
  });

  it('the fault injector throws the real core error type', async () => {
    store.down = true;
    await expect(store.get('x')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

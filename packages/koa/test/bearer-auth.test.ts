import { bodyParser } from '@koa/bodyparser';
import type { TokenCache } from '@oauth-cache/core';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BearerAuthOptions, type BearerAuthState, bearerAuth, oauthErrorHandler } from '../src/index.js';
import { newCache, type TestClock, testClock } from './support/cache.js';
import { listen, type RunningApp, rawRequest } from './support/http.js';

const META = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
const RESOURCE = 'https://mcp.example.com/mcp';

/** An app whose /protected route echoes what bearerAuth put on ctx.state. */
function protectedApp(options: Omit<BearerAuthOptions, 'cache'>, cache: BearerAuthOptions['cache']): Koa {
  const app = new Koa<BearerAuthState>();
  app.use(oauthErrorHandler());
  app.use(bodyParser({ enableTypes: ['json', 'form'] }));
  app.use(bearerAuth({ cache, resourceMetadataUrl: META, ...options }));
  app.use((ctx) => {
    ctx.body = {
      userId: ctx.state.auth?.userId ?? null,
      scopes: ctx.state.auth?.scopes ?? null,
      body: ctx.request.body ?? null,
    };
  });
  return app;
}

describe('bearerAuth over HTTP', () => {
  let cache: TokenCache;
  let clock: TestClock;
  let app: RunningApp;
  let scoped: RunningApp;
  let audience: RunningApp;

  beforeAll(async () => {
    clock = testClock();
    cache = newCache({ clock });
    app = await listen(protectedApp({ exclude: ['/public'] }, cache));
    scoped = await listen(protectedApp({ requiredScopes: ['mcp:read', 'mcp:write'] }, cache));
    audience = await listen(protectedApp({ resource: RESOURCE }, cache));
  });
  afterAll(async () => {
    await Promise.all([app.close(), scoped.close(), audience.close()]);
    await cache.close();
  });

  async function issue(
    input: { scopes?: string[]; resource?: string; expiresIn?: number; sessionId?: string } = {},
  ) {
    const token = `tok_${Math.random().toString(36).slice(2)}${Date.now()}`;
    await cache.storeToken({ userId: 'user-1', accessToken: token, scopes: ['mcp:read'], ...input });
    return token;
  }

  it('lets a valid token through and puts the validation on ctx.state.auth', async () => {
    const token = await issue();
    const response = await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ userId: 'user-1', scopes: ['mcp:read'], body: null });
  });

  it('matches the scheme case-insensitively', async () => {
    const token = await issue();
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const response = await fetch(`${app.url}/protected`, {
        headers: { authorization: `${scheme} ${token}` },
      });
      expect(response.status).toBe(200);
    }
  });

  it('401 with a bare resource_metadata challenge when the header is missing', async () => {
    const response = await fetch(`${app.url}/protected`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${META}"`);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'Authorization: Bearer token required',
    });
  });

  it('401 challenges of a resource with required scopes name them (what the client should request)', async () => {
    const missing = await fetch(`${scoped.url}/protected`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe(
      `Bearer scope="mcp:read mcp:write", resource_metadata="${META}"`,
    );
    const unknown = await fetch(`${scoped.url}/protected`, {
      headers: { authorization: 'Bearer never-issued' },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toContain('scope="mcp:read mcp:write"');
  });

  it('401 invalid_token for an unknown token', async () => {
    const response = await fetch(`${app.url}/protected`, {
      headers: { authorization: 'Bearer never-issued' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked", resource_metadata="${META}"`,
    );
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is invalid, expired or revoked',
    });
  });

  it('401 invalid_token once the token expired', async () => {
    const token = await issue({ expiresIn: 60 });
    expect(
      (await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    clock.advance(61_000);
    const response = await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('401 invalid_token once the token is revoked', async () => {
    const token = await issue();
    expect(await cache.revokeToken(token)).toBe(true);
    const response = await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_token');
  });

  it('403 insufficient_scope naming the required scopes', async () => {
    const token = await issue({ scopes: ['mcp:read'] });
    const response = await fetch(`${scoped.url}/protected`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="The access token lacks a required scope", scope="mcp:read mcp:write", resource_metadata="${META}"`,
    );
    expect(((await response.json()) as { error: string }).error).toBe('insufficient_scope');
    const enough = await issue({ scopes: ['mcp:write', 'mcp:read', 'extra'] });
    expect(
      (await fetch(`${scoped.url}/protected`, { headers: { authorization: `Bearer ${enough}` } })).status,
    ).toBe(200);
  });

  it('rejects tokens issued for another resource or for none (audience binding)', async () => {
    const mine = await issue({ resource: RESOURCE });
    const other = await issue({ resource: 'https://other.example.com/mcp' });
    const unbound = await issue();
    expect(
      (await fetch(`${audience.url}/protected`, { headers: { authorization: `Bearer ${mine}` } })).status,
    ).toBe(200);
    for (const token of [other, unbound]) {
      const response = await fetch(`${audience.url}/protected`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain(
        'error="invalid_token", error_description="The access token was not issued for this resource"',
      );
    }
  });

  it.each([
    ['a different scheme', 'Basic ZGVtbzpkZW1v'],
    ['an empty value', ''],
    ['the scheme alone', 'Bearer'],
    ['two tokens', 'Bearer abc def'],
    ['characters outside b64token', 'Bearer ab"c'],
    ['padding in the middle', 'Bearer a=b'],
    ['an oversized value', `Bearer ${'a'.repeat(4100)}`],
  ])('400 invalid_request for %s', async (_name, authorization) => {
    const response = await rawRequest(`${app.url}/protected`, { headers: { authorization } });
    expect(response.status).toBe(400);
    expect(response.headers['www-authenticate']).toMatch(
      /^Bearer error="invalid_request", error_description="[^"]+", resource_metadata="/,
    );
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'invalid_request',
      error_description: expect.any(String),
    });
  });

  it('400 invalid_request for two Authorization headers', async () => {
    const token = await issue();
    const response = await rawRequest(`${app.url}/protected`, {
      // Capitalised key: node's typings only allow a single string for lower-case `authorization`.
      headers: { Authorization: [`Bearer ${token}`, `Bearer ${token}`] },
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'invalid_request',
      error_description: 'Multiple Authorization headers',
    });
  });

  it('400 invalid_request for an access_token in the query string, even with a valid header', async () => {
    const token = await issue();
    const variants: Array<Record<string, string>> = [{}, { authorization: `Bearer ${token}` }];
    for (const headers of variants) {
      const response = await fetch(`${app.url}/protected?x=1&access_token=${token}`, { headers });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_request');
      expect(body.error_description).toContain('query string');
      expect(JSON.stringify(body)).not.toContain(token);
    }
  });

  it('400 invalid_request for an access_token in the query string under a percent-encoded name', async () => {
    const token = await issue();
    for (const query of [`%61ccess_token=${token}`, `x=%41&access%5Ftoken=${token}`]) {
      const response = await fetch(`${app.url}/protected?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
    }
    // Look-alikes are not tokens: the request goes through.
    for (const query of ['x=%41', 'my_access_token=1', 'x=access_token']) {
      const response = await fetch(`${app.url}/protected?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
    }
  });

  it('400 invalid_request for an access_token in a form body (parsed or not yet parsed)', async () => {
    const token = await issue();
    const unparsed = new Koa();
    unparsed.use(bearerAuth({ cache, resourceMetadataUrl: META }));
    unparsed.use((ctx) => {
      ctx.body = { ok: true };
    });
    const bare = await listen(unparsed);
    try {
      for (const url of [`${app.url}/protected`, `${bare.url}/protected`]) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `access_token=${token}`,
        });
        expect(response.status).toBe(400);
        expect(((await response.json()) as { error_description: string }).error_description).toContain(
          'request body',
        );
      }
    } finally {
      await bare.close();
    }
  });

  it('leaves a form body without access_token readable downstream', async () => {
    const token = await issue();
    const response = await fetch(`${app.url}/protected`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=%D0%98%D0%B2%D0%B0%D0%BD&tag=a&tag=b',
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { body: unknown }).body).toEqual({ name: 'Иван', tag: ['a', 'b'] });
  });

  it('413 for a form body larger than the limit', async () => {
    const small = new Koa();
    small.use(bearerAuth({ cache, formBodyLimitBytes: 100 }));
    const running = await listen(small);
    try {
      const response = await rawRequest(`${running.url}/protected`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `field=${'x'.repeat(500)}`,
      });
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body)).toEqual({
        error: 'invalid_request',
        error_description: 'Request body too large',
      });
    } finally {
      await running.close();
    }
  });

  it('lets excluded paths through without a token', async () => {
    const response = await fetch(`${app.url}/public`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ userId: null });
    const predicate = await listen(
      protectedApp({ exclude: (ctx) => ctx.path.startsWith('/.well-known/') }, cache),
    );
    try {
      expect((await fetch(`${predicate.url}/.well-known/oauth-protected-resource`)).status).toBe(200);
      expect((await fetch(`${predicate.url}/mcp`)).status).toBe(401);
    } finally {
      await predicate.close();
    }
  });

  it('rejects invalid options at construction', () => {
    expect(() => bearerAuth({ cache, resourceMetadataUrl: 'not a url' })).toThrow(/absolute URL/);
    expect(() => bearerAuth({ cache, requiredScopes: ['bad scope'] })).toThrow(/invalid scope token/);
    expect(() => bearerAuth({ cache, requiredScopes: ['bad"scope'] })).toThrow(/invalid scope token/);
  });
});

describe('bearerAuth session touch', () => {
  it('touches the token session on each authorized request', async () => {
    const clock = testClock();
    const cache = newCache({ clock });
    const app = await listen(protectedApp({}, cache));
    try {
      const session = await cache.createSession('user-2');
      await cache.storeToken({ userId: 'user-2', accessToken: 'session-token-1', sessionId: session.id });
      clock.advance(30_000);
      const response = await fetch(`${app.url}/x`, { headers: { authorization: 'Bearer session-token-1' } });
      expect(response.status).toBe(200);
      await expect
        .poll(async () => (await cache.getSession(session.id))?.lastSeenAt, { timeout: 10_000 })
        .toBe(clock.now());
    } finally {
      await app.close();
      await cache.close();
    }
  });

  it('does not touch with touchSession: false', async () => {
    const clock = testClock();
    const cache = newCache({ clock });
    const touched: string[] = [];
    cache.events.on('operation', (event) => {
      if (event.subject === 'session' && event.operation === 'touch') touched.push(event.result);
    });
    const app = await listen(protectedApp({ touchSession: false }, cache));
    try {
      const session = await cache.createSession('user-3');
      await cache.storeToken({ userId: 'user-3', accessToken: 'session-token-2', sessionId: session.id });
      const before = (await cache.getSession(session.id))?.lastSeenAt;
      clock.advance(30_000);
      expect(
        (await fetch(`${app.url}/x`, { headers: { authorization: 'Bearer session-token-2' } })).status,
      ).toBe(200);
      // Let any stray fire-and-forget touch settle before looking.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(touched).toEqual([]);
      expect((await cache.getSession(session.id))?.lastSeenAt).toBe(before);
    } finally {
      await app.close();
      await cache.close();
    }
  });

  it('a failing session touch does not fail the request and is reported', async () => {
    const cache = newCache();
    const errors: unknown[] = [];
    // Fault injector on the cache API: validation is real, the touch always fails.
    const failingTouch = {
      validateAccessToken: (token: string) => cache.validateAccessToken(token),
      touchSession: () => Promise.reject(new Error('touch failed')),
    };
    const app = await listen(
      (() => {
        const koa = new Koa<BearerAuthState>();
        koa.use(bearerAuth({ cache: failingTouch, onTouchError: (error) => errors.push(error) }));
        koa.use((ctx) => {
          ctx.body = { userId: ctx.state.auth?.userId };
        });
        return koa;
      })(),
    );
    try {
      const session = await cache.createSession('user-4');
      await cache.storeToken({ userId: 'user-4', accessToken: 'session-token-3', sessionId: session.id });
      const response = await fetch(`${app.url}/x`, { headers: { authorization: 'Bearer session-token-3' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ userId: 'user-4' });
      await expect.poll(() => errors.length, { timeout: 10_000 }).toBe(1);
    } finally {
      await app.close();
      await cache.close();
    }
  });
});

import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import {
  createTokenCache,
  InvalidInputError,
  StoreUnavailableError,
  type TokenCache,
} from '@oauth-cache/core';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, oauthErrorHandler } from '../src/index.js';
import { listen, type RunningApp, rawRequest } from './support/http.js';
import { logCapture } from './support/log-capture.js';

describe('oauthErrorHandler', () => {
  const capture = logCapture();
  let app: RunningApp;
  let fullCache: TokenCache;

  beforeAll(async () => {
    // A real cache at its MAX_TOKEN_CACHE_SIZE: the next token is refused with CapacityError.
    fullCache = createTokenCache({ environment: 'test', autoCleanup: false, maxTokens: 1 });
    await fullCache.storeToken({ userId: 'first', accessToken: 'the-only-token' });
    const koa = new Koa();
    koa.use(
      oauthErrorHandler({ logger: createLogger({ destination: capture.stream }), retryAfterSeconds: 11 }),
    );
    koa.use(bodyParser({ jsonLimit: '1kb' }));
    const router = new Router();
    router.get('/store-down', () => {
      throw new StoreUnavailableError('redis ECONNREFUSED 10.0.0.5:6379');
    });
    router.get('/full', async () => {
      await fullCache.storeToken({ userId: 'second', accessToken: 'refused-token-SECRET' });
    });
    router.get('/invalid-input', () => {
      throw new InvalidInputError('userId must be a non-empty string');
    });
    router.get('/bug', () => {
      throw new Error('secret internals: password=hunter2 at /srv/app.js:42');
    });
    router.get('/not-error', () => {
      throw 'a string, not an Error';
    });
    router.get('/teapot', (ctx) => ctx.throw(418, 'I am a teapot'));
    router.get('/hidden', (ctx) => ctx.throw(502, 'upstream said something private'));
    router.post('/echo', (ctx) => {
      ctx.body = { got: ctx.request.body };
    });
    koa.use(router.routes()).use(router.allowedMethods());
    app = await listen(koa);
  });
  afterAll(async () => {
    await app.close();
    await fullCache.close();
  });

  it('StoreUnavailableError -> 503 + Retry-After, nothing about the store leaks', async () => {
    const response = await fetch(`${app.url}/store-down`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('11');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The token store is temporarily unavailable; retry later',
    });
    expect(text).not.toContain('10.0.0.5');
  });

  it("CapacityError (token cache full) -> 503 temporarily_unavailable with the error's Retry-After, not logged as a bug", async () => {
    const response = await fetch(`${app.url}/full`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('60');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The server holds as many tokens as it is configured for; retry later',
    });
    expect(text).not.toContain('refused-token-SECRET');
    expect(capture.lines.some((line) => line.msg === 'unhandled error' && line.path === '/full')).toBe(false);
    expect(await fullCache.validateAccessToken('the-only-token')).not.toBeNull();
  });

  it('bad JSON body -> 400 invalid_request', async () => {
    const response = await fetch(`${app.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"broken": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'The request body could not be parsed',
    });
  });

  it('too large body -> 413', async () => {
    const response = await rawRequest(`${app.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ big: 'x'.repeat(5000) }),
    });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toEqual({
      error: 'invalid_request',
      error_description: 'Request body too large',
    });
  });

  it('a valid body still works', async () => {
    const response = await fetch(`${app.url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(await response.json()).toEqual({ got: { a: 1 } });
  });

  it('InvalidInputError -> 400 invalid_request with its (secret-free) message', async () => {
    const response = await fetch(`${app.url}/invalid-input`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'invalid_request',
      error_description: 'userId must be a non-empty string',
    });
  });

  it('unknown errors -> 500 {"error":"server_error"} without details, logged instead', async () => {
    for (const path of ['/bug', '/not-error']) {
      const response = await fetch(`${app.url}${path}`);
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await response.text()).toBe('{"error":"server_error"}');
    }
    expect(capture.lines.some((line) => line.msg === 'unhandled error' && line.path === '/bug')).toBe(true);
  });

  it('exposed client errors keep their status; 5xx http errors hide their message', async () => {
    const teapot = await fetch(`${app.url}/teapot`);
    expect(teapot.status).toBe(418);
    expect(await teapot.json()).toEqual({ error: 'invalid_request', error_description: 'I am a teapot' });
    const hidden = await fetch(`${app.url}/hidden`);
    expect(hidden.status).toBe(500);
    expect(await hidden.text()).toBe('{"error":"server_error"}');
  });

  it('405 from the router is JSON with Allow', async () => {
    const response = await fetch(`${app.url}/echo`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toContain('POST');
    expect(await response.json()).toEqual({ error: 'method_not_allowed' });
  });

  it('an unmatched route is a JSON 404', async () => {
    const response = await fetch(`${app.url}/nowhere`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found' });
  });

  it('a thrown 405 (router throw mode) is JSON as well', async () => {
    const koa = new Koa();
    koa.use(oauthErrorHandler());
    const router = new Router();
    router.get('/only-get', (ctx) => {
      ctx.body = 'ok';
    });
    koa.use(router.routes()).use(router.allowedMethods({ throw: true }));
    const running = await listen(koa);
    try {
      const response = await fetch(`${running.url}/only-get`, { method: 'PUT' });
      expect(response.status).toBe(405);
      expect(await response.json()).toMatchObject({ error: 'method_not_allowed' });
    } finally {
      await running.close();
    }
  });
});

import type { TokenCache } from '@oauth-cache/core';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  attachSecurityLog,
  bearerAuth,
  createLogger,
  oauthErrorHandler,
  REDACTED,
  requestLogger,
} from '../src/index.js';
import { newCache, testClock } from './support/cache.js';
import { listen, type RunningApp } from './support/http.js';
import { logCapture } from './support/log-capture.js';

describe('createLogger redaction', () => {
  it('redacts authorization headers, cookies, tokens and passwords', () => {
    const capture = logCapture();
    const logger = createLogger({ destination: capture.stream });
    logger.info(
      {
        req: { headers: { authorization: 'Bearer SECRET-1', cookie: 'sid=SECRET-2', accept: 'json' } },
        res: { headers: { 'set-cookie': 'sid=SECRET-3' } },
        password: 'SECRET-4',
        user: { password: 'SECRET-5', name: 'ivanov' },
        token: 'SECRET-6',
        body: { access_token: 'SECRET-7', refresh_token: 'SECRET-8', client_secret: 'SECRET-9' },
        accessToken: 'SECRET-10',
      },
      'hello',
    );
    expect(capture.text()).not.toMatch(/SECRET-\d/);
    const [line] = capture.lines;
    expect(line).toMatchObject({
      msg: 'hello',
      req: { headers: { authorization: REDACTED, cookie: REDACTED, accept: 'json' } },
      user: { password: REDACTED, name: 'ivanov' },
      body: { access_token: REDACTED },
    });
  });

  it('honours level and extra redaction paths', () => {
    const capture = logCapture();
    const logger = createLogger({ destination: capture.stream, level: 'warn', redact: ['apiKey'] });
    logger.info('dropped');
    logger.warn({ apiKey: 'SECRET-K' }, 'kept');
    expect(capture.lines.map((line) => line.msg)).toEqual(['kept']);
    expect(capture.text()).not.toContain('SECRET-K');
  });
});

describe('requestLogger', () => {
  const capture = logCapture();
  let cache: TokenCache;
  let app: RunningApp;

  beforeAll(async () => {
    cache = newCache();
    await cache.storeToken({ userId: 'log-user', accessToken: 'log-token-SECRET' });
    const logger = createLogger({ destination: capture.stream });
    const koa = new Koa();
    koa.use(requestLogger({ logger }));
    koa.use(oauthErrorHandler({ logger }));
    koa.use(bearerAuth({ cache, exclude: ['/public', '/boom'] }));
    koa.use((ctx) => {
      if (ctx.path === '/boom') throw new Error('kaboom');
      ctx.body = { ok: true };
    });
    app = await listen(koa);
  });
  beforeEach(() => {
    capture.lines.length = 0;
  });
  afterAll(async () => {
    await app.close();
    await cache.close();
  });

  const requestLines = () => capture.lines.filter((line) => typeof line.status === 'number');

  it('logs method, path without query, status, duration, user id and outcome; echoes a sane request id', async () => {
    const response = await fetch(`${app.url}/mcp?cursor=abc&access=1`, {
      headers: { authorization: 'Bearer log-token-SECRET', 'x-request-id': 'req-123.abc' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-123.abc');
    const [line] = requestLines();
    expect(line).toMatchObject({
      reqId: 'req-123.abc',
      method: 'GET',
      path: '/mcp',
      status: 200,
      outcome: 'ok',
      userId: 'log-user',
      msg: 'request completed',
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(capture.text()).not.toContain('log-token-SECRET');
    expect(capture.text()).not.toContain('cursor');
  });

  it('generates a request id when the incoming one is not sane', async () => {
    for (const incoming of ['has spaces', 'x'.repeat(200), 'inject\\"quote', undefined]) {
      const headers: Record<string, string> = incoming ? { 'x-request-id': incoming } : {};
      const response = await fetch(`${app.url}/public`, { headers });
      const id = response.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(requestLines().map((line) => line.reqId)).toHaveLength(4);
  });

  it('logs refusals with the bearer outcome and no user id', async () => {
    await fetch(`${app.url}/mcp`);
    await fetch(`${app.url}/mcp`, { headers: { authorization: 'Bearer wrong-SECRET' } });
    await fetch(`${app.url}/mcp`, { headers: { authorization: 'Basic abc' } });
    expect(
      requestLines().map(({ status, outcome, userId, level }) => ({ status, outcome, userId, level })),
    ).toEqual([
      { status: 401, outcome: 'missing', userId: undefined, level: 40 },
      { status: 401, outcome: 'invalid_token', userId: undefined, level: 40 },
      { status: 400, outcome: 'invalid_request', userId: undefined, level: 40 },
    ]);
    expect(capture.text()).not.toContain('wrong-SECRET');
  });

  it('logs server errors at error level with outcome server_error', async () => {
    const response = await fetch(`${app.url}/boom`);
    expect(response.status).toBe(500);
    expect(requestLines()).toEqual([
      expect.objectContaining({ status: 500, outcome: 'server_error', level: 50, path: '/boom' }),
    ]);
    expect(capture.lines.some((line) => line.msg === 'unhandled error')).toBe(true);
  });
});

describe('attachSecurityLog', () => {
  it('logs security events on a child logger named security, without raw tokens', async () => {
    const capture = logCapture();
    const clock = testClock();
    const cache = newCache({ clock });
    const detach = attachSecurityLog(cache, createLogger({ destination: capture.stream }));
    try {
      await cache.storeToken({
        userId: 'sec-user',
        accessToken: 'sec-access-SECRET',
        refreshToken: 'sec-refresh-SECRET',
      });
      await cache.rotateRefreshToken('sec-refresh-SECRET');
      // Presenting the consumed refresh token again, after the race leeway, is reuse: the family is revoked.
      clock.advance(cache.config.reuseLeewayMs + 1000);
      await cache
        .rotateRefreshToken('sec-refresh-SECRET', { clientAddress: '203.0.113.5' })
        .catch(() => undefined);
      await expect
        .poll(() => capture.lines.some((line) => line.event === 'reuse_detected'), { timeout: 10_000 })
        .toBe(true);
      const reuse = capture.lines.find((line) => line.event === 'reuse_detected');
      expect(reuse).toMatchObject({
        name: 'security',
        level: 40,
        msg: 'security: reuse_detected',
        userId: 'sec-user',
        clientAddress: '203.0.113.5',
      });
      expect(capture.text()).not.toContain('SECRET');

      detach();
      const before = capture.lines.length;
      await cache.storeToken({ userId: 'sec-user', accessToken: 'after-detach' });
      await cache.revokeToken('after-detach');
      expect(capture.lines.length).toBe(before);
    } finally {
      await cache.close();
    }
  });
});

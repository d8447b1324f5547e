/**
 * Store failures reach the log with their cause: the cache's `error` events (attachStoreErrorLog,
 * level error) and StoreUnavailableError caught by oauthErrorHandler (level warn), both throttled,
 * over real HTTP and a real cache whose store is switched down.
 */
import Router from '@koa/router';
import { StoreUnavailableError, type TokenCache } from '@oauth-cache/core';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  attachStoreErrorLog,
  bearerAuth,
  createLogger,
  describeStoreError,
  oauthErrorHandler,
  requestLogger,
  storeFailureLog,
} from '../src/index.js';
import { newCache } from './support/cache.js';
import { listen, type RunningApp } from './support/http.js';
import { logCapture } from './support/log-capture.js';
import { SwitchableStore } from './support/switchable-store.js';

const WARN = 40;
const ERROR = 50;

/** A store error as @oauth-cache/keyv builds it: store label, operation, driver message, cause. */
function driverFailure(): StoreUnavailableError {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6399'), { code: 'ECONNREFUSED' });
  return new StoreUnavailableError(
    'redis://***@127.0.0.1:6399: get failed: connect ECONNREFUSED 127.0.0.1:6399',
    {
      cause,
    },
  );
}

describe('storeFailureLog', () => {
  it('logs the first failure at once, then at most one line per interval with a suppressed count', () => {
    const capture = logCapture();
    let clock = 1_000;
    const report = storeFailureLog({
      logger: createLogger({ destination: capture.stream }),
      level: 'error',
      intervalMs: 5000,
      now: () => clock,
    });
    report(driverFailure(), { path: '/mcp' });
    for (let i = 0; i < 7; i++) {
      clock += 500;
      report(driverFailure());
    }
    expect(capture.lines).toHaveLength(1);
    clock += 2000; // 5.5 s after the first line
    report(driverFailure());
    expect(capture.lines).toHaveLength(2);
    expect(capture.lines[0]).toMatchObject({
      level: ERROR,
      event: 'store_unavailable',
      path: '/mcp',
      error: {
        name: 'StoreUnavailableError',
        code: 'store_unavailable',
        cause: { name: 'Error', code: 'ECONNREFUSED' },
      },
    });
    expect(capture.lines[0]?.msg).toMatch(
      /^token store unavailable: redis:\/\/\*\*\*@127\.0\.0\.1:6399: get failed/,
    );
    expect(capture.lines[0]).not.toHaveProperty('suppressed');
    expect(capture.lines[1]).toMatchObject({ suppressed: 7 });
  });

  it('interval 0 logs every failure; other errors are named cache errors', () => {
    const capture = logCapture();
    const report = storeFailureLog({ logger: createLogger({ destination: capture.stream }), intervalMs: 0 });
    report(driverFailure());
    report(new TypeError('sweep failed'));
    expect(capture.lines.map((l) => [l.level, l.event])).toEqual([
      [WARN, 'store_unavailable'],
      [WARN, 'cache_error'],
    ]);
    expect(capture.lines[1]?.msg).toBe('token cache error: sweep failed');
  });

  it('describeStoreError clips long messages and never copies other fields of the cause', () => {
    const cause = Object.assign(new Error('x'), { code: 'SQLITE_FULL', sql: 'INSERT secret-value' });
    const described = describeStoreError(new StoreUnavailableError('m'.repeat(1000), { cause }));
    expect(described.message).toHaveLength(303);
    expect(described.cause).toEqual({ name: 'Error', code: 'SQLITE_FULL' });
    expect(JSON.stringify(described)).not.toContain('secret-value');
    expect(describeStoreError('plain string')).toEqual({ name: 'Error', message: 'plain string' });
  });
});

describe('a dead store, over HTTP', () => {
  const store = new SwitchableStore();
  const capture = logCapture();
  let cache: TokenCache;
  let app: RunningApp;
  let detach: () => void;

  beforeAll(async () => {
    cache = newCache({ store });
    const logger = createLogger({ destination: capture.stream });
    detach = attachStoreErrorLog(cache, logger);
    const koa = new Koa();
    koa.use(requestLogger({ logger }));
    koa.use(oauthErrorHandler({ logger }));
    const router = new Router();
    // A handler calling the store directly (as rate limits and client registries do): no cache event.
    router.post('/register', async (ctx) => {
      const key = cache.key('x:client:c1');
      const result = await cache.store.commit({
        now: Date.now(),
        require: [{ if: 'absent', key }],
        ops: [{ op: 'set', key, value: { id: 'c1' }, ttlMs: 60_000 }],
      });
      ctx.body = { added: result.ok };
    });
    router.get('/mcp', bearerAuth({ cache }), (ctx) => {
      ctx.body = { ok: true };
    });
    koa.use(router.routes()).use(router.allowedMethods());
    app = await listen(koa);
  });
  beforeEach(() => {
    store.down = false;
    capture.lines.length = 0;
  });
  afterAll(async () => {
    detach();
    await app.close();
    await cache.close();
  });

  it('the cache error event is logged at error, once, with the message; never the token', async () => {
    const token = 'live-access-token-0123456789';
    await cache.storeToken({ userId: 'u1', accessToken: token });
    store.down = true;
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${app.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(503);
    }
    const lines = capture.lines.filter((l) => l.event === 'store_unavailable');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: ERROR,
      source: 'cache',
      error: { name: 'StoreUnavailableError' },
    });
    expect(lines[0]?.msg).toContain('test store switched down');
    expect(capture.text()).not.toContain(token);
  });

  it('oauthErrorHandler logs a StoreUnavailableError at warn with its message and the request, throttled', async () => {
    store.down = true;
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${app.url}/register`, { method: 'POST' });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
    }
    const lines = capture.lines.filter((l) => l.event === 'store_unavailable');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: WARN,
      method: 'POST',
      path: '/register',
      error: {
        name: 'StoreUnavailableError',
        code: 'store_unavailable',
        message: 'test store switched down',
      },
    });
    expect(typeof lines[0]?.reqId).toBe('string');
    expect(lines[0]?.msg).toBe('token store unavailable: test store switched down');
  });

  it('without a logger the handler stays silent about store failures (as before)', async () => {
    const koa = new Koa();
    const emitted: unknown[] = [];
    koa.on('error', (error: unknown) => emitted.push(error));
    koa.use(oauthErrorHandler());
    koa.use(() => {
      throw driverFailure();
    });
    const running = await listen(koa);
    try {
      expect((await fetch(running.url)).status).toBe(503);
      expect(emitted).toEqual([]);
    } finally {
      await running.close();
    }
  });
});

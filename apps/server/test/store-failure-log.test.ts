/**
 * A failing store is logged with its cause, not only as `request failed` lines: the cache's own
 * store calls (bearer check) at error, store calls the routes make directly (registration, the
 * login page) at warn; each throttled to one line per 5 s; never a token or a password. And the
 * liveness probe keeps answering while readiness reports the store down. Real redis-server, killed.
 */
import { type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, obtainTokens, startHarness } from './support/harness.js';
import { type LogCapture, logCapture } from './support/log-capture.js';

const WARN = 40;
const ERROR = 50;

let redis: RedisServerHandle;
let h: Harness;
let capture: LogCapture;

beforeAll(async () => {
  redis = await startRedisServer();
  capture = logCapture();
  h = await startHarness({ env: { OAUTH_CACHE_STORE: redis.url }, logger: capture.logger });
});
afterAll(async () => {
  await h?.close();
  await redis?.stop();
});

const toolsList = (token: string) =>
  fetch(`${h.server.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });

describe('Redis down', () => {
  it('logs the cause once per reporter (error for the cache, warn for routes), never a secret; /health/live stays 200', async () => {
    const tokens = await obtainTokens(h.server.url, 'ivanov', 'Пароль123');
    const authorizeUrl = `${h.server.url}/authorize?${new URLSearchParams({
      client_id: tokens.client_id,
      redirect_uri: 'http://127.0.0.1:41000/cb',
      response_type: 'code',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    })}`;
    const page = await fetch(authorizeUrl);
    expect(page.status).toBe(200);
    const before = capture.lines.length;

    await redis.kill('SIGKILL');
    for (let i = 0; i < 5; i++) expect((await toolsList(tokens.access_token)).status).toBe(503);
    for (let i = 0; i < 3; i++) {
      const register = await fetch(`${h.server.url}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:41000/cb'] }),
      });
      expect(register.status).toBe(503);
    }
    for (let i = 0; i < 3; i++) expect((await fetch(authorizeUrl)).status).toBe(503);
    expect((await fetch(`${h.server.url}/health`)).status).toBe(503);
    const live = await fetch(`${h.server.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });

    const storeLines = capture.lines.slice(before).filter((line) => line.event === 'store_unavailable');
    const fromCache = storeLines.filter((line) => line.source === 'cache');
    const fromRegister = storeLines.filter((line) => line.path === '/register');
    const fromAuthorize = storeLines.filter((line) => line.path === '/authorize');
    // One line each: the throttle (5 s) holds the repeats back.
    expect([fromCache.length, fromRegister.length, fromAuthorize.length]).toEqual([1, 1, 1]);
    expect(fromCache[0]).toMatchObject({
      level: ERROR,
      error: { name: 'StoreUnavailableError', code: 'store_unavailable' },
    });
    for (const line of [...fromRegister, ...fromAuthorize]) {
      expect(line).toMatchObject({ level: WARN, error: { name: 'StoreUnavailableError' } });
      expect(typeof line.reqId).toBe('string');
    }
    for (const line of storeLines) {
      // The message names the store and the cause the driver gave.
      expect(String(line.msg)).toMatch(/^token store unavailable: redis:\/\/127\.0\.0\.1:\d+/);
      expect(JSON.stringify(line)).toMatch(/ECONNREFUSED|offline|closed|connect|socket/i);
    }
    const text = capture.text();
    for (const secret of [tokens.access_token, tokens.refresh_token, 'Пароль123'])
      expect(text).not.toContain(secret);

    await redis.restart();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await fetch(`${h.server.url}/health`)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
  });
});

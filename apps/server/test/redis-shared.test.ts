/**
 * Two gateway instances behind one public URL sharing a real redis-server: a client registered and
 * logged in on one instance exchanges its code, calls MCP and refreshes on the other. With Redis
 * down, every endpoint answers 503 (JSON or a page), never a 500, and recovers when Redis is back.
 * B runs with an in-process L1, as a scaled-out gateway would.
 */

import { freePort, type RedisServerHandle, startRedisServer } from '@oauth-cache/keyv/testing';
import { type Emulator, startEmulator } from '@oauth-cache/onec-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, type RunningServer, startServer } from '../src/index.js';
import { fixedSecrets, obtainTokens } from './support/harness.js';

let redis: RedisServerHandle;
let emulator: Emulator;
let a: RunningServer;
let b: RunningServer;

beforeAll(async () => {
  redis = await startRedisServer();
  emulator = await startEmulator({ port: 0 });
  const portA = await freePort();
  const shared = {
    ENVIRONMENT: 'test',
    MCP_ONEC_URL: emulator.url,
    MCP_HOST: '127.0.0.1',
    MCP_LOG_LEVEL: 'silent',
    MCP_SHUTDOWN_GRACE_MS: '1000',
    MCP_PUBLIC_URL: `http://127.0.0.1:${portA}`,
    OAUTH_CACHE_STORE: redis.url,
    AUTO_CLEANUP_INTERVAL: '0',
    ...fixedSecrets(),
  };
  a = await startServer(loadServerConfig({ ...shared, MCP_PORT: String(portA) }).config);
  // B keeps an L1: what A revokes must reach the tokens B confirms from memory.
  b = await startServer(loadServerConfig({ ...shared, MCP_PORT: '0', OAUTH_CACHE_L1_MAX: '1000' }).config);
});
afterAll(async () => {
  await a?.close().catch(() => undefined);
  await b?.close().catch(() => undefined);
  await emulator?.close();
  await redis?.stop();
});

const toolsList = (base: string, token: string) =>
  fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });

describe('two instances on one Redis', () => {
  it('share clients, codes and tokens', async () => {
    expect(a.publicUrl).toBe(b.publicUrl);
    const tokens = await obtainTokens(a.url, 'demo', 'demo');
    expect((await toolsList(b.url, tokens.access_token)).status).toBe(200);
    const refreshed = await fetch(`${b.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: tokens.client_id,
        refresh_token: tokens.refresh_token,
      }),
    });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string };
    expect((await toolsList(a.url, next.access_token)).status).toBe(200);
    // Revoked on A, refused on B.
    await fetch(`${a.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: next.access_token, client_id: tokens.client_id }),
    });
    expect((await toolsList(b.url, next.access_token)).status).toBe(401);
  });

  it('a token hot on B (confirmed from its L1 handles) is refused there once revoked on A', async () => {
    const tokens = await obtainTokens(a.url, 'demo', 'demo');
    for (let i = 0; i < 3; i++) expect((await toolsList(b.url, tokens.access_token)).status).toBe(200);
    const revoked = await fetch(`${a.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: tokens.client_id }),
    });
    expect(revoked.status).toBe(200);
    // The delete reaches B's L1 by pub/sub (well under a millisecond here); the bound is its
    // staleness limit (OAUTH_CACHE_L1_MAX_STALE_MS, 1000 by default).
    const started = performance.now();
    let status = (await toolsList(b.url, tokens.access_token)).status;
    while (status === 200 && performance.now() - started < 1000) {
      status = (await toolsList(b.url, tokens.access_token)).status;
    }
    expect(status).toBe(401);
    expect((await toolsList(b.url, tokens.access_token)).status).toBe(401);
  });

  it('answers 503, never 500, while Redis is down, and recovers', async () => {
    const tokens = await obtainTokens(a.url, 'demo', 'demo');
    await redis.kill();
    const mcp = await toolsList(b.url, tokens.access_token);
    expect(mcp.status).toBe(503);
    expect(mcp.headers.get('retry-after')).toBeTruthy();
    const token = await fetch(`${b.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: tokens.client_id,
        refresh_token: tokens.refresh_token,
      }),
    });
    expect(token.status).toBe(503);
    expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const register = await fetch(`${b.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }),
    });
    expect(register.status).toBe(503);
    const page = await fetch(`${b.url}/authorize?client_id=${tokens.client_id}&response_type=code`);
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(`${b.url}/health`)).status).toBe(503);

    await redis.restart();
    // Both instances reconnect on their own schedule: wait for each before using it.
    for (const instance of [a, b]) {
      let healthy = 0;
      for (let i = 0; i < 50 && healthy !== 200; i++) {
        healthy = (await fetch(`${instance.url}/health`)).status;
        if (healthy !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(healthy).toBe(200);
    }
    // A fresh login works again after the outage (Redis ran without persistence here).
    const again = await obtainTokens(a.url, 'demo', 'demo');
    expect((await toolsList(b.url, again.access_token)).status).toBe(200);
  });
});

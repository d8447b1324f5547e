/**
 * Behind reverse proxies (MCP_TRUST_PROXY=true) the per-address login limit counts the address the
 * trusted proxies saw: the entry MCP_TRUSTED_PROXY_HOPS places from the right of X-Forwarded-For.
 * Entries further left are written by the client, so rotating them must not escape the limit.
 */
import { s256Challenge } from '@oauth-cache/authorization-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, loginFormToken, startHarness } from './support/harness.js';
import { rawRequest } from './support/http.js';

const REDIRECT = 'http://127.0.0.1:40000/cb';
const LIMIT = 4;

async function gateway(env: Record<string, string>): Promise<{ h: Harness; clientId: string }> {
  const h = await startHarness({
    env: {
      MCP_TRUST_PROXY: 'true',
      MCP_LOGIN_MAX_FAILURES_PER_IP: String(LIMIT),
      MCP_LOGIN_MAX_FAILURES_PER_USER: '100',
      ...env,
    },
  });
  const reg = await fetch(`${h.server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT] }),
  });
  const { client_id } = (await reg.json()) as { client_id: string };
  return { h, clientId: client_id };
}

/** One wrong password for a fresh user name, through a proxy that sent `forwardedFor`. */
async function guess(h: Harness, clientId: string, user: string, forwardedFor?: string): Promise<number> {
  const request = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: s256Challenge('x'.repeat(43)),
    code_challenge_method: 'S256',
  });
  const form = new URLSearchParams(request);
  form.set('form_token', await loginFormToken(h.server.url, request));
  form.set('username', user);
  form.set('password', 'wrong');
  form.set('action', 'login');
  const response = await rawRequest(`${h.server.url}/authorize`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: form.toString(),
  });
  return response.status;
}

describe('one proxy that appends (MCP_TRUSTED_PROXY_HOPS default 1)', () => {
  let h: Harness;
  let clientId: string;
  beforeAll(async () => {
    ({ h, clientId } = await gateway({}));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('counts the address the proxy saw: spoofed leading entries do not escape the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      statuses.push(await guess(h, clientId, `guess-${i}`, `203.0.113.${i}, 198.51.100.7`));
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429, 429]);
    // The same client without a spoofed entry is the same address.
    expect(await guess(h, clientId, 'guess-x', '198.51.100.7')).toBe(429);
    // Another client behind the same proxy, and a direct connection, are still checked.
    expect(await guess(h, clientId, 'guess-y', '198.51.100.7, 198.51.100.8')).toBe(401);
    expect(await guess(h, clientId, 'guess-z')).toBe(401);
  });
});

describe('two proxies (CDN, then nginx): MCP_TRUSTED_PROXY_HOPS=2', () => {
  let h: Harness;
  let clientId: string;
  beforeAll(async () => {
    ({ h, clientId } = await gateway({ MCP_TRUSTED_PROXY_HOPS: '2' }));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('counts the address the outer proxy saw, not the inner proxy and not the client-written entries', async () => {
    // client-written, what the CDN saw (the client), what nginx saw (the CDN's edge)
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      statuses.push(await guess(h, clientId, `cdn-${i}`, `10.9.9.${i}, 198.51.100.20, 192.0.2.1`));
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429]);
    // Another client arriving through the same CDN edge is a different address.
    expect(await guess(h, clientId, 'cdn-other', '198.51.100.21, 192.0.2.1')).toBe(401);
  });
});

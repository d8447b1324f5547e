/**
 * Caps that cannot be turned against other users (issue 17), through real HTTP: a full token cache
 * answers `/token` with 503 `temporarily_unavailable` + `Retry-After` instead of evicting anyone's
 * tokens, a user's grants beyond MAX_GRANTS_PER_USER end their own oldest grant, and one user's
 * successful logins are limited per window (429).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Harness,
  loginForRedirect,
  obtainTokens,
  startHarness,
  submitLogin,
} from './support/harness.js';

const REDIRECT = 'http://127.0.0.1:41000/cb';
const USERS = [
  { login: 'demo', password: 'demo' },
  { login: 'ivanov', password: 'Пароль123' },
  { login: 'petrov', password: 'petrov-pw' },
];

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Register a client and build an authorization URL; the verifier exchanges the code it yields. */
async function authorization(base: string) {
  const reg = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT] }),
  });
  expect(reg.status).toBe(201);
  const { client_id } = (await reg.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const url = `${base}/authorize?${new URLSearchParams({
    client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`;
  return { clientId: client_id, verifier, url };
}

function token(base: string, params: Record<string, string>) {
  return fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
}

/** `tools/list` through the gateway: 200 for a live access token, 401 for a revoked one. */
async function mcpStatus(base: string, accessToken: string): Promise<number> {
  const response = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('MAX_TOKEN_CACHE_SIZE refuses instead of evicting', () => {
  it('answers /token 503 temporarily_unavailable with Retry-After when full; earlier users keep their tokens', async () => {
    // Room for two logins (an access and a refresh token each).
    h = await startHarness({ users: USERS, env: { MAX_TOKEN_CACHE_SIZE: '4' } });
    const base = h.server.publicUrl;
    const demo = await obtainTokens(base, 'demo', 'demo');
    const ivanov = await obtainTokens(base, 'ivanov', 'Пароль123');

    const petrov = await authorization(base);
    const callback = await loginForRedirect(petrov.url, 'petrov', 'petrov-pw');
    const refused = await token(base, {
      grant_type: 'authorization_code',
      client_id: petrov.clientId,
      code: callback.searchParams.get('code') ?? '',
      code_verifier: petrov.verifier,
      redirect_uri: REDIRECT,
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.headers.get('cache-control')).toBe('no-store');
    const body = (await refused.json()) as { error: string; error_description: string };
    expect(body.error).toBe('temporarily_unavailable');
    expect(body.error_description).toMatch(/retry later/);

    // A refresh needs room too: refused the same way, and the refresh token survives it.
    const refreshParams = {
      grant_type: 'refresh_token',
      client_id: demo.client_id,
      refresh_token: demo.refresh_token,
    };
    const refreshRefused = await token(base, refreshParams);
    expect(refreshRefused.status).toBe(503);
    expect(refreshRefused.headers.get('retry-after')).toBe('60');
    expect(((await refreshRefused.json()) as { error: string }).error).toBe('temporarily_unavailable');

    expect(await mcpStatus(base, demo.access_token)).toBe(200);
    expect(await mcpStatus(base, ivanov.access_token)).toBe(200);

    // Room again once ivanov signs out (RFC 7009 revocation of the refresh token ends the grant).
    const revoked = await fetch(`${base}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ivanov.refresh_token, client_id: ivanov.client_id }),
    });
    expect(revoked.status).toBe(200);
    const refreshed = await token(base, refreshParams);
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string };
    expect(await mcpStatus(base, next.access_token)).toBe(200);
  }, 60_000);
});

describe('MAX_GRANTS_PER_USER', () => {
  it("a user's next login ends their own oldest grant, and only theirs", async () => {
    h = await startHarness({ users: USERS, env: { MAX_GRANTS_PER_USER: '2' } });
    const base = h.server.publicUrl;
    const other = await obtainTokens(base, 'ivanov', 'Пароль123');
    const grants = [];
    for (let i = 0; i < 3; i++) {
      grants.push(await obtainTokens(base, 'demo', 'demo'));
      // Issue times a few ms apart, so "oldest" is unambiguous.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await mcpStatus(base, grants[0]!.access_token)).toBe(401);
    const oldRefresh = await token(base, {
      grant_type: 'refresh_token',
      client_id: grants[0]!.client_id,
      refresh_token: grants[0]!.refresh_token,
    });
    expect(oldRefresh.status).toBe(400);
    expect(((await oldRefresh.json()) as { error: string }).error).toBe('invalid_grant');
    expect(await mcpStatus(base, grants[1]!.access_token)).toBe(200);
    expect(await mcpStatus(base, grants[2]!.access_token)).toBe(200);
    expect(await mcpStatus(base, other.access_token)).toBe(200);
  }, 60_000);
});

describe('MCP_LOGIN_MAX_SUCCESSES_PER_USER', () => {
  it('refuses the (N+1)th successful login of one user in the window with 429 and Retry-After, before the password check', async () => {
    h = await startHarness({ users: USERS, env: { MCP_LOGIN_MAX_SUCCESSES_PER_USER: '3' } });
    const base = h.server.publicUrl;
    const { url } = await authorization(base);
    for (let i = 0; i < 3; i++) {
      const ok = await submitLogin(url, 'demo', 'demo');
      expect(ok.status).toBe(302);
      await ok.arrayBuffer();
    }
    const refused = await submitLogin(url, 'demo', 'demo');
    expect(refused.status).toBe(429);
    const wait = Number(refused.headers.get('retry-after'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(900);
    expect(await refused.text()).toMatch(/signed in too many times/);
    // Judged before the password: a wrong one is refused the same way, not checked against 1C.
    const wrong = await submitLogin(url, 'demo', 'not-the-password');
    expect(wrong.status).toBe(429);
    await wrong.arrayBuffer();
    // Another user is not affected.
    const ivanov = await submitLogin(url, 'ivanov', 'Пароль123');
    expect(ivanov.status).toBe(302);
    await ivanov.arrayBuffer();
  }, 60_000);
});

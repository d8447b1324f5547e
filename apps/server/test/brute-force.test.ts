/**
 * Brute-force protection of the login form: failures per (user name, address) and per address are
 * counted in the shared store; after the limit the form answers 429 with Retry-After without asking
 * 1C; a correct login for another user, or for the same user from another address, is not affected.
 */

import { s256Challenge } from '@oauth-cache/authorization-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formFields, type Harness, startHarness } from './support/harness.js';
import { rawRequest } from './support/http.js';

let h: Harness;
let authorizeUrl: string;
const REDIRECT = 'http://127.0.0.1:40000/cb';

beforeAll(async () => {
  h = await startHarness({
    env: {
      MCP_LOGIN_MAX_FAILURES_PER_USER: '5',
      MCP_LOGIN_MAX_FAILURES_PER_IP: '9',
      MCP_REGISTER_MAX_PER_HOUR: '3',
    },
  });
  const reg = await fetch(`${h.server.publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT] }),
  });
  const { client_id } = (await reg.json()) as { client_id: string };
  authorizeUrl = `${h.server.publicUrl}/authorize?${new URLSearchParams({
    client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: s256Challenge('x'.repeat(43)),
    code_challenge_method: 'S256',
  })}`;
});
afterAll(async () => {
  await h?.close();
});

async function attempt(username: string, password: string, localAddress = '127.0.0.1') {
  const page = await rawRequest(authorizeUrl, { localAddress });
  const fields = formFields(page.body);
  fields.set('username', username);
  fields.set('password', password);
  return rawRequest(`${h.server.publicUrl}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
    localAddress,
  });
}

describe('login brute force', () => {
  it('refuses a user name after repeated wrong passwords, without asking 1C, and leaves other users alone', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await attempt('demo', `wrong-${i}`);
      expect(r.status).toBe(401);
      expect(r.body).toContain('Wrong 1C login or password');
    }
    const healthCallsBefore = h.emulator.calls.filter((c) => c.endpoint === 'health').length;
    const locked = await attempt('demo', 'demo');
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(locked.body).toContain('Too many failed sign-in attempts');
    expect(h.emulator.calls.filter((c) => c.endpoint === 'health').length).toBe(healthCallsBefore);

    const other = await attempt('ivanov', 'Пароль123');
    expect(other.status).toBe(302);
    expect(String(other.headers.location)).toMatch(/^http:\/\/127\.0\.0\.1:40000\/cb\?code=/);
    // The refusal is for this user name from this address: the user herself, elsewhere, signs in.
    const owner = await attempt('demo', 'demo', '127.0.0.3');
    expect(owner.status).toBe(302);
  });

  it('refuses an IP after repeated failures across user names; another IP still logs in', async () => {
    // 5 failures from the first test already count for 127.0.0.1 (limit 9).
    let status = 0;
    let tries = 0;
    for (; tries < 10 && status !== 429; tries++) {
      status = (await attempt(`user${tries}`, 'nope')).status;
    }
    expect(status).toBe(429);
    expect(tries).toBe(5);
    const sameIp = await attempt('ivanov', 'Пароль123');
    expect(sameIp.status).toBe(429);
    const otherIp = await attempt('ivanov', 'Пароль123', '127.0.0.2');
    expect(otherIp.status).toBe(302);
  });
});

describe('registration flood', () => {
  it('limits dynamic registrations per IP with 429 and Retry-After', async () => {
    const register = () =>
      fetch(`${h.server.publicUrl}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT] }),
      });
    // One registration happened in beforeAll; the limit is 3 per hour.
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(201);
    const refused = await register();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: 'invalid_request' });
  });
});

/**
 * The login slowdown counts settled failures only: colleagues behind one address signing in at
 * the same moment with the right passwords are not delayed, wrong passwords from one address still
 * are (the delay is on the login lines as `delayMs`, so this needs no timing asserts).
 */
import { s256Challenge } from '@oauth-cache/authorization-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, loginFormToken, startHarness } from './support/harness.js';
import { rawRequest } from './support/http.js';
import { type LogCapture, logCapture } from './support/log-capture.js';

const REDIRECT = 'http://127.0.0.1:40000/cb';
const USERS = Array.from({ length: 8 }, (_, i) => ({ login: `user-${i}`, password: `pw-${i}` }));

let h: Harness;
let clientId: string;
let capture: LogCapture;

beforeAll(async () => {
  capture = logCapture();
  h = await startHarness({
    users: USERS,
    logger: capture.logger,
    env: { MCP_LOGIN_MAX_FAILURES_PER_IP: '20', MCP_LOGIN_MAX_FAILURES_PER_USER: '100' },
  });
  const reg = await fetch(`${h.server.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT] }),
  });
  clientId = ((await reg.json()) as { client_id: string }).client_id;
});
afterAll(async () => {
  await h?.close();
});

async function login(username: string, password: string, localAddress: string): Promise<number> {
  const request = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: s256Challenge('x'.repeat(43)),
    code_challenge_method: 'S256',
  });
  const form = new URLSearchParams(request);
  form.set('form_token', await loginFormToken(h.server.url, request));
  form.set('username', username);
  form.set('password', password);
  form.set('action', 'login');
  return rawRequest(`${h.server.url}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    localAddress,
  }).then((r) => r.status);
}

/** `delayMs` of the login lines of `event` logged since line `from` (0 when not slowed). */
function delays(event: string, from: number): number[] {
  return capture.lines
    .slice(from)
    .filter((line) => line.event === event)
    .map((line) => (typeof line.delayMs === 'number' ? line.delayMs : 0));
}

describe('login slowdown', () => {
  it('concurrent correct logins from one address are not slowed', async () => {
    const from = capture.lines.length;
    const statuses = await Promise.all(USERS.map((u) => login(u.login, u.password, '127.0.0.5')));
    expect(statuses).toEqual(USERS.map(() => 302));
    expect(delays('login_ok', from)).toEqual(USERS.map(() => 0));
  });

  it('wrong passwords from one address are slowed once they have failed, in parallel or one by one', async () => {
    const sequential = capture.lines.length;
    for (let i = 0; i < 4; i++) expect(await login(`user-${i}`, 'wrong', '127.0.0.6')).toBe(401);
    // Default slowAfter 2, 400 ms per failure beyond it.
    expect(delays('login_failed', sequential)).toEqual([0, 0, 400, 800]);

    const parallel = capture.lines.length;
    const statuses = await Promise.all(USERS.slice(0, 4).map((u) => login(u.login, 'wrong', '127.0.0.7')));
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect(await login('user-5', 'wrong', '127.0.0.7')).toBe(401);
    const all = delays('login_failed', parallel);
    // The four settled failures slow the next attempt from that address: (4 - 2 + 1) x 400 ms.
    expect(all.at(-1)).toBe(1200);
    // A correct password from that address is slowed too (the address has failed), and succeeds.
    const ok = capture.lines.length;
    expect(await login('user-6', 'pw-6', '127.0.0.7')).toBe(302);
    expect(delays('login_ok', ok)).toEqual([1600]);
  });
});

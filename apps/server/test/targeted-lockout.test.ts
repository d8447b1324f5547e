/**
 * Limits that cannot lock out the innocent (real HTTP, behind a trusted proxy so X-Forwarded-For
 * varies the client address): wrong passwords for a user name refuse the address they come from,
 * never the user signing in from elsewhere; failures from everywhere only slow the name down; the
 * per-address limit counts an IPv6 /64 as one address; every login line carries the address.
 */
import { s256Challenge } from '@oauth-cache/authorization-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formFields, type Harness, startHarness } from './support/harness.js';
import { rawRequest } from './support/http.js';
import { type LogCapture, logCapture } from './support/log-capture.js';

const REDIRECT = 'http://127.0.0.1:40000/cb';

let h: Harness;
let clientId: string;
let capture: LogCapture;

beforeAll(async () => {
  capture = logCapture();
  // Default limits: 5 failures per (user name, address), 20 per address, slowdown after 2.
  h = await startHarness({ logger: capture.logger, env: { MCP_TRUST_PROXY: 'true' } });
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

/** One login through the proxy for the client address `from`, as a browser does: open the form, post it. */
async function login(username: string, password: string, from: string) {
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: s256Challenge('x'.repeat(43)),
    code_challenge_method: 'S256',
  });
  const page = await rawRequest(`${h.server.url}/authorize?${query}`, {
    headers: { 'x-forwarded-for': from },
  });
  expect(page.status).toBe(200);
  const form = formFields(page.body);
  form.set('username', username);
  form.set('password', password);
  form.set('action', 'login');
  const response = await rawRequest(`${h.server.url}/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
    body: form.toString(),
  });
  return { status: response.status, location: String(response.headers.location ?? '') };
}

function linesOf(event: string, from: number): Array<Record<string, unknown>> {
  return capture.lines.slice(from).filter((line) => line.event === event);
}

describe('a targeted user name', () => {
  it('50 wrong passwords from one attacker address refuse that address only: the user signs in from hers', async () => {
    const from = capture.lines.length;
    const statuses: number[] = [];
    for (let i = 0; i < 50; i++) statuses.push((await login('demo', `guess-${i}`, '203.0.113.66')).status);
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(45).fill(429)]);
    // Even the right password is refused from the attacker's address.
    expect((await login('demo', 'demo', '203.0.113.66')).status).toBe(429);

    const owner = await login('demo', 'demo', '192.0.2.10');
    expect(owner.status).toBe(302);
    expect(owner.location).toMatch(/^http:\/\/127\.0\.0\.1:40000\/cb\?code=/);

    // Every line names the address it is about.
    expect(linesOf('login_failed', from).map((l) => l.clientAddress)).toEqual(Array(5).fill('203.0.113.66'));
    const limited = linesOf('login_rate_limited', from);
    expect(limited).toHaveLength(46);
    expect(limited.every((l) => l.clientAddress === '203.0.113.66' && l.limit === 'user_address')).toBe(true);
    expect(linesOf('login_ok', from).map((l) => l.clientAddress)).toEqual(['192.0.2.10']);
  });

  it('50 wrong passwords spread over 10 addresses only slow the user down; she still signs in', async () => {
    const from = capture.lines.length;
    const addresses = Array.from({ length: 10 }, (_, i) => `198.51.100.${i + 1}`);
    const statuses: number[] = [];
    // Five rounds, the ten addresses in parallel (the slowdown would make 50 in a row take minutes).
    for (let round = 0; round < 5; round++) {
      const batch = await Promise.all(addresses.map((a, i) => login('ivanov', `round-${round}-${i}`, a)));
      statuses.push(...batch.map((r) => r.status));
    }
    expect(statuses).toEqual(Array(50).fill(401));
    // A sixth from any of them is refused: that address has used its five.
    expect((await login('ivanov', 'Пароль123', '198.51.100.3')).status).toBe(429);

    const owner = await login('ivanov', 'Пароль123', '192.0.2.20');
    expect(owner.status).toBe(302);
    // Slowed (the failures of the user name from everywhere), by at most the longest delay.
    const ok = linesOf('login_ok', from);
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ clientAddress: '192.0.2.20', delayMs: 2000 });
    const failed = linesOf('login_failed', from);
    expect(failed).toHaveLength(50);
    expect(new Set(failed.map((l) => l.clientAddress))).toEqual(new Set(addresses));
  });
});

describe('one address trying many user names', () => {
  it('is limited per address, and an IPv6 /64 counts as one address', async () => {
    // 25 guesses in parallel from 25 addresses of one /64, each for another user name: parallel
    // attempts racing for the last places may all be refused, never more than 20 let through.
    const burst = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        login(`v6-user-${i}`, 'wrong', `2001:db8:7:7::${(i + 1).toString(16)}`),
      ),
    );
    let failures = burst.filter((r) => r.status === 401).length;
    expect(failures).toBeLessThanOrEqual(20);
    expect(burst.filter((r) => r.status !== 401).every((r) => r.status === 429)).toBe(true);
    // One by one from further addresses of that /64: exactly 20 failures in all, then refused.
    let status = 401;
    for (let i = 0; status === 401 && i < 25; i++) {
      status = (await login(`v6-late-${i}`, 'wrong', `2001:db8:7:7:1::${(i + 1).toString(16)}`)).status;
      if (status === 401) failures++;
    }
    expect(status).toBe(429);
    expect(failures).toBe(20);
    // Anyone else in that /64 is refused too, even with the right password ...
    expect((await login('demo', 'demo', '2001:db8:7:7:aaaa:bbbb:cccc:dddd')).status).toBe(429);
    // ... the neighbouring /64 is another address.
    expect((await login('demo', 'demo', '2001:db8:7:8::1')).status).toBe(302);
  });
});

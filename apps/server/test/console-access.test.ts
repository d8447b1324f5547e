/**
 * The operator console's protection, over real HTTP against the real server (SQLite store, 1C
 * emulator): nothing without the status token, no cross-site or CSRF-less post, 404 when no status
 * token is configured, clear 4xx pages for bad input, and no secret on any page.
 */
import { createTokenCache } from '@oauth-cache/core';
import { createStore } from '@oauth-cache/keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../src/index.js';
import { formFields, type Harness, obtainTokens, startHarness, submitLogin } from './support/harness.js';
import { rawRequest } from './support/http.js';

const STATUS_TOKEN = 'console-status-token-0123456789abcdef';
const IVANOV_PASSWORD = 'Пароль123';

let h: Harness;
let off: Harness;
let base: string;
let demo: Awaited<ReturnType<typeof obtainTokens>>;
let demo2: Awaited<ReturnType<typeof obtainTokens>>;
let ivanov: Awaited<ReturnType<typeof obtainTokens>>;
/** Every console body fetched, for the secrets check at the end. */
const bodies: string[] = [];
/** Tokens issued during the tests, besides the three of `beforeAll`. */
const issued: string[] = [];

beforeAll(async () => {
  h = await startHarness({ env: { OAUTH_CACHE_STATUS_TOKEN: STATUS_TOKEN } });
  off = await startHarness();
  base = h.server.publicUrl;
  demo = await obtainTokens(base, 'demo', 'demo');
  demo2 = await obtainTokens(base, 'demo', 'demo');
  ivanov = await obtainTokens(base, 'ivanov', IVANOV_PASSWORD);
});
afterAll(async () => {
  await h?.close();
  await off?.close();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
  bodies.push(await response.clone().text());
  return response;
}

async function post(path: string, form: URLSearchParams, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form,
    redirect: 'manual',
  });
  bodies.push(await response.clone().text());
  return response;
}

async function signIn(token = STATUS_TOKEN): Promise<{ cookie: string; setCookie: string; status: number }> {
  const response = await post('/console/login', new URLSearchParams({ token }));
  const setCookie = response.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0] ?? '', setCookie, status: response.status };
}

const bearer = { authorization: `Bearer ${STATUS_TOKEN}` };

/** The hidden fields of the revoke form in `html` (the page's sign-out form carries a CSRF field too). */
function revokeForm(html: string): URLSearchParams {
  const form = /<form method="post" action="[^"]*\/revoke">([\s\S]*?)<\/form>/.exec(html)?.[1];
  if (!form) throw new Error('no revoke form on the page');
  return formFields(form);
}

async function userHash(login: string): Promise<string> {
  const response = await get(`/console/find?login=${encodeURIComponent(login)}`, bearer);
  expect(response.status).toBe(303);
  return decodeURIComponent((response.headers.get('location') ?? '').split('/').pop() ?? '');
}

function mcp(token: string): Promise<Response> {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });
}

describe('console access', () => {
  it('redirects every GET without a credential to the sign-in page and refuses every POST', async () => {
    const hash = await userHash('demo');
    const gets = [
      '/console',
      '/console/?cursor=x',
      '/console/find?login=demo',
      `/console/users/${hash}`,
      `/console/users/${hash}/revoke?all=1`,
      '/console/events',
      '/console/stats',
      '/console/no-such-page',
    ];
    for (const path of gets) {
      const response = await get(path);
      expect(response.status, path).toBe(303);
      expect(response.headers.get('location'), path).toBe('/console/login');
      // A forged or expired cookie is no credential either.
      const forged = await get(path, { cookie: 'oc_console=AAAAAAAAAAAAAAAAAAAAAA.9999999999999.x' });
      expect(forged.status, path).toBe(303);
    }
    const posts = ['/console/logout', `/console/users/${hash}/revoke`, '/console/users/x/revoke'];
    for (const path of posts) {
      const response = await post(path, new URLSearchParams({ all: '1', csrf: 'x' }));
      expect(response.status, path).toBe(403);
      expect(response.headers.get('content-type')).toContain('text/html');
      // The bearer credential is for scripted GETs only.
      expect((await post(path, new URLSearchParams({ all: '1' }), bearer)).status, path).toBe(403);
    }
    expect((await mcp(demo.access_token)).status).toBe(200);
  });

  it('refuses a wrong status token, on the sign-in form and as a bearer', async () => {
    const wrong = await signIn('not-the-status-token-at-all');
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBe('');
    const response = await get('/console', { authorization: 'Bearer not-the-status-token-at-all' });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('Connected users');
  });

  it('signs in with the status token: a signed, HttpOnly, SameSite=Strict cookie on /console that is not the token', async () => {
    const { setCookie, status } = await signIn();
    expect(status).toBe(303);
    expect(setCookie).toMatch(/^oc_console=[A-Za-z0-9_-]{22}\.\d{13}\.[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/console');
    expect(setCookie).toMatch(/Max-Age=3600/);
    expect(setCookie).not.toContain('Secure'); // the public URL is http here
    expect(setCookie).not.toContain(STATUS_TOKEN);
  });

  it('serves every page with a cookie or a bearer, uncached and unframeable', async () => {
    const { cookie } = await signIn();
    const hash = await userHash('demo');
    for (const headers of [{ cookie }, bearer]) {
      for (const path of [
        '/console',
        `/console/users/${hash}`,
        `/console/users/${hash}/revoke?all=1`,
        '/console/events',
        '/console/stats',
      ]) {
        const response = await get(path, headers);
        expect(response.status, path).toBe(200);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(response.headers.get('x-frame-options')).toBe('DENY');
        expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      }
    }
    const list = await (await get('/console', { cookie })).text();
    expect(list).toContain('<span id="total">2</span>');
    expect(list).toContain('>demo</a>');
    expect(list).toContain('>ivanov</a>');
    const user = await (await get(`/console/users/${hash}`, { cookie })).text();
    expect(user.match(/data-grant="/g)?.length).toBe(2);
    expect(user).toContain('127.0.0.1:41000'); // the redirect host of the registered client
  });

  it('refuses cross-site posts even with the cookie and a valid CSRF token', async () => {
    const { cookie } = await signIn();
    const hash = await userHash('ivanov');
    const confirm = await get(`/console/users/${hash}/revoke?all=1`, { cookie });
    const fields = revokeForm(await confirm.text());
    expect(fields.get('csrf')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const crossSite: Array<Record<string, string>> = [
      { cookie, origin: 'http://evil.example' },
      { cookie, origin: 'null' },
      { cookie, 'sec-fetch-site': 'cross-site' },
      { cookie, 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of crossSite) {
      const response = await post(`/console/users/${hash}/revoke`, fields, headers);
      expect(response.status, JSON.stringify(headers)).toBe(403);
    }
    // A cross-site sign-in post (login CSRF) is refused too.
    const crossLogin = await post('/console/login', new URLSearchParams({ token: STATUS_TOKEN }), {
      origin: 'http://evil.example',
    });
    expect(crossLogin.status).toBe(403);
    expect(crossLogin.headers.get('set-cookie')).toBeNull();
    expect((await mcp(ivanov.access_token)).status).toBe(200);
  });

  it('refuses posts without the CSRF token, with a wrong one, or with another session’s', async () => {
    const { cookie } = await signIn();
    const other = await signIn();
    const hash = await userHash('ivanov');
    const otherFields = revokeForm(
      await (await get(`/console/users/${hash}/revoke?all=1`, { cookie: other.cookie })).text(),
    );
    const bearerFields = revokeForm(await (await get(`/console/users/${hash}/revoke?all=1`, bearer)).text());
    for (const form of [
      new URLSearchParams({ all: '1' }),
      new URLSearchParams({ all: '1', csrf: 'A'.repeat(43) }),
      new URLSearchParams({ all: '1', csrf: '' }),
      otherFields,
      bearerFields,
    ]) {
      const response = await post(`/console/users/${hash}/revoke`, form, { cookie, origin: base });
      expect(response.status).toBe(403);
    }
    expect((await mcp(ivanov.access_token)).status).toBe(200);
  });

  it('answers bad input with 400/404 pages, never a 500', async () => {
    const { cookie } = await signIn();
    const hash = await userHash('demo');
    const cases: Array<[string, number]> = [
      ['/console?cursor=not-a-cursor', 400],
      [`/console?cursor=${'x'.repeat(2000)}`, 400],
      [`/console/users/${'A'.repeat(43)}`, 404],
      ['/console/users/%3Cscript%3E', 400],
      ['/console/find?login=', 400],
      ['/console/find?login=nobody-here', 404],
      [`/console/users/${hash}/revoke`, 400],
      [`/console/users/${hash}/revoke?grant=no-such-grant`, 404],
      [`/console/users/${hash}/revoke?session=${'B'.repeat(43)}`, 404],
      ['/console/no-such-page', 404],
    ];
    for (const [path, status] of cases) {
      const response = await get(path, { cookie });
      expect(response.status, path).toBe(status);
      expect(response.headers.get('content-type'), path).toContain('text/html');
    }
    const csrf = revokeForm(await (await get(`/console/users/${hash}/revoke?all=1`, { cookie })).text()).get(
      'csrf',
    )!;
    const posts: Array<[string, URLSearchParams, number]> = [
      [`/console/users/${hash}/revoke`, new URLSearchParams({ csrf }), 400],
      [`/console/users/${hash}/revoke`, new URLSearchParams({ csrf, all: '1', grant: 'x' }), 400],
      [`/console/users/${'A'.repeat(43)}/revoke`, new URLSearchParams({ csrf, all: '1' }), 404],
    ];
    for (const [path, form, status] of posts) {
      expect((await post(path, form, { cookie })).status, path).toBe(status);
    }
    const json = await fetch(`${base}/console/users/${hash}/revoke`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(400);
  });

  it('revokes one grant through the confirmation page, logs it, and only that grant stops working', async () => {
    const { cookie } = await signIn();
    const hash = await userHash('demo');
    const user = await (await get(`/console/users/${hash}`, { cookie })).text();
    const link = /href="([^"]*\/revoke\?grant=[^"]*)"/.exec(user)?.[1]?.replace(/&amp;/g, '&');
    expect(link).toBeDefined();
    const confirm = await get(link!, { cookie });
    const fields = revokeForm(await confirm.text());
    const revoked = await post(`/console/users/${hash}/revoke`, fields, { cookie, origin: base });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toBe(`/console/users/${hash}?notice=grant-revoked`);
    const statuses = [(await mcp(demo.access_token)).status, (await mcp(demo2.access_token)).status].sort();
    expect(statuses).toEqual([200, 401]);
    const after = await (await get(`/console/users/${hash}?notice=grant-revoked`, { cookie })).text();
    expect(after).toContain('The grant was revoked');
    expect(after.match(/data-grant="/g)?.length).toBe(1);
    const events = await (await get('/console/events?type=operator_revoked', { cookie })).text();
    expect(events).toContain('operator_revoked');
    expect(events).toContain('grant; by console');
  });

  it('revokes a session through the confirmation page', async () => {
    // The gateway's OAuth flow opens no cache session: open one for demo through a second cache on
    // the same SQLite file and secrets, as another process sharing the store would.
    const { config } = loadServerConfig(h.env);
    const other = createTokenCache({
      config: config.cache,
      store: await createStore(config.storeUrl, { prefix: config.cache.prefix }),
    });
    let sessionId: string;
    try {
      sessionId = (await other.createSession('demo')).id;
    } finally {
      await other.close();
    }
    const { cookie } = await signIn();
    const hash = await userHash('demo');
    const user = await (await get(`/console/users/${hash}`, { cookie })).text();
    expect(user).not.toContain(sessionId); // sessions are shown by a digest, never their id
    const link = /href="([^"]*\/revoke\?session=[^"]*)"/.exec(user)?.[1];
    expect(link).toBeDefined();
    const fields = revokeForm(await (await get(link!, { cookie })).text());
    const revoked = await post(`/console/users/${hash}/revoke`, fields, { cookie, origin: base });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toBe(`/console/users/${hash}?notice=session-revoked`);
    const after = await (await get(`/console/users/${hash}`, { cookie })).text();
    expect(after).not.toContain('?session=');
    issued.push(sessionId);
  });

  it('revokes every grant of a user, then lists the users with a notice', async () => {
    const { cookie } = await signIn();
    const extra = await obtainTokens(base, 'ivanov', IVANOV_PASSWORD);
    const hash = await userHash('ivanov');
    const fields = revokeForm(await (await get(`/console/users/${hash}/revoke?all=1`, { cookie })).text());
    const revoked = await post(`/console/users/${hash}/revoke`, fields, { cookie, origin: base });
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get('location')).toBe('/console?notice=user-revoked');
    expect((await mcp(extra.access_token)).status).toBe(401);
    expect((await mcp(ivanov.access_token)).status).toBe(401);
    expect((await mcp(demo.access_token)).status + (await mcp(demo2.access_token)).status).toBe(601);
    const list = await (await get('/console?notice=user-revoked', { cookie })).text();
    expect(list).toContain('Every grant of this user was revoked.');
    expect(list).not.toContain('>ivanov</a>');
    expect((await get(`/console/users/${hash}`, { cookie })).status).toBe(404);
    issued.push(extra.access_token, extra.refresh_token);
  });

  it('shows failed logins with their address on the events page, filtered by type', async () => {
    const { cookie } = await signIn();
    // A wrong 1C password on the real login form, and a DNS-rebinding-style request.
    const redirect = 'http://127.0.0.1:41000/cb';
    const registration = await fetch(`${base}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [redirect] }),
    });
    const { client_id } = (await registration.json()) as { client_id: string };
    const authorize = `${base}/authorize?${new URLSearchParams({
      client_id,
      redirect_uri: redirect,
      response_type: 'code',
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
    })}`;
    expect((await submitLogin(authorize, 'ivanov', 'not-the-password')).status).toBe(401);
    expect(
      (await rawRequest(`${base}/mcp`, { method: 'POST', headers: { host: 'evil.example' } })).status,
    ).toBe(403);
    const failed = await (
      await get('/console/events?type=login_failed&type=request_origin_refused', { cookie })
    ).text();
    expect(failed).toMatch(
      /<code>login_failed<\/code><\/td>\n<td><\/td>\n<td>[A-Za-z0-9_-]+<\/td>\n<td>(::ffff:)?127\.0\.0\.1<\/td>/,
    );
    expect(failed).toContain('<code>request_origin_refused</code>');
    expect(failed).toContain('Invalid Host header: evil.example');
    expect(failed).not.toContain('not-the-password');
    await fetch(`${base}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=wrong-wrong-wrong',
    });
    const page = await (await get('/console/events?type=console_sign_in_failed', { cookie })).text();
    expect(page).toContain('console_sign_in_failed');
    expect(page).toMatch(/<td>(::ffff:)?127\.0\.0\.1<\/td>/);
    expect(page).not.toContain('<code>operator_revoked</code>');
  });

  it('puts no token, token id, status token or 1C password on any page', async () => {
    const { cookie } = await signIn();
    for (const path of ['/console', '/console/events', '/console/stats']) await get(path, { cookie });
    // (ivanov's page was fetched before the previous test revoked him)
    await get(`/console/users/${await userHash('demo')}`, { cookie });
    const all = bodies.join('\n');
    expect(bodies.length).toBeGreaterThan(50);
    for (const secret of [
      demo.access_token,
      demo.refresh_token,
      demo2.access_token,
      demo2.refresh_token,
      ivanov.access_token,
      ivanov.refresh_token,
      ...issued,
      IVANOV_PASSWORD,
      STATUS_TOKEN,
    ]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(0, 12));
    }
  });

  it('locks the sign-in form of an address after 10 failures', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 11; i += 1)
      last = await post('/console/login', new URLSearchParams({ token: `wrong-${i}` }));
    expect(last?.status).toBe(429);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Even the right token waits now: guessing is what the limit stops.
    expect((await signIn()).status).toBe(429);
  });
});

describe('console behind https', () => {
  it('marks the session cookie Secure when the public URL is https', async () => {
    const tls = await startHarness({
      env: { OAUTH_CACHE_STATUS_TOKEN: STATUS_TOKEN, MCP_PUBLIC_URL: 'https://mcp.example.test' },
    });
    try {
      const response = await fetch(`${tls.server.url}/console/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: STATUS_TOKEN }),
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('set-cookie')).toMatch(/; Secure$/);
    } finally {
      await tls.close();
    }
  });
});

describe('console without a status token', () => {
  it('answers 404 on every console route', async () => {
    for (const path of [
      '/console',
      '/console/login',
      '/console/events',
      '/console/stats',
      '/console/users/x',
    ]) {
      const response = await fetch(`${off.server.publicUrl}${path}`, { redirect: 'manual' });
      expect(response.status, path).toBe(404);
    }
    const login = await fetch(`${off.server.publicUrl}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=anything-at-all-123456',
    });
    expect(login.status).toBe(404);
  });
});

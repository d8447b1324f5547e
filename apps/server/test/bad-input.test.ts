/**
 * Bad input on every endpoint: missing, duplicated, oversized and malformed parameters, bodies and
 * headers must get the right 4xx with an RFC-shaped error, never a 5xx, and never a redirect to an
 * unregistered URI. Random inputs come from fast-check with bounded runs; counts are printed.
 */
import { s256Challenge } from '@oauth-cache/authorization-server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './support/harness.js';
import { rawRequest } from './support/http.js';

const REDIRECTS = ['http://127.0.0.1:40000/cb', 'https://app.example/cb'];
let h: Harness;
let base: string;
let clientId: string;

beforeAll(async () => {
  // High login limits: this file is about input handling, not brute force.
  h = await startHarness({
    env: { MCP_LOGIN_MAX_FAILURES_PER_USER: '1000', MCP_LOGIN_MAX_FAILURES_PER_IP: '100000' },
  });
  base = h.server.publicUrl;
  const reg = await fetch(`${base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: REDIRECTS, client_name: 'fuzz' }),
  });
  clientId = ((await reg.json()) as { client_id: string }).client_id;
});
afterAll(async () => {
  await h?.close();
});

const RUNS = 120;
/** RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ) (no `"`, no `\`). */
const RFC6749_DESCRIPTION = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

async function expectOAuthError(
  response: Response,
  status: number | number[],
  error?: string,
): Promise<Record<string, unknown>> {
  const statuses = Array.isArray(status) ? status : [status];
  expect(statuses).toContain(response.status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as Record<string, unknown>;
  expect(typeof body.error).toBe('string');
  if (error) expect(body.error).toBe(error);
  if (body.error_description !== undefined) expect(body.error_description).toMatch(RFC6749_DESCRIPTION);
  return body;
}

function form(
  url: string,
  body: string | URLSearchParams,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof body === 'string' ? body : body.toString(),
    redirect: 'manual',
  });
}

function assertRedirectTarget(location: string | null): void {
  if (location === null) return;
  const target = new URL(location, base);
  const bare = `${target.origin}${target.pathname}`;
  const ok =
    REDIRECTS.includes(bare) ||
    (target.hostname === '127.0.0.1' && target.pathname === '/cb' && target.protocol === 'http:');
  expect(ok, `redirect to ${bare}`).toBe(true);
}

const paramName = fc.constantFrom(
  'grant_type',
  'code',
  'redirect_uri',
  'code_verifier',
  'client_id',
  'refresh_token',
  'scope',
  'resource',
  'client_secret',
  'token',
  'token_type_hint',
  'response_type',
  'state',
  'code_challenge',
  'code_challenge_method',
  'username',
  'password',
  'action',
  'x',
);
const paramValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    'authorization_code',
    'refresh_token',
    'password',
    'S256',
    'plain',
    'code',
    'token',
    'demo',
    '',
    '%',
    '%%zz',
  ),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ minLength: 4097, maxLength: 5000 }),
);
const params = fc.array(fc.tuple(paramName, paramValue), { maxLength: 12 });

describe('POST /token', () => {
  it('answers RFC 6749 errors for missing, duplicated and malformed parameters', async () => {
    const url = `${base}/token`;
    await expectOAuthError(await form(url, ''), 400, 'invalid_request');
    await expectOAuthError(
      await form(url, 'grant_type=password&username=demo&password=demo'),
      400,
      'unsupported_grant_type',
    );
    await expectOAuthError(
      await form(url, 'grant_type=authorization_code&grant_type=refresh_token'),
      400,
      'invalid_request',
    );
    await expectOAuthError(
      await form(url, `grant_type=authorization_code&client_id=${clientId}&code=abc`),
      400,
      'invalid_request',
    );
    await expectOAuthError(
      await form(url, 'grant_type=authorization_code&client_id=nope'),
      401,
      'invalid_client',
    );
    await expectOAuthError(await form(url, '%zz=%%&grant_type=%E0%A4%A'), 400);
    const wrongType = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"authorization_code"}',
    });
    await expectOAuthError(wrongType, 400, 'invalid_request');
    const none = await fetch(url, { method: 'POST' });
    await expectOAuthError(none, 400, 'invalid_request');
    const big = await form(url, `grant_type=refresh_token&refresh_token=${'a'.repeat(20_000)}`);
    await expectOAuthError(big, 413, 'invalid_request');
    const gzip = await form(url, 'grant_type=x', { 'content-encoding': 'gzip' });
    await expectOAuthError(gzip, 415, 'invalid_request');
    for (const response of [wrongType, big]) expect(response.headers.get('cache-control')).toBe('no-store');
    expect((await fetch(url)).status).toBe(405);
  });

  it('property: random forms never get a 5xx', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(params, async (pairs) => {
        tried += 1;
        const response = await form(`${base}/token`, new URLSearchParams(pairs));
        expect(response.status).toBeGreaterThanOrEqual(400);
        await expectOAuthError(response, [400, 401, 413]);
        expect(response.headers.get('pragma')).toBe('no-cache');
      }),
      { numRuns: RUNS },
    );
    console.log(`POST /token: ${tried} random forms tried`);
  });
});

describe('POST /register', () => {
  it('answers RFC 7591 errors', async () => {
    const url = `${base}/register`;
    const post = (body: string, type = 'application/json') =>
      fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    await expectOAuthError(await post('{'), 400, 'invalid_client_metadata');
    await expectOAuthError(await post('[]'), 400, 'invalid_client_metadata');
    await expectOAuthError(await post('{}'), 400, 'invalid_redirect_uri');
    await expectOAuthError(
      await post('{"redirect_uris":["http://evil.example/cb"]}'),
      400,
      'invalid_redirect_uri',
    );
    // A secret-based method is answered with a public registration (RFC 7591 §3.2.1); a value
    // that is not a method at all is still refused.
    const secretBased = await post(
      '{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}',
    );
    expect(secretBased.status).toBe(201);
    expect(await secretBased.json()).toMatchObject({ token_endpoint_auth_method: 'none' });
    await expectOAuthError(
      await post('{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"secret"}'),
      400,
      'invalid_client_metadata',
    );
    // Echoed client input (non-ASCII, quotes, controls, backslashes) stays inside RFC 6749 §5.2's set.
    const echoed = await expectOAuthError(
      await post(JSON.stringify({ redirect_uris: ['https://a.example/cb'], grant_types: ['é"x\u0001'] })),
      400,
      'invalid_client_metadata',
    );
    expect(echoed.error_description).toBe(
      "grant_types: '?'x?' is not supported (authorization_code, refresh_token)",
    );
    await expectOAuthError(
      await post(JSON.stringify({ redirect_uris: ['https://a.example/cb'], scope: 'mcp Ω\\' })),
      400,
      'invalid_client_metadata',
    );
    await expectOAuthError(
      await post('redirect_uris=x', 'application/x-www-form-urlencoded'),
      400,
      'invalid_client_metadata',
    );
    await expectOAuthError(
      await post(JSON.stringify({ redirect_uris: ['https://a.example/cb'], pad: 'x'.repeat(20_000) })),
      413,
    );
  });

  it('property: random JSON documents never get a 5xx', async () => {
    let tried = 0;
    const doc = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          redirect_uris: fc.oneof(
            fc.array(fc.oneof(fc.webUrl(), fc.string(), fc.constant('http://127.0.0.1/cb')), {
              maxLength: 12,
            }),
            fc.jsonValue(),
          ),
          client_name: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
          grant_types: fc.oneof(
            fc.array(fc.constantFrom('authorization_code', 'refresh_token', 'password', 'implicit')),
            fc.jsonValue(),
          ),
          response_types: fc.oneof(fc.array(fc.constantFrom('code', 'token')), fc.jsonValue()),
          token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'private_key_jwt'),
          scope: fc.oneof(fc.constantFrom('mcp', 'admin', 'mcp admin', ''), fc.jsonValue()),
          client_uri: fc.oneof(fc.webUrl(), fc.string()),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(doc, async (value) => {
        tried += 1;
        const response = await fetch(`${base}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(value) ?? 'null',
        });
        if (response.status === 201) {
          const body = (await response.json()) as {
            token_endpoint_auth_method: string;
            redirect_uris: string[];
          };
          expect(body.token_endpoint_auth_method).toBe('none');
          for (const uri of body.redirect_uris)
            expect(
              uri.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(uri),
            ).toBe(true);
        } else {
          await expectOAuthError(response, [400, 413, 429]);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(`POST /register: ${tried} random documents tried`);
  });
});

describe('GET|POST /authorize', () => {
  const valid = () =>
    new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECTS[0]!,
      response_type: 'code',
      code_challenge: s256Challenge('y'.repeat(43)),
      code_challenge_method: 'S256',
      state: 's',
    });

  it('shows an error page, never a redirect, for an unknown client or unregistered redirect URI', async () => {
    const cases: URLSearchParams[] = [];
    const unknown = valid();
    unknown.set('client_id', 'unknown-client-unknown-client');
    cases.push(unknown);
    const evil = valid();
    evil.set('redirect_uri', 'https://evil.example/cb');
    cases.push(evil);
    const dup = valid();
    dup.append('redirect_uri', 'https://evil.example/cb');
    cases.push(dup);
    const missing = valid();
    missing.delete('client_id');
    cases.push(missing);
    for (const q of cases) {
      const response = await fetch(`${base}/authorize?${q}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    }
  });

  it('redirects request errors to the registered URI with an RFC error', async () => {
    const q = valid();
    q.set('code_challenge_method', 'plain');
    const response = await fetch(`${base}/authorize?${q}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECTS[0]);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('s');
  });

  it('handles bad login forms without 5xx', async () => {
    const post = (body: string, type = 'application/x-www-form-urlencoded') =>
      fetch(`${base}/authorize`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
        redirect: 'manual',
      });
    const withUser = (extra: string) => `${valid()}&${extra}`;
    expect((await post(withUser(''))).status).toBe(400);
    expect((await post(withUser('username=demo&username=x&password=demo'))).status).toBe(400);
    expect((await post(withUser(`username=${'a'.repeat(300)}&password=x`))).status).toBe(400);
    expect((await post(withUser('username=demo&password=demo'), 'text/plain')).status).toBe(400);
    expect((await post(withUser(`username=demo&password=${'p'.repeat(20_000)}`))).status).toBe(413);
    const deny = await post(withUser('action=deny'));
    expect(deny.status).toBe(302);
    expect(new URL(deny.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
  });

  it('property: random queries and forms never get a 5xx or a redirect to an unregistered URI', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(params, fc.boolean(), fc.boolean(), async (pairs, startValid, viaPost) => {
        tried += 1;
        const q = startValid ? valid() : new URLSearchParams();
        for (const [k, v] of pairs) q.append(k, v);
        const response = viaPost
          ? await form(`${base}/authorize`, q)
          : await fetch(`${base}/authorize?${q}`, { redirect: 'manual' });
        expect(response.status).toBeLessThan(500);
        assertRedirectTarget(response.headers.get('location'));
        await response.arrayBuffer();
      }),
      { numRuns: RUNS },
    );
    console.log(`GET|POST /authorize: ${tried} random requests tried`);
  });
});

describe('POST /revoke', () => {
  it('answers RFC 7009 shapes', async () => {
    const url = `${base}/revoke`;
    await expectOAuthError(await form(url, ''), 400, 'invalid_request');
    await expectOAuthError(await form(url, 'token=a&token=b'), 400, 'invalid_request');
    // Every client is public: it must name itself (RFC 7009 §2.1).
    await expectOAuthError(await form(url, 'token=never-issued'), 400, 'invalid_request');
    expect((await form(url, `token=never-issued&client_id=${clientId}`)).status).toBe(200);
    expect((await form(url, `token=${'t'.repeat(5000)}&client_id=${clientId}`)).status).toBe(200);
    await expectOAuthError(
      await form(url, 'token=a&client_id=unknown-unknown-unknown'),
      401,
      'invalid_client',
    );
  });

  it('property: random forms never get a 5xx', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(params, async (pairs) => {
        tried += 1;
        const response = await form(`${base}/revoke`, new URLSearchParams(pairs));
        expect([200, 400, 401, 413]).toContain(response.status);
        if (response.status !== 200) await expectOAuthError(response, [400, 401, 413]);
      }),
      { numRuns: RUNS },
    );
    console.log(`POST /revoke: ${tried} random forms tried`);
  });
});

describe('/mcp headers and bodies', () => {
  it('answers bearer errors per RFC 6750 with resource_metadata', async () => {
    const url = `${base}/mcp`;
    const post = (
      headers: Record<string, string | string[]>,
      body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    ) =>
      rawRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const missing = await post({});
    expect(missing.status).toBe(401);
    expect(String(missing.headers['www-authenticate'])).toContain('resource_metadata=');
    const bogus = await post({ authorization: 'Bearer not-a-token' });
    expect(bogus.status).toBe(401);
    expect(String(bogus.headers['www-authenticate'])).toContain('error="invalid_token"');
    const twice = await post({ authorization: ['Bearer a', 'Bearer b'] });
    expect(twice.status).toBe(400);
    const basic = await post({ authorization: 'Basic ZGVtbzpkZW1v' });
    // @oauth-cache/koa treats a non-Bearer scheme as a malformed request (400) with a Bearer challenge.
    expect([400, 401]).toContain(basic.status);
    expect(String(basic.headers['www-authenticate'])).toMatch(/^Bearer /);
    const inQuery = await rawRequest(`${url}?access_token=abc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(inQuery.status).toBe(400);
    const huge = await post({ 'x-pad': 'p'.repeat(20_000) });
    expect(huge.status).toBe(431);
    const many: Record<string, string> = {};
    for (let i = 0; i < 150; i++) many[`x-h${i}`] = 'v';
    expect((await post(many)).status).toBeLessThan(500);
  });

  it('property: random Authorization headers never get a 5xx', async () => {
    let tried = 0;
    const header = fc.oneof(
      fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
      fc.string({ maxLength: 100 }).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, '')}`),
      fc.constantFrom('Bearer', 'Bearer ', 'bearer x', 'Bearer a b', `Bearer ${'A'.repeat(5000)}`, 'DPoP x'),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        tried += 1;
        const r = await rawRequest(`${base}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: value },
          body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
        });
        expect([400, 401]).toContain(r.status);
        expect(String(r.headers['www-authenticate'])).toMatch(/^Bearer /);
        expect(typeof (JSON.parse(r.body) as { error: unknown }).error).toBe('string');
      }),
      { numRuns: RUNS },
    );
    console.log(`/mcp Authorization: ${tried} random headers tried`);
  });
});

describe('other paths', () => {
  it('answers 404/405 as JSON-free 4xx, never 5xx', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/.well-known/oauth-authorization-server`, { method: 'POST' })).status).toBe(
      405,
    );
    expect((await fetch(`${base}/%E0%A4%A`)).status).toBe(404);
    expect((await fetch(`${base}/authorize%`)).status).toBeLessThan(500);
    const preflight = await fetch(`${base}/token`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });
});

/**
 * Details of the latest MCP authorization spec and RFC 9207, over real HTTP: the issuer is the
 * same string everywhere it appears; every authorization response (codes and errors alike) carries
 * `iss`; no `offline_access` is advertised; every bearer challenge names the scopes to request; a
 * resource written with an uppercase scheme or host is the canonical resource.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formFields, type Harness, loginForRedirect, startHarness } from './support/harness.js';

const REDIRECT = 'http://127.0.0.1:40000/cb';

let h: Harness;
let clientId: string;
let issuer: string;
let prm: { authorization_servers: string[]; scopes_supported: string[]; resource: string };
let asMetadata: { issuer: string; scopes_supported: string[] };

beforeAll(async () => {
  h = await startHarness();
  const reg = await fetch(`${h.server.publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT] }),
  });
  clientId = ((await reg.json()) as { client_id: string }).client_id;
  asMetadata = (await (
    await fetch(`${h.server.publicUrl}/.well-known/oauth-authorization-server`)
  ).json()) as typeof asMetadata;
  prm = (await (
    await fetch(`${h.server.publicUrl}/.well-known/oauth-protected-resource/mcp`)
  ).json()) as typeof prm;
  issuer = asMetadata.issuer;
});
afterAll(async () => {
  await h?.close();
});

function authorizeUrl(extra: Record<string, string> = {}, verifier = 'x'.repeat(43)): string {
  return `${h.server.publicUrl}/authorize?${new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'st-1',
    ...extra,
  })}`;
}

describe('the issuer', () => {
  it('is byte-identical in the AS metadata, the PRM and every authorization response', async () => {
    expect(prm.authorization_servers).toEqual([issuer]);
    expect(issuer).not.toMatch(/\/$/);

    const success = await loginForRedirect(authorizeUrl(), 'demo', 'demo');
    expect(success.searchParams.get('code')).toBeTruthy();
    expect(success.searchParams.get('iss')).toBe(issuer);

    // An error reported through the redirect URI carries it too (RFC 9207 §2).
    const unsupported = await fetch(authorizeUrl({ response_type: 'token' }), { redirect: 'manual' });
    expect(unsupported.status).toBe(302);
    const error = new URL(unsupported.headers.get('location') ?? '');
    expect(error.searchParams.get('error')).toBe('unsupported_response_type');
    expect(error.searchParams.get('state')).toBe('st-1');
    expect(error.searchParams.get('iss')).toBe(issuer);

    const badScope = new URL(
      (await fetch(authorizeUrl({ scope: 'offline_access' }), { redirect: 'manual' })).headers.get(
        'location',
      ) ?? '',
    );
    expect(badScope.searchParams.get('error')).toBe('invalid_scope');
    expect(badScope.searchParams.get('iss')).toBe(issuer);

    // The user pressing "deny".
    const page = await fetch(authorizeUrl(), { redirect: 'manual' });
    const fields = formFields(await page.text());
    fields.set('action', 'deny');
    const denied = await fetch(`${h.server.publicUrl}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields,
      redirect: 'manual',
    });
    expect(denied.status).toBe(302);
    const deny = new URL(denied.headers.get('location') ?? '');
    expect(deny.searchParams.get('error')).toBe('access_denied');
    expect(deny.searchParams.get('iss')).toBe(issuer);
  });
});

describe('scopes', () => {
  it('advertises no offline_access (refresh tokens come with every grant of the authorization code flow)', () => {
    expect(asMetadata.scopes_supported).not.toContain('offline_access');
    expect(prm.scopes_supported).not.toContain('offline_access');
    expect(asMetadata.scopes_supported.length).toBeGreaterThan(0);
  });

  it('every WWW-Authenticate challenge of /mcp names the scopes to request', async () => {
    const scope = `scope="${prm.scopes_supported.join(' ')}"`;
    const missing = await fetch(`${h.server.publicUrl}/mcp`, { method: 'POST' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain(scope);
    expect(missing.headers.get('www-authenticate')).toContain('resource_metadata="');
    const unknown = await fetch(`${h.server.publicUrl}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer never-issued' },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toContain(scope);
  });
});

describe('the resource', () => {
  it('written with an uppercase scheme and host is the canonical resource, at /authorize and /token', async () => {
    const canonical = new URL(prm.resource);
    const shouting = `${canonical.protocol.toUpperCase()}//${canonical.host.toUpperCase()}${canonical.pathname}`;
    expect(shouting).not.toBe(prm.resource);
    const verifier = randomBytes(32).toString('base64url');
    const callback = await loginForRedirect(authorizeUrl({ resource: shouting }, verifier), 'demo', 'demo');
    const code = callback.searchParams.get('code');
    expect(code).toBeTruthy();
    const token = await fetch(`${h.server.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code: code ?? '',
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        resource: shouting,
      }),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    // The token is for the canonical resource: /mcp accepts it.
    const mcp = await fetch(`${h.server.publicUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(mcp.status).toBe(200);
  });
});

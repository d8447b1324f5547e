/**
 * What the login page is told about who is asking (redirect target, policy), the signed login
 * form token, and the registration rules that keep names and redirect URIs honest.
 */
import { describe, expect, it } from 'vitest';
import {
  AuthorizationPageError,
  type AuthorizationServer,
  createAuthorizationServer,
  describeRedirectTarget,
  FormTokens,
  OAuthError,
  parseAllowedHosts,
  type RedirectPolicy,
} from '../src/index.js';
import { authorizeParams, ISSUER, newCache, newPkce, newServer, RESOURCE } from './helpers.js';

const WARN: RedirectPolicy = { mode: 'warn', allowedHosts: ['claude.ai'] };

function serverWith(policy: RedirectPolicy, formTokenTtlMs?: number): AuthorizationServer {
  return createAuthorizationServer({
    cache: newCache(),
    issuer: ISSUER,
    resource: RESOURCE,
    redirectPolicy: policy,
    ...(formTokenTtlMs ? { formTokenTtlMs } : {}),
  });
}

async function requestFor(as: AuthorizationServer, redirect: string, extra: Record<string, string> = {}) {
  const client = await as.register({ redirect_uris: [redirect], client_name: 'Claude Desktop' });
  return as.validateAuthorizationRequest(
    authorizeParams(client.client_id, newPkce(), { redirect_uri: redirect, ...extra }),
  );
}

async function registrationError(as: AuthorizationServer, metadata: unknown): Promise<OAuthError> {
  const error = await as.register(metadata).catch((e: unknown) => e);
  if (!(error instanceof OAuthError)) throw new Error(`expected an OAuthError, got ${String(error)}`);
  return error;
}

describe('redirect target', () => {
  it('headlines the origin, the registrable domain and an unlisted-host warning', () => {
    const target = describeRedirectTarget('https://login.Evil.example:8443/cb?x=1', WARN);
    expect(target).toEqual({
      origin: 'https://login.evil.example:8443',
      host: 'login.evil.example',
      registrableDomain: 'evil.example',
      loopback: false,
      listed: false,
      warnings: ['unlisted_host'],
    });
    expect(describeRedirectTarget('https://a.b.example.co.uk/cb', WARN).registrableDomain).toBe(
      'example.co.uk',
    );
    // Private suffixes count: each github.io site is its own owner.
    expect(describeRedirectTarget('https://mallory.github.io/cb', WARN).registrableDomain).toBe(
      'mallory.github.io',
    );
  });

  it('treats listed hosts as vouched for and loopback as "on your computer"', () => {
    expect(describeRedirectTarget('https://claude.ai/api/cb', WARN)).toMatchObject({
      listed: true,
      warnings: [],
      registrableDomain: 'claude.ai',
    });
    expect(describeRedirectTarget('http://127.0.0.1:5000/cb', WARN)).toMatchObject({
      origin: 'http://127.0.0.1:5000',
      loopback: true,
      registrableDomain: undefined,
      warnings: ['loopback'],
    });
  });

  it('warn mode exposes the target on the validated request', async () => {
    const request = await requestFor(serverWith(WARN), 'https://evil.example/cb');
    expect(request.redirectTarget.warnings).toEqual(['unlisted_host']);
    expect(request.redirectTarget.origin).toBe('https://evil.example');
  });

  it('enforce mode refuses an unlisted host before anything else, and lets listed and loopback through', async () => {
    const as = serverWith({ mode: 'enforce', allowedHosts: ['claude.ai'] });
    const refused = await requestFor(as, 'https://evil.example/cb').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthorizationPageError);
    expect((refused as AuthorizationPageError).error).toBe('unauthorized_client');
    expect((refused as AuthorizationPageError).description).toContain('evil.example');
    await expect(requestFor(as, 'https://claude.ai/api/cb')).resolves.toMatchObject({
      redirectTarget: { listed: true },
    });
    await expect(requestFor(as, 'http://localhost:7000/cb')).resolves.toMatchObject({
      redirectTarget: { loopback: true },
    });
  });

  it('parses MCP_ALLOWED_REDIRECT_HOSTS and names a bad entry', () => {
    expect(parseAllowedHosts(undefined)).toEqual([]);
    expect(parseAllowedHosts(' Claude.ai, chatgpt.com,,claude.ai ')).toEqual(['claude.ai', 'chatgpt.com']);
    expect(() => parseAllowedHosts('claude.ai,https://evil.example')).toThrow(/https:\/\/evil\.example/);
    expect(() => parseAllowedHosts('host:8080')).toThrow(TypeError);
  });
});

describe('login form token', () => {
  it('verifies for the request it was issued for, and nothing else', async () => {
    const as = newServer();
    const request = await requestFor(as, 'https://app.example/cb');
    const token = as.formTokens.issue(request);
    expect(as.formTokens.verify(request, token)).toBe('ok');
    expect(as.formTokens.verify(request, undefined)).toBe('missing');
    expect(as.formTokens.verify(request, '')).toBe('missing');
    expect(as.formTokens.verify(request, 'garbage')).toBe('invalid');
    // Every bound parameter changes the MAC.
    for (const change of [
      { state: 'other' },
      { codeChallenge: 'c'.repeat(43) },
      { redirectUri: 'https://app.example/other' },
      { clientId: 'x'.repeat(32) },
      { scopes: ['other'] },
      { resource: 'https://other.example/mcp' },
    ]) {
      expect(as.formTokens.verify({ ...request, ...change }, token)).toBe('invalid');
    }
    // A flipped signature character, and a pushed-out expiry, are both forgeries.
    const [expiry, mac] = token.split('.') as [string, string];
    const flipped = `${expiry}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    expect(as.formTokens.verify(request, flipped)).toBe('invalid');
    expect(as.formTokens.verify(request, `${Number(expiry) + 60_000}.${mac}`)).toBe('invalid');
    // Another spelling of the same MAC bytes (the spare bits of the last base64url character): a
    // tampered last character used to pass whenever it kept the data bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const bytes = Buffer.from(mac, 'base64url');
    const respelled = [...alphabet]
      .map((c) => `${mac.slice(0, -1)}${c}`)
      .filter((m) => m !== mac && Buffer.from(m, 'base64url').equals(bytes));
    expect(respelled.length).toBeGreaterThan(0);
    for (const m of respelled) expect(as.formTokens.verify(request, `${expiry}.${m}`)).toBe('invalid');
  });

  it('expires after its lifetime and is not accepted by a server with another secret', async () => {
    const as = serverWith(WARN, 60_000);
    const request = await requestFor(as, 'https://app.example/cb');
    const now = Date.now();
    const token = as.formTokens.issue(request, now);
    expect(as.formTokens.verify(request, token, now + 59_000)).toBe('ok');
    expect(as.formTokens.verify(request, token, now + 60_000)).toBe('expired');
    const other = new FormTokens(newCache(), 60_000);
    expect(other.verify(request, token, now)).toBe('invalid');
  });
});

describe('registration hardening', () => {
  it('refuses Unicode format and bidi characters in any metadata string', async () => {
    const as = newServer();
    for (const metadata of [
      { redirect_uris: ['https://app.example/cb'], client_name: 'Claude \u202eDesktop' },
      { redirect_uris: ['https://app.example/cb'], client_name: 'Claude\u200bDesktop' },
      { redirect_uris: ['https://app.example/cb'], software_id: 'id\u2066x' },
    ]) {
      const error = await registrationError(as, metadata);
      expect(error.error).toBe('invalid_client_metadata');
      expect(error.description).toContain('format or bidi');
    }
    // Ordinary non-ASCII names stay accepted.
    await expect(
      as.register({ redirect_uris: ['https://app.example/cb'], client_name: 'Клиент 1С' }),
    ).resolves.toMatchObject({ client_name: 'Клиент 1С' });
  });

  it('refuses redirect URIs that are not in canonical form', async () => {
    const as = newServer();
    for (const uri of [
      'http://0x7f000001/cb',
      'https:evil.example/cb',
      'https://Evil.example/cb',
      'https://evil.example',
      'http://127.1/cb',
      'https://evil.example/a/../cb',
    ]) {
      const error = await registrationError(as, { redirect_uris: [uri] });
      expect(error.error).toBe('invalid_redirect_uri');
      expect(error.description).toContain('canonical form');
    }
    await expect(as.register({ redirect_uris: ['https://evil.example/'] })).resolves.toBeTruthy();
  });
});

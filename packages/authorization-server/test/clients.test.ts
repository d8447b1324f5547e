import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/index.js';
import { newCache, newServer, REDIRECT } from './helpers.js';

async function registrationError(metadata: unknown): Promise<OAuthError> {
  const as = newServer();
  const error = await as.register(metadata).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('client registration (RFC 7591)', () => {
  it('registers a public client with defaults and persists it in the store', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const client = await as.register({
      redirect_uris: [REDIRECT],
      client_name: 'Inspector',
      unknown_field: 1,
    });
    expect(client).toMatchObject({
      redirect_uris: [REDIRECT],
      client_name: 'Inspector',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    });
    expect(client.client_id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(client).not.toHaveProperty('unknown_field');
    expect(client).not.toHaveProperty('touched_at');
    expect(client.client_id_issued_at).toBeCloseTo(Date.now() / 1000, -1);
    // Stored under x:client:<id>, readable by a second server on the same cache (another instance).
    expect(await cache.store.get(cache.key(`x:client:${client.client_id}`))).toMatchObject({
      client_id: client.client_id,
    });
    expect(await newServer(cache).clients.get(client.client_id)).toMatchObject({ redirect_uris: [REDIRECT] });
  });

  it('peek finds a registration without extending it; get extends it at most once a day', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { client_id } = await as.register({ redirect_uris: [REDIRECT] });
    const key = cache.key(`x:client:${client_id}`);
    const stored = (await cache.store.get(key)) as { touched_at: number };
    const later = stored.touched_at + 2 * 86_400_000;
    expect((await as.clients.peek(client_id))?.client_id).toBe(client_id);
    expect(await cache.store.get(key)).toEqual(stored);
    await as.clients.get(client_id, later);
    expect(((await cache.store.get(key)) as { touched_at: number }).touched_at).toBe(later);
    expect(await as.clients.peek('../../etc')).toBeUndefined();
  });

  it('answers undefined for unknown or impossible client ids', async () => {
    const as = newServer();
    expect(await as.clients.get('x'.repeat(32))).toBeUndefined();
    expect(await as.clients.get('../../etc')).toBeUndefined();
    expect(await as.clients.get('')).toBeUndefined();
  });

  it('registers a client asking for a secret or a key as a public client (RFC 7591 §3.2.1)', async () => {
    const cache = newCache();
    const as = newServer(cache);
    for (const method of [
      'client_secret_basic',
      'client_secret_post',
      'client_secret_jwt',
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ]) {
      const client = await as.register({
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: method,
        client_secret: 'chosen-by-the-client',
      });
      expect(client.token_endpoint_auth_method).toBe('none');
      // No secret is issued, and one the client sent is neither answered nor kept.
      expect(client).not.toHaveProperty('client_secret');
      expect(client).not.toHaveProperty('client_secret_expires_at');
      const stored = await cache.store.get(cache.key(`x:client:${client.client_id}`));
      expect(stored).toMatchObject({ token_endpoint_auth_method: 'none' });
      expect(stored).not.toHaveProperty('client_secret');
    }
  });

  it('still refuses a token_endpoint_auth_method that is not a method', async () => {
    for (const method of ['client_secret', 'NONE', '', 42, ['none'], { method: 'none' }]) {
      const e = await registrationError({ redirect_uris: [REDIRECT], token_endpoint_auth_method: method });
      expect(e.error).toBe('invalid_client_metadata');
      expect(e.status).toBe(400);
      expect(e.description).toContain('token_endpoint_auth_method');
    }
  });

  it('a secret-based request does not excuse other invalid metadata', async () => {
    const e = await registrationError({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
    });
    expect(e.error).toBe('invalid_client_metadata');
    const redirect = await registrationError({
      redirect_uris: ['http://evil.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(redirect.error).toBe('invalid_redirect_uri');
  });

  it('rejects bad redirect URIs with invalid_redirect_uri', async () => {
    for (const redirect_uris of [
      undefined,
      [],
      'https://a.example/cb',
      ['http://evil.example/cb'],
      ['https://a.example/cb#x'],
      [42],
      Array.from({ length: 11 }, (_, i) => `https://a.example/cb${i}`),
    ]) {
      const e = await registrationError({ redirect_uris });
      expect(e.error).toBe('invalid_redirect_uri');
    }
  });

  it('rejects bad grant types, response types, names and scopes', async () => {
    const cases: unknown[] = [
      { redirect_uris: [REDIRECT], grant_types: ['password'] },
      { redirect_uris: [REDIRECT], grant_types: ['client_credentials'] },
      { redirect_uris: [REDIRECT], grant_types: ['refresh_token'] },
      { redirect_uris: [REDIRECT], grant_types: 'authorization_code' },
      { redirect_uris: [REDIRECT], response_types: ['token'] },
      { redirect_uris: [REDIRECT], client_name: 'x'.repeat(201) },
      { redirect_uris: [REDIRECT], client_name: 5 },
      { redirect_uris: [REDIRECT], client_name: 'a\u0000b' },
      { redirect_uris: [REDIRECT], scope: 'admin' },
      { redirect_uris: [REDIRECT], client_uri: 'javascript:alert(1)' },
      null,
      [],
      'string',
    ];
    for (const metadata of cases) {
      const e = await registrationError(metadata);
      expect(e.error).toBe('invalid_client_metadata');
    }
  });

  it('keeps a registered scope and an explicit grant list', async () => {
    const as = newServer();
    const client = await as.register({
      redirect_uris: [REDIRECT],
      scope: 'mcp',
      grant_types: ['authorization_code'],
    });
    expect(client.scope).toBe('mcp');
    expect(client.grant_types).toEqual(['authorization_code']);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ClientMetadataDocumentError,
  cacheLifetimeSeconds,
  clientFromMetadataDocument,
  clientIdUrlProblem,
  isClientIdUrl,
} from '../src/index.js';

const URL_ID = 'https://app.example.com/oauth/client.json';
const SCOPES = ['mcp'];

function doc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: URL_ID,
    client_name: 'Example MCP client',
    redirect_uris: ['http://127.0.0.1:33418/callback', 'https://app.example.com/cb'],
    ...overrides,
  };
}

function refusal(document: unknown): string {
  try {
    clientFromMetadataDocument(URL_ID, document, SCOPES);
  } catch (error) {
    expect(error).toBeInstanceOf(ClientMetadataDocumentError);
    return (error as ClientMetadataDocumentError).description;
  }
  throw new Error('the document was accepted');
}

describe('client id URLs', () => {
  it('accepts https URLs with a path', () => {
    expect(isClientIdUrl(URL_ID)).toBe(true);
    expect(isClientIdUrl('https://app.example.com:8443/c?v=1')).toBe(true);
  });

  it.each([
    ['http://app.example.com/client.json', 'https'],
    ['https://app.example.com', 'path'],
    ['https://app.example.com/', 'path'],
    ['https://app.example.com/a/../client.json', 'dot segments'],
    ['https://app.example.com/./client.json', 'dot segments'],
    ['https://app.example.com/%2e%2e/client.json', 'dot segments'],
    ['https://app.example.com/client.json#x', 'fragment'],
    ['https://user:pw@app.example.com/client.json', 'user information'],
    ['https://app.example.com/client json', 'whitespace'],
  ])('refuses %s (%s)', (value, why) => {
    expect(isClientIdUrl(value)).toBe(false);
    expect(clientIdUrlProblem(value)).toContain(why);
  });

  it('never mistakes a registered client id for a URL', () => {
    expect(isClientIdUrl('AbCdEfGhIjKlMnOpQrStUvWx')).toBe(false);
    expect(isClientIdUrl('mcp-public-client')).toBe(false);
  });
});

describe('clientFromMetadataDocument', () => {
  it('turns a valid document into a public client', () => {
    const client = clientFromMetadataDocument(URL_ID, JSON.stringify(doc({ scope: 'mcp' })), SCOPES, 5_000);
    expect(client).toEqual({
      client_id: URL_ID,
      client_id_issued_at: 5,
      client_name: 'Example MCP client',
      redirect_uris: ['http://127.0.0.1:33418/callback', 'https://app.example.com/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp',
    });
  });

  it('requires the document client_id to equal the URL exactly', () => {
    expect(refusal(doc({ client_id: 'https://evil.example.com/client.json' }))).toContain('does not equal');
    expect(refusal(doc({ client_id: 'https://APP.example.com/oauth/client.json' }))).toContain(
      'does not equal',
    );
    expect(refusal(doc({ client_id: undefined }))).toContain('does not equal');
  });

  it('refuses non-objects and invalid JSON', () => {
    expect(refusal('{not json')).toContain('not valid JSON');
    expect(refusal('[]')).toContain('JSON object');
    expect(refusal(null)).toContain('JSON object');
  });

  it('requires acceptable redirect URIs', () => {
    expect(refusal(doc({ redirect_uris: [] }))).toContain('non-empty');
    expect(refusal(doc({ redirect_uris: undefined }))).toContain('non-empty');
    expect(refusal(doc({ redirect_uris: ['http://evil.example.com/cb'] }))).toContain('loopback');
    expect(refusal(doc({ redirect_uris: ['javascript:alert(1)'] }))).toContain('https');
    expect(
      refusal(doc({ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://a.example/${i}`) })),
    ).toContain('at most');
  });

  it.each(['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt'])(
    'refuses token_endpoint_auth_method %s',
    (method) => {
      expect(refusal(doc({ token_endpoint_auth_method: method }))).toContain('token_endpoint_auth_method');
    },
  );

  it('refuses a document carrying a client secret', () => {
    expect(refusal(doc({ client_secret: 's3cret' }))).toContain('secret');
    expect(refusal(doc({ client_secret: 's3cret' }))).not.toContain('s3cret');
  });

  it('validates grant and response types like registration', () => {
    expect(refusal(doc({ grant_types: ['client_credentials'] }))).toContain('grant_types');
    expect(refusal(doc({ grant_types: ['refresh_token'] }))).toContain('authorization_code');
    expect(refusal(doc({ response_types: ['token'] }))).toContain('response_types');
    const codeOnly = clientFromMetadataDocument(URL_ID, doc({ grant_types: ['authorization_code'] }), SCOPES);
    expect(codeOnly.grant_types).toEqual(['authorization_code']);
  });

  it('refuses Unicode format characters and control characters in text fields', () => {
    expect(refusal(doc({ client_name: 'Good\u202Egnp.exe' }))).toContain('format characters');
    expect(refusal(doc({ client_name: 'zero\u200Bwidth' }))).toContain('format characters');
    expect(refusal(doc({ software_id: 'a\u2066b' }))).toContain('format characters');
    expect(refusal(doc({ client_name: 'line\nbreak' }))).toContain('printable');
    expect(refusal(doc({ client_name: 'x'.repeat(201) }))).toContain('at most 200');
    expect(refusal(doc({ client_uri: 'javascript:alert(1)' }))).toContain('client_uri');
  });

  it('refuses unsupported scopes', () => {
    expect(refusal(doc({ scope: 'admin' }))).toContain('scope');
  });
});

describe('cacheLifetimeSeconds', () => {
  it('reads max-age and s-maxage, and treats no-store / no-cache as zero', () => {
    expect(cacheLifetimeSeconds(undefined)).toBeUndefined();
    expect(cacheLifetimeSeconds('public')).toBeUndefined();
    expect(cacheLifetimeSeconds('public, max-age=300')).toBe(300);
    expect(cacheLifetimeSeconds('max-age=300, s-maxage=900')).toBe(900);
    expect(cacheLifetimeSeconds('max-age="60"')).toBe(60);
    expect(cacheLifetimeSeconds('no-store')).toBe(0);
    expect(cacheLifetimeSeconds('max-age=600, no-cache')).toBe(0);
    expect(cacheLifetimeSeconds('max-age=-1')).toBeUndefined();
  });
});

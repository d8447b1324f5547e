import { describe, expect, it } from 'vitest';
import { bearerChallenge, quoteHeaderValue } from '../src/index.js';

const META = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

describe('bearerChallenge', () => {
  it('401 without error code when credentials are missing', () => {
    expect(bearerChallenge({ kind: 'missing' }, { resourceMetadataUrl: META })).toEqual({
      status: 401,
      headers: { 'Cache-Control': 'no-store', 'WWW-Authenticate': `Bearer resource_metadata="${META}"` },
      body: { error: 'invalid_token', error_description: 'Authorization: Bearer token required' },
    });
    expect(bearerChallenge({ kind: 'missing' }).headers['WWW-Authenticate']).toBe('Bearer');
  });

  it('401 invalid_token with description and resource_metadata', () => {
    const response = bearerChallenge(
      { kind: 'invalid_token', description: 'expired' },
      { resourceMetadataUrl: META },
    );
    expect(response.status).toBe(401);
    expect(response.headers['WWW-Authenticate']).toBe(
      `Bearer error="invalid_token", error_description="expired", resource_metadata="${META}"`,
    );
    expect(response.body).toEqual({ error: 'invalid_token', error_description: 'expired' });
  });

  it('403 insufficient_scope names the scopes', () => {
    const response = bearerChallenge({
      kind: 'insufficient_scope',
      description: 'need more',
      scope: 'read write',
    });
    expect(response.status).toBe(403);
    expect(response.headers['WWW-Authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="need more", scope="read write"',
    );
  });

  it('names the scopes to request on every challenge when told them; a 403 names its own', () => {
    const options = { resourceMetadataUrl: META, scope: 'mcp tools' };
    expect(bearerChallenge({ kind: 'missing' }, options).headers['WWW-Authenticate']).toBe(
      `Bearer scope="mcp tools", resource_metadata="${META}"`,
    );
    expect(
      bearerChallenge({ kind: 'invalid_token', description: 'expired' }, options).headers['WWW-Authenticate'],
    ).toBe(
      `Bearer error="invalid_token", error_description="expired", scope="mcp tools", resource_metadata="${META}"`,
    );
    expect(
      bearerChallenge({ kind: 'invalid_request', description: 'bad' }, options).headers['WWW-Authenticate'],
    ).toBe(
      `Bearer error="invalid_request", error_description="bad", scope="mcp tools", resource_metadata="${META}"`,
    );
    expect(
      bearerChallenge({ kind: 'insufficient_scope', description: 'need more', scope: 'mcp admin' }, options)
        .headers['WWW-Authenticate'],
    ).toBe(
      `Bearer error="insufficient_scope", error_description="need more", scope="mcp admin", resource_metadata="${META}"`,
    );
  });

  it('400 invalid_request', () => {
    const response = bearerChallenge({ kind: 'invalid_request', description: 'bad' });
    expect(response.status).toBe(400);
    expect(response.headers['WWW-Authenticate']).toBe(
      'Bearer error="invalid_request", error_description="bad"',
    );
  });

  it('503 with Retry-After and no challenge when the store is unavailable', () => {
    const response = bearerChallenge({ kind: 'unavailable', description: 'down' }, { retryAfterSeconds: 9 });
    expect(response).toEqual({
      status: 503,
      headers: { 'Cache-Control': 'no-store', 'Retry-After': '9' },
      body: { error: 'temporarily_unavailable', error_description: 'down' },
    });
  });

  it('escapes backslash and quote and drops CR/LF in parameter values', () => {
    const response = bearerChallenge({
      kind: 'invalid_token',
      description: 'a "quoted" \\ path\r\nInjected: yes',
    });
    const header = response.headers['WWW-Authenticate'] ?? '';
    expect(header).toBe(
      'Bearer error="invalid_token", error_description="a \\"quoted\\" \\\\ pathInjected: yes"',
    );
    expect(header).not.toMatch(/[\r\n]/);
  });
});

describe('quoteHeaderValue', () => {
  it('quotes, escapes and strips what a header cannot carry', () => {
    expect(quoteHeaderValue('plain')).toBe('"plain"');
    expect(quoteHeaderValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteHeaderValue('back\\slash')).toBe('"back\\\\slash"');
    expect(quoteHeaderValue('line\r\nbreak\ttab\u0000nul')).toBe('"linebreaktabnul"');
    expect(quoteHeaderValue('кириллица ok')).toBe('" ok"');
  });
});

import { randomBytes } from 'node:crypto';
import { createTokenCache, MemoryStore, type TokenCache } from '@oauth-cache/core';
import { type AuthorizationServer, createAuthorizationServer, s256Challenge } from '../src/index.js';

export const ISSUER = 'https://gw.example.test';
export const RESOURCE = `${ISSUER}/mcp`;
export const REDIRECT = 'http://127.0.0.1:33418/callback';

/** A real TokenCache over core's in-process MemoryStore, with fixed keys. */
export function newCache(
  overrides: { reuseLeewayMs?: number; maxTokens?: number; maxGrantsPerUser?: number } = {},
): TokenCache {
  return createTokenCache({
    store: new MemoryStore(),
    environment: 'test',
    secret: randomBytes(32),
    encryptionKeys: [{ kid: 'k1', key: randomBytes(32) }],
    autoCleanup: false,
    ...overrides,
  });
}

export function newServer(cache = newCache()): AuthorizationServer {
  return createAuthorizationServer({ cache, issuer: ISSUER, resource: RESOURCE, codeTtl: 120 });
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256Challenge(verifier) };
}

export function authorizeParams(
  clientId: string,
  pkce: Pkce,
  extra: Record<string, string> = {},
): URLSearchParams {
  return new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'st-1',
    resource: RESOURCE,
    ...extra,
  });
}

/** Register a client and run an authorization to a code; resolves what the token step needs. */
export async function authorizeToCode(
  as: AuthorizationServer,
  login = 'demo',
  password = 'demo',
): Promise<{ clientId: string; code: string; pkce: Pkce }> {
  const client = await as.register({ redirect_uris: [REDIRECT], client_name: 'Test client' });
  const pkce = newPkce();
  const request = await as.validateAuthorizationRequest(authorizeParams(client.client_id, pkce));
  const location = new URL(await as.completeAuthorization(request, login, password));
  const code = location.searchParams.get('code');
  if (!code) throw new Error('no code in redirect');
  return { clientId: client.client_id, code, pkce };
}

export function tokenParams(values: Record<string, string>): URLSearchParams {
  return new URLSearchParams(values);
}

/**
 * Retry-safe rotation at the token endpoint (RFC 9700 §4.14.2): a client that lost the `/token`
 * response presents the same refresh token again and gets a working pair; another client, or a
 * retry after the new pair was used, revokes the grant and is reported with the client's address.
 */
import type { SecurityEvent, TokenCache } from '@oauth-cache/core';
import { describe, expect, it } from 'vitest';
import { type AuthorizationServer, OAuthError, type TokenResponse } from '../src/index.js';
import { authorizeToCode, newCache, newServer, REDIRECT, RESOURCE, tokenParams } from './helpers.js';

interface Grant {
  cache: TokenCache;
  as: AuthorizationServer;
  clientId: string;
  tokens: TokenResponse;
  events: SecurityEvent[];
}

/**
 * A server and one grant of user `demo`. The leeway is longer than the default 2 s so that a slow
 * machine cannot turn a retry into reuse.
 */
async function grant(): Promise<Grant> {
  const cache = newCache({ reuseLeewayMs: 30_000 });
  const events: SecurityEvent[] = [];
  cache.events.on('security', (e) => events.push(e));
  const as = newServer(cache);
  const { clientId, code, pkce } = await authorizeToCode(as, 'demo', 'demo-password');
  const tokens = await as.token(
    tokenParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      code_verifier: pkce.verifier,
      redirect_uri: REDIRECT,
      resource: RESOURCE,
    }),
  );
  return { cache, as, clientId, tokens, events };
}

function refresh(g: Grant, refreshToken: string, clientId = g.clientId, extra: Record<string, string> = {}) {
  return g.as.token(
    tokenParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, ...extra }),
    { clientAddress: '192.0.2.10' },
  );
}

async function oauthError(promise: Promise<unknown>): Promise<OAuthError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OAuthError);
  return e as OAuthError;
}

describe('refresh_token grant: a lost response', () => {
  it('the same client presenting the refresh token again gets a working pair; the missed pair is revoked', async () => {
    const g = await grant();
    const missed = await refresh(g, g.tokens.refresh_token!);
    const retried = await refresh(g, g.tokens.refresh_token!);
    expect(retried.access_token).not.toBe(missed.access_token);
    expect(retried.scope).toBe(missed.scope);
    expect(await g.cache.validateAccessToken(missed.access_token)).toBeNull();
    expect(await g.cache.validateAccessToken(retried.access_token)).toMatchObject({
      userId: 'demo',
      clientId: g.clientId,
      resource: RESOURCE,
      userData: { login: 'demo', password: 'demo-password' },
    });
    expect((await oauthError(refresh(g, missed.refresh_token!))).error).toBe('invalid_grant');
    expect(g.events).toContainEqual(
      expect.objectContaining({ type: 'refresh_retry', clientAddress: '192.0.2.10' }),
    );
    // Presenting the token the retry replaced was reuse: the grant is gone.
    expect(await g.cache.validateAccessToken(retried.access_token)).toBeNull();
  });

  it('a retry goes on working until the new pair is used; then it revokes the grant', async () => {
    const g = await grant();
    const first = await refresh(g, g.tokens.refresh_token!);
    const retried = await refresh(g, g.tokens.refresh_token!);
    const next = await refresh(g, retried.refresh_token!);
    expect(first.access_token).not.toBe(next.access_token);
    const reuse = await oauthError(refresh(g, g.tokens.refresh_token!));
    expect(reuse.error).toBe('invalid_grant');
    expect(reuse.description).toMatch(/revoked/);
    expect(await g.cache.validateAccessToken(next.access_token)).toBeNull();
    expect(await g.cache.validateAccessToken(g.tokens.access_token)).toBeNull();
    expect(g.events).toContainEqual(
      expect.objectContaining({
        type: 'reuse_detected',
        clientAddress: '192.0.2.10',
        reason: 'new_pair_used',
      }),
    );
  });

  it('another client presenting the rotated refresh token revokes the grant, reported with its address', async () => {
    const g = await grant();
    const other = await g.as.register({ redirect_uris: [REDIRECT] });
    const first = await refresh(g, g.tokens.refresh_token!);
    const stolen = await oauthError(refresh(g, g.tokens.refresh_token!, other.client_id));
    expect(stolen.error).toBe('invalid_grant');
    expect(await g.cache.validateAccessToken(first.access_token)).toBeNull();
    expect((await oauthError(refresh(g, first.refresh_token!))).error).toBe('invalid_grant');
    expect(g.events).toContainEqual(
      expect.objectContaining({
        type: 'reuse_detected',
        clientId: other.client_id,
        clientAddress: '192.0.2.10',
        reason: 'other_client',
      }),
    );
    expect(JSON.stringify(g.events)).not.toContain(g.tokens.refresh_token!);
  });

  it('a retry cannot widen the scope the grant holds', async () => {
    const g = await grant();
    await refresh(g, g.tokens.refresh_token!);
    const wider = await oauthError(refresh(g, g.tokens.refresh_token!, g.clientId, { scope: 'mcp admin' }));
    expect(wider.error).toBe('invalid_scope');
  });
});

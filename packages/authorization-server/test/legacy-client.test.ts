import { describe, expect, it } from 'vitest';
import {
  AuthorizationPageError,
  LEGACY_CLIENT_ID,
  legacyClientIdsFromEnv,
  mcpResourceFromEnv,
  mcpResourceOf,
  OAuthError,
} from '../src/index.js';
import {
  authorizeParams,
  authorizeToCode,
  newCache,
  newPkce,
  newServer,
  REDIRECT,
  RESOURCE,
  tokenParams,
} from './helpers.js';

/** A refresh family as `oauth-cache migrate` writes it for a legacy refresh token. */
async function migratedRefreshToken(cache = newCache(), clientId = LEGACY_CLIENT_ID) {
  const refreshToken = `legacy-refresh-${Math.random().toString(36).slice(2)}-0123456789`;
  await cache.storeToken({
    userId: 'ivanov',
    refreshToken,
    refreshExpiresIn: 3600,
    userData: { login: 'ivanov', password: '1c-pass' },
    clientId,
    resource: RESOURCE,
    scopes: ['mcp'],
  });
  return { cache, refreshToken };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('the legacy client id (families migrated from the Python server)', () => {
  it('rotates a migrated family with or without resource; the new tokens keep the binding', async () => {
    const { cache, refreshToken } = await migratedRefreshToken();
    const as = newServer(cache);
    const tokens = await as.token(
      tokenParams({
        grant_type: 'refresh_token',
        client_id: LEGACY_CLIENT_ID,
        refresh_token: refreshToken,
        resource: RESOURCE,
      }),
    );
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'mcp' });
    expect(await cache.validateAccessToken(tokens.access_token)).toMatchObject({
      userId: 'ivanov',
      clientId: LEGACY_CLIENT_ID,
      resource: RESOURCE,
      scopes: ['mcp'],
      userData: { login: 'ivanov', password: '1c-pass' },
    });
    const again = await as.token(
      tokenParams({
        grant_type: 'refresh_token',
        client_id: LEGACY_CLIENT_ID,
        refresh_token: tokens.refresh_token!,
      }),
    );
    expect(await cache.validateAccessToken(again.access_token)).toMatchObject({ userId: 'ivanov' });
  });

  it('refuses another resource, and the code grant, for the legacy id', async () => {
    const { cache, refreshToken } = await migratedRefreshToken();
    const as = newServer(cache);
    const wrongResource = await failure(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: LEGACY_CLIENT_ID,
          refresh_token: refreshToken,
          resource: 'https://elsewhere.example/mcp',
        }),
      ),
    );
    expect(wrongResource).toBeInstanceOf(OAuthError);
    expect((wrongResource as OAuthError).error).toBe('invalid_target');
    const code = await failure(
      as.token(
        tokenParams({
          grant_type: 'authorization_code',
          client_id: LEGACY_CLIENT_ID,
          code: 'x'.repeat(43),
          code_verifier: newPkce().verifier,
        }),
      ),
    );
    expect((code as OAuthError).error).toBe('unauthorized_client');
    // The family was not consumed by the refused requests.
    expect(await cache.inspectRefreshToken(refreshToken)).toMatchObject({ userId: 'ivanov' });
  });

  it('cannot rotate a family issued to a registered client, nor can that client rotate a migrated one', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as, 'petrov', 'p');
    const issued = await as.token(
      tokenParams({
        grant_type: 'authorization_code',
        client_id: clientId,
        code,
        code_verifier: pkce.verifier,
        redirect_uri: REDIRECT,
        resource: RESOURCE,
      }),
    );
    const stolen = await failure(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: LEGACY_CLIENT_ID,
          refresh_token: issued.refresh_token!,
        }),
      ),
    );
    expect((stolen as OAuthError).error).toBe('invalid_grant');
    const { refreshToken } = await migratedRefreshToken(cache);
    const other = await failure(
      as.token(
        tokenParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }),
      ),
    );
    expect((other as OAuthError).error).toBe('invalid_grant');
  });

  it('is never served at /authorize (no login page to phish with)', async () => {
    const as = newServer();
    const params = authorizeParams(LEGACY_CLIENT_ID, newPkce());
    const error = await failure(as.validateAuthorizationRequest(params));
    expect(error).toBeInstanceOf(AuthorizationPageError);
  });

  it('is off with legacyClientIds: [] and configurable from MCP_LEGACY_CLIENT_ID', async () => {
    expect(legacyClientIdsFromEnv({})).toEqual([LEGACY_CLIENT_ID]);
    expect(legacyClientIdsFromEnv({ MCP_LEGACY_CLIENT_ID: ' a, b ,a' })).toEqual(['a', 'b']);
    expect(legacyClientIdsFromEnv({ MCP_LEGACY_CLIENT_ID: '' })).toEqual([]);
  });
});

describe('the MCP resource from the environment', () => {
  it('is {MCP_PUBLIC_URL}/mcp normalized, else built from MCP_HOST and MCP_PORT', () => {
    expect(mcpResourceFromEnv({ MCP_PUBLIC_URL: 'HTTPS://MCP.Example.com/' })).toBe(
      'https://mcp.example.com/mcp',
    );
    expect(mcpResourceFromEnv({ MCP_PUBLIC_URL: 'https://mcp.example.com:443' })).toBe(
      'https://mcp.example.com/mcp',
    );
    expect(mcpResourceFromEnv({})).toBe('http://127.0.0.1:8000/mcp');
    expect(mcpResourceFromEnv({ MCP_HOST: '::1', MCP_PORT: '9000' })).toBe('http://[::1]:9000/mcp');
    expect(mcpResourceOf('http://127.0.0.1:8000')).toBe(
      RESOURCE.replace('https://gw.example.test', 'http://127.0.0.1:8000'),
    );
    expect(() => mcpResourceFromEnv({ MCP_PUBLIC_URL: 'ftp://x' })).toThrow(TypeError);
  });
});

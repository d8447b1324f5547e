/**
 * The whole OAuth 2.1 + MCP flow driven by oauth4webapi (an independent, strict client library):
 * discovery, dynamic registration, the login form, PKCE code exchange, MCP calls through to the 1C
 * emulator, refresh rotation, reuse detection, revocation, and a restart on the same SQLite file.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, loginForRedirect, startHarness } from './support/harness.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'http://127.0.0.1:53682/callback';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { REFRESH_REUSE_LEEWAY_MS: '0' } });
});
afterAll(async () => {
  await h?.close();
});

async function mcp(
  accessToken: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${h.server.publicUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('OAuth 2.1 + MCP end to end (oauth4webapi)', () => {
  let as: oauth.AuthorizationServer;
  let client: oauth.Client;
  let resource: string;
  let first: oauth.TokenEndpointResponse;
  let second: oauth.TokenEndpointResponse;

  it('discovers the protected resource and the authorization server', async () => {
    const resourceUrl = new URL(`${h.server.publicUrl}/mcp`);
    const unauthorized = await fetch(resourceUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unauthorized.status).toBe(401);
    const challenge = unauthorized.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain(
      `resource_metadata="${h.server.publicUrl}/.well-known/oauth-protected-resource/mcp"`,
    );

    const rs = await oauth.processResourceDiscoveryResponse(
      resourceUrl,
      await oauth.resourceDiscoveryRequest(resourceUrl, insecure),
    );
    expect(rs.authorization_servers).toEqual([h.server.publicUrl]);
    resource = rs.resource;
    const issuer = new URL(rs.authorization_servers![0]!);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.revocation_endpoint).toBe(`${h.server.publicUrl}/revoke`);
  });

  it('registers a public client dynamically', async () => {
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        { redirect_uris: [REDIRECT], client_name: 'oauth4webapi e2e', token_endpoint_auth_method: 'none' },
        insecure,
      ),
    );
    client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
    expect(client.client_id).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('logs in through the form and exchanges the code with PKCE', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'mcp',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource,
    }).toString();
    const callback = await loginForRedirect(url, 'ivanov', 'Пароль123');
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      REDIRECT,
      verifier,
      {
        ...insecure,
        additionalParameters: { resource },
      },
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('pragma')).toBe('no-cache');
    first = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(first.token_type).toBe('bearer');
    expect(first.expires_in).toBe(3600);
    expect(first.refresh_token).toBeTruthy();
    expect(first.scope).toBe('mcp');
  });

  it('calls MCP tools/list and tools/call through to 1C as the signed-in user', async () => {
    h.emulator.clearCalls();
    const init = await mcp(first.access_token, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } },
    });
    expect(init.status).toBe(200);
    expect(init.json.result).toMatchObject({ serverInfo: { name: 'oauth-cache-1c-gateway' } });

    const list = await mcp(first.access_token, { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    expect(list.status).toBe(200);
    const tools = (list.json.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['get_current_user', 'echo', 'list_catalog']));

    const call = await mcp(first.access_token, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'get_current_user', arguments: {} },
    });
    const text = (call.json.result as { content: Array<{ text: string }> }).content[0]!.text;
    expect(JSON.parse(text)).toMatchObject({ login: 'ivanov' });

    const rpcCalls = h.emulator.calls.filter((c) => c.endpoint === 'rpc');
    expect(rpcCalls.map((c) => c.rpcMethod)).toEqual(['tools/list', 'tools/call']);
    // The emulator saw the user's own 1C credentials (accepted Basic auth as ivanov), nothing else.
    expect(rpcCalls.every((c) => c.user === 'ivanov' && c.authorized)).toBe(true);
  });

  it('refreshes with rotation', async () => {
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), first.refresh_token!, {
      ...insecure,
      additionalParameters: { resource },
    });
    second = await oauth.processRefreshTokenResponse(as, client, response);
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect((await mcp(second.access_token, { jsonrpc: '2.0', id: 4, method: 'tools/list' })).status).toBe(
      200,
    );
  });

  it('survives a restart on the same SQLite file', async () => {
    await h.restart();
    const after = await mcp(second.access_token, { jsonrpc: '2.0', id: 5, method: 'tools/list' });
    expect(after.status).toBe(200);
    // The client registration survived as well: a new authorization with the same client works.
    const url = new URL(as.authorization_endpoint!);
    const verifier = oauth.generateRandomCodeVerifier();
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const page = await fetch(url);
    expect(page.status).toBe(200);
  });

  it('detects reuse of a rotated refresh token and revokes the whole family', async () => {
    const replay = await oauth.refreshTokenGrantRequest(
      as,
      client,
      oauth.None(),
      first.refresh_token!,
      insecure,
    );
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    const afterReuse = await mcp(second.access_token, { jsonrpc: '2.0', id: 6, method: 'tools/list' });
    expect(afterReuse.status).toBe(401);
    const refreshAgain = await oauth.refreshTokenGrantRequest(
      as,
      client,
      oauth.None(),
      second.refresh_token!,
      insecure,
    );
    expect(refreshAgain.status).toBe(400);
  });

  it('revokes tokens (RFC 7009), and answers 200 for unknown tokens', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource,
    }).toString();
    const callback = await loginForRedirect(url, 'demo', 'demo');
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        REDIRECT,
        verifier,
        insecure,
      ),
    );
    expect((await mcp(tokens.access_token, { jsonrpc: '2.0', id: 7, method: 'tools/list' })).status).toBe(
      200,
    );
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
    );
    expect((await mcp(tokens.access_token, { jsonrpc: '2.0', id: 8, method: 'tools/list' })).status).toBe(
      401,
    );
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), 'never-issued', insecure),
    );
  });
});

/**
 * A client that asks to register with a secret-based method (`client_secret_post`) is registered as
 * a public client (`token_endpoint_auth_method: none`, no secret; RFC 7591 §3.2.1 lets the server
 * replace requested values) and completes the code flow with PKCE, driven by oauth4webapi.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, loginForRedirect, startHarness } from './support/harness.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;
const REDIRECT = 'http://127.0.0.1:53690/callback';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What a client does with the registration response: authenticate the way the server answered. */
function clientAuthFor(registered: oauth.OmitSymbolProperties<oauth.Client>): oauth.ClientAuth {
  switch (registered.token_endpoint_auth_method) {
    case 'none':
      return oauth.None();
    case 'client_secret_post':
      return oauth.ClientSecretPost(String(registered.client_secret));
    default:
      throw new Error(`unexpected method ${String(registered.token_endpoint_auth_method)}`);
  }
}

describe('registration asking for client_secret_post', () => {
  it('is answered as a public client that completes the code flow with PKCE', async () => {
    const issuer = new URL(h.server.publicUrl);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        redirect_uris: [REDIRECT],
        client_name: 'asks for a secret',
        token_endpoint_auth_method: 'client_secret_post',
      },
      insecure,
    );
    expect(response.status).toBe(201);
    const registered = await oauth.processDynamicClientRegistrationResponse(response);
    expect(registered.token_endpoint_auth_method).toBe('none');
    expect(registered).not.toHaveProperty('client_secret');
    expect(registered).not.toHaveProperty('client_secret_expires_at');

    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' };
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
    }).toString();
    const callback = await loginForRedirect(url, 'demo', 'demo');
    const params = oauth.validateAuthResponse(as, client, callback, state);

    // A client that would send a secret anyway is told clients here are public.
    const withSecret = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.ClientSecretPost('made-up'),
      params,
      REDIRECT,
      verifier,
      insecure,
    );
    expect(withSecret.status).toBe(401);
    expect(await withSecret.json()).toMatchObject({ error: 'invalid_client' });

    // The code was not spent by the refused request: the client authenticates as it was told.
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuthFor(registered),
        params,
        REDIRECT,
        verifier,
        insecure,
      ),
    );
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();

    const mcp = await fetch(`${h.server.publicUrl}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(mcp.status).toBe(200);
  });
});

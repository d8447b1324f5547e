import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
  type AuthorizationServer,
} from '../src/index.js';
import { authorizeParams, ISSUER, newPkce, newServer, REDIRECT, RESOURCE } from './helpers.js';

async function outcome(as: AuthorizationServer, params: URLSearchParams): Promise<unknown> {
  return as.validateAuthorizationRequest(params).catch((e: unknown) => e);
}

async function setup() {
  const as = newServer();
  const client = await as.register({ redirect_uris: [REDIRECT, 'https://app.example/cb'], client_name: 'c' });
  return { as, clientId: client.client_id };
}

describe('authorization request validation', () => {
  it('accepts a complete request and defaults scope and resource', async () => {
    const { as, clientId } = await setup();
    const pkce = newPkce();
    const params = authorizeParams(clientId, pkce);
    params.delete('resource');
    const request = await as.validateAuthorizationRequest(params);
    expect(request).toMatchObject({
      clientId,
      redirectUri: REDIRECT,
      redirectUriExplicit: true,
      state: 'st-1',
      scopes: ['mcp'],
      codeChallenge: pkce.challenge,
      resource: RESOURCE,
    });
  });

  it('accepts another port on a registered loopback redirect URI', async () => {
    const { as, clientId } = await setup();
    const request = await as.validateAuthorizationRequest(
      authorizeParams(clientId, newPkce(), { redirect_uri: 'http://127.0.0.1:61000/callback' }),
    );
    expect(request.redirectUri).toBe('http://127.0.0.1:61000/callback');
  });

  it('never redirects when the client or redirect URI is bad', async () => {
    const { as, clientId } = await setup();
    const pkce = newPkce();
    const cases: URLSearchParams[] = [
      authorizeParams('unknown-client-id-0000000000', pkce),
      authorizeParams(clientId, pkce, { redirect_uri: 'https://evil.example/cb' }),
      authorizeParams(clientId, pkce, { redirect_uri: 'https://app.example/cb/../evil' }),
      authorizeParams(clientId, pkce, { redirect_uri: 'https://app.example/cb?x=1' }),
      (() => {
        const p = authorizeParams(clientId, pkce);
        p.delete('client_id');
        return p;
      })(),
      (() => {
        const p = authorizeParams(clientId, pkce);
        p.append('redirect_uri', 'https://evil.example/cb');
        return p;
      })(),
      (() => {
        // Several registered URIs and none named: which one is ambiguous.
        const p = authorizeParams(clientId, pkce);
        p.delete('redirect_uri');
        return p;
      })(),
    ];
    for (const params of cases) {
      const e = await outcome(as, params);
      expect(e).toBeInstanceOf(AuthorizationPageError);
    }
  });

  it('redirects other errors to the registered URI with state and iss', async () => {
    const { as, clientId } = await setup();
    const pkce = newPkce();
    const cases: Array<[Record<string, string>, string]> = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ scope: 'admin' }, 'invalid_scope'],
      [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
    ];
    for (const [extra, error] of cases) {
      const e = await outcome(as, authorizeParams(clientId, pkce, extra));
      expect(e).toBeInstanceOf(AuthorizationRedirectError);
      const location = new URL((e as AuthorizationRedirectError).location);
      expect(location.origin + location.pathname).toBe(REDIRECT);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('state')).toBe('st-1');
      expect(location.searchParams.get('iss')).toBe(ISSUER);
    }
    const missingChallenge = authorizeParams(clientId, pkce);
    missingChallenge.delete('code_challenge');
    expect(await outcome(as, missingChallenge)).toBeInstanceOf(AuthorizationRedirectError);
    const duplicatedState = authorizeParams(clientId, pkce);
    duplicatedState.append('state', 'again');
    const dup = (await outcome(as, duplicatedState)) as AuthorizationRedirectError;
    expect(dup).toBeInstanceOf(AuthorizationRedirectError);
    expect(new URL(dup.location).searchParams.get('error')).toBe('invalid_request');
  });

  it('property: whatever the parameters, a redirect only ever goes to a registered URI', async () => {
    const { as, clientId } = await setup();
    const value = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.constantFrom(
        REDIRECT,
        'http://127.0.0.1:1/callback',
        'https://app.example/cb',
        clientId,
        'S256',
        'code',
      ),
    );
    const names = fc.constantFrom(
      'client_id',
      'redirect_uri',
      'response_type',
      'state',
      'scope',
      'code_challenge',
      'code_challenge_method',
      'resource',
    );
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(names, value), { maxLength: 10 }),
        fc.boolean(),
        async (pairs, base) => {
          tried += 1;
          const params = base ? authorizeParams(clientId, newPkce()) : new URLSearchParams();
          for (const [k, v] of pairs) params.append(k, v);
          const result = await outcome(as, params);
          if (result instanceof AuthorizationRedirectError) {
            const target = new URL(result.location);
            target.search = '';
            const registered = [REDIRECT, 'https://app.example/cb'];
            const loopback = target.hostname === '127.0.0.1' && target.pathname === '/callback';
            expect(registered.includes(target.href) || loopback).toBe(true);
          } else if (!(result instanceof AuthorizationPageError)) {
            expect(result).toMatchObject({ clientId });
          }
        },
      ),
      { numRuns: 300 },
    );
    console.log(`authorize open-redirect property: ${tried} inputs tried`);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OAuthError } from '../src/index.js';
import { authorizeToCode, newCache, newPkce, newServer, REDIRECT, RESOURCE, tokenParams } from './helpers.js';

async function tokenError(promise: Promise<unknown>): Promise<OAuthError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OAuthError);
  return e as OAuthError;
}

function codeParams(clientId: string, code: string, verifier: string, extra: Record<string, string> = {}) {
  return tokenParams({
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    resource: RESOURCE,
    ...extra,
  });
}

describe('authorization_code grant', () => {
  it('exchanges a code once, binds the token to user, client, resource and 1C credentials', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as, 'ivanov', 'Пароль123');
    const tokens = await as.token(codeParams(clientId, code, pkce.verifier));
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mcp' });
    expect(tokens.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const validation = await cache.validateAccessToken(tokens.access_token);
    expect(validation).toMatchObject({
      userId: 'ivanov',
      clientId,
      resource: RESOURCE,
      scopes: ['mcp'],
      userData: { login: 'ivanov', password: 'Пароль123' },
    });
  });

  it('never stores the code, the password or the tokens in the clear', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as, 'demo', 'secret-password-x');
    const stored: string[] = [];
    for await (const entry of cache.store.entries(cache.key(''))) stored.push(JSON.stringify(entry));
    expect(stored.join('\n')).not.toContain('secret-password-x');
    expect(stored.join('\n')).not.toContain(code);
    const tokens = await as.token(codeParams(clientId, code, pkce.verifier));
    const after: string[] = [];
    for await (const entry of cache.store.entries(cache.key(''))) after.push(JSON.stringify(entry));
    expect(after.join('\n')).not.toContain('secret-password-x');
    expect(after.join('\n')).not.toContain(tokens.access_token);
  });

  it("links a code to its grant: the code's record holds a wrapped grant key, the tokens join that grant", async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as, 'ivanov', 'code-grant-password');
    const records = async () => {
      const out = new Map<string, Record<string, unknown>>();
      for await (const entry of cache.store.entries(cache.key('')))
        out.set(entry.key.slice(cache.key('').length), entry.value as Record<string, unknown>);
      return out;
    };
    const before = await records();
    const codeRecord = [...before].find(([key]) => key.startsWith('x:code:'))![1];
    // Its kind, expiry, grant id, wrapped grant key and its own request (redirect URI, PKCE
    // challenge: sealed with the server key at this level), nothing else.
    expect(Object.keys(codeRecord).sort()).toEqual(['body', 'exp', 'g', 'kind', 'v', 'wk']);
    expect(codeRecord).toMatchObject({
      kind: 'code',
      g: expect.any(String),
      wk: expect.stringMatching(/^t1\./),
    });
    const grantKey = `g:${codeRecord.g as string}`;
    expect(before.get(grantKey)?.gp).toMatch(/^g1\./);
    // The server's keys open the grant, not the credentials.
    const opened = JSON.stringify(cache.readStoredRecord(grantKey, before.get(grantKey)));
    expect(opened).toContain('ivanov');
    expect(opened).not.toContain('code-grant-password');

    const tokens = await as.token(codeParams(clientId, code, pkce.verifier));
    const after = await records();
    const tokenRecords = [...after].filter(([key]) => key.startsWith('at:') || key.startsWith('rt:'));
    expect(tokenRecords).toHaveLength(2);
    for (const [, record] of tokenRecords) expect(record.g).toBe(codeRecord.g);
    expect([...after.keys()].filter((key) => key.startsWith('g:'))).toEqual([grantKey]);
    expect([...after.keys()].some((key) => key.startsWith('x:code:'))).toBe(false);
    expect(await cache.validateAccessToken(tokens.access_token)).toMatchObject({
      userId: 'ivanov',
      familyId: codeRecord.g,
      userData: { login: 'ivanov', password: 'code-grant-password' },
    });
    // The refresh token rotates within the code's grant.
    const rotated = await as.token(
      tokenParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.refresh_token! }),
    );
    expect(await cache.validateAccessToken(rotated.access_token)).toMatchObject({
      familyId: codeRecord.g,
      userData: { login: 'ivanov', password: 'code-grant-password' },
    });
  });

  it('redeems a code the previous release stored (its grant sealed under the code)', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const client = await as.register({ redirect_uris: [REDIRECT], client_name: 'Before the upgrade' });
    const pkce = newPkce();
    const code = randomBytes(32).toString('base64url');
    const digest = cache.digest(code);
    const grant = {
      clientId: client.client_id,
      redirectUri: REDIRECT,
      redirectUriExplicit: true,
      codeChallenge: pkce.challenge,
      scopes: ['mcp'],
      resource: RESOURCE,
      login: 'petrov',
      password: 'old-release-password',
    };
    const sealed = cache.sealFor(code, grant, `oauth-cache:authorization-code:${digest}`);
    await cache.store.set(cache.key(`x:code:${digest}`), { v: 1, exp: Date.now() + 60_000, sealed }, 60_000);
    const tokens = await as.token(codeParams(client.client_id, code, pkce.verifier));
    expect(await cache.validateAccessToken(tokens.access_token)).toMatchObject({
      userId: 'petrov',
      userData: { login: 'petrov', password: 'old-release-password' },
    });
    await expect(as.token(codeParams(client.client_id, code, pkce.verifier))).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await cache.validateAccessToken(tokens.access_token)).toBeNull();
  });

  it('a replayed code fails and revokes the tokens of the first exchange', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as);
    const first = await as.token(codeParams(clientId, code, pkce.verifier));
    expect(await cache.validateAccessToken(first.access_token)).not.toBeNull();
    const e = await tokenError(as.token(codeParams(clientId, code, pkce.verifier)));
    expect(e.error).toBe('invalid_grant');
    expect(e.description).toMatch(/already used/);
    expect(await cache.validateAccessToken(first.access_token)).toBeNull();
    const r = await tokenError(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: first.refresh_token!,
        }),
      ),
    );
    expect(r.error).toBe('invalid_grant');
  });

  it('of two concurrent exchanges of one code at most one yields live tokens', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as);
    const results = await Promise.allSettled([
      as.token(codeParams(clientId, code, pkce.verifier)),
      as.token(codeParams(clientId, code, pkce.verifier)),
    ]);
    const live = [];
    for (const r of results) {
      if (r.status === 'fulfilled' && (await cache.validateAccessToken(r.value.access_token))) live.push(r);
    }
    expect(live.length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThanOrEqual(1);
  });

  it('rejects a wrong verifier, client, redirect URI or resource with the RFC error', async () => {
    const as = newServer();
    const other = await as.register({ redirect_uris: [REDIRECT] });
    type Build = (c: { clientId: string; code: string; verifier: string }) => URLSearchParams;
    const cases: Array<[Build, string]> = [
      [(c) => codeParams(c.clientId, c.code, newPkce().verifier), 'invalid_grant'],
      [(c) => codeParams(other.client_id, c.code, c.verifier), 'invalid_grant'],
      [
        (c) => codeParams(c.clientId, c.code, c.verifier, { redirect_uri: 'http://127.0.0.1:1/other' }),
        'invalid_grant',
      ],
      [
        (c) => codeParams(c.clientId, c.code, c.verifier, { resource: 'https://evil.example/mcp' }),
        'invalid_target',
      ],
      [(c) => codeParams(c.clientId, 'A'.repeat(43), c.verifier), 'invalid_grant'],
      [(c) => codeParams(c.clientId, c.code, 'short'), 'invalid_grant'],
    ];
    for (const [build, error] of cases) {
      const { clientId, code, pkce } = await authorizeToCode(as);
      const e = await tokenError(as.token(build({ clientId, code, verifier: pkce.verifier })));
      expect(e.error).toBe(error);
    }
  });

  it('maps malformed requests to RFC 6749 §5.2 errors', async () => {
    const as = newServer();
    const { clientId, code, pkce } = await authorizeToCode(as);
    const base = codeParams(clientId, code, pkce.verifier);
    const dup = new URLSearchParams(base);
    dup.append('code', 'x');
    const cases: Array<[URLSearchParams, string, string?]> = [
      [new URLSearchParams(), 'invalid_request'],
      [dup, 'invalid_request'],
      [tokenParams({ grant_type: 'password', username: 'demo', password: 'demo' }), 'unsupported_grant_type'],
      [tokenParams({ grant_type: 'client_credentials' }), 'unsupported_grant_type'],
      [tokenParams({ grant_type: 'authorization_code', code }), 'invalid_client'],
      [
        tokenParams({ grant_type: 'authorization_code', client_id: 'nope-nope-nope-nope', code }),
        'invalid_client',
      ],
      [
        tokenParams({ grant_type: 'authorization_code', client_id: clientId, client_secret: 's', code }),
        'invalid_client',
      ],
      [
        tokenParams({ grant_type: 'authorization_code', client_id: clientId, code_verifier: pkce.verifier }),
        'invalid_request',
      ],
      [tokenParams({ grant_type: 'authorization_code', client_id: clientId, code }), 'invalid_request'],
      [tokenParams({ grant_type: 'refresh_token', client_id: clientId }), 'invalid_request'],
      [
        tokenParams({ grant_type: 'authorization_code', client_id: clientId, code: 'x'.repeat(5000) }),
        'invalid_request',
      ],
    ];
    for (const [params, error] of cases) {
      const e = await tokenError(as.token(params));
      expect(e.error).toBe(error);
      expect(e.status).toBe(error === 'invalid_client' ? 401 : 400);
    }
    const basic = await tokenError(as.token(base, { authorization: 'Basic YTpi' }));
    expect(basic.error).toBe('invalid_client');
  });

  it('refuses a grant type the client did not register', async () => {
    const as = newServer();
    const client = await as.register({ redirect_uris: [REDIRECT], grant_types: ['authorization_code'] });
    const e = await tokenError(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: client.client_id,
          refresh_token: 'x'.repeat(43),
        }),
      ),
    );
    expect(e.error).toBe('unauthorized_client');
  });
});

describe('refresh_token grant', () => {
  it('rotates, keeps the user credentials and detects reuse by revoking the family', async () => {
    const cache = newCache({ reuseLeewayMs: 0 });
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as, 'demo', 'demo');
    const first = await as.token(codeParams(clientId, code, pkce.verifier));
    const second = await as.token(
      tokenParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: first.refresh_token! }),
    );
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.expires_in).toBe(3600);
    expect(await cache.validateAccessToken(second.access_token)).toMatchObject({
      userId: 'demo',
      resource: RESOURCE,
      userData: { login: 'demo', password: 'demo' },
    });
    await new Promise((r) => setTimeout(r, 5));
    const reuse = await tokenError(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: first.refresh_token!,
        }),
      ),
    );
    expect(reuse.error).toBe('invalid_grant');
    expect(await cache.validateAccessToken(second.access_token)).toBeNull();
    const after = await tokenError(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: second.refresh_token!,
        }),
      ),
    );
    expect(after.error).toBe('invalid_grant');
  });

  it('refuses another client, a wider scope and a foreign resource without consuming the token', async () => {
    const as = newServer();
    const { clientId, code, pkce } = await authorizeToCode(as);
    const other = await as.register({ redirect_uris: [REDIRECT] });
    const tokens = await as.token(codeParams(clientId, code, pkce.verifier));
    const rt = tokens.refresh_token!;
    const mismatch = await tokenError(
      as.token(tokenParams({ grant_type: 'refresh_token', client_id: other.client_id, refresh_token: rt })),
    );
    expect(mismatch.error).toBe('invalid_grant');
    const wider = await tokenError(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: rt,
          scope: 'mcp admin',
        }),
      ),
    );
    expect(wider.error).toBe('invalid_scope');
    const foreign = await tokenError(
      as.token(
        tokenParams({
          grant_type: 'refresh_token',
          client_id: clientId,
          refresh_token: rt,
          resource: 'https://x.example/',
        }),
      ),
    );
    expect(foreign.error).toBe('invalid_target');
    const ok = await as.token(
      tokenParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: rt }),
    );
    expect(ok.access_token).toBeTruthy();
  });

  it('answers invalid_grant for unknown refresh tokens', async () => {
    const as = newServer();
    const { clientId } = await authorizeToCode(as);
    const e = await tokenError(
      as.token(
        tokenParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: 'z'.repeat(43) }),
      ),
    );
    expect(e.error).toBe('invalid_grant');
  });
});

describe('revocation (RFC 7009)', () => {
  it('revokes refresh tokens with their family, access tokens alone, and accepts unknown tokens', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as);
    const tokens = await as.token(codeParams(clientId, code, pkce.verifier));
    await as.revoke(tokenParams({ token: 'unknown-token-value', client_id: clientId }));
    await as.revoke(tokenParams({ token: 'x'.repeat(9000), client_id: clientId }));
    expect(await cache.validateAccessToken(tokens.access_token)).not.toBeNull();

    await as.revoke(
      tokenParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: clientId }),
    );
    expect(await cache.validateAccessToken(tokens.access_token)).toBeNull();
  });

  it('does not let another client revoke a token, and rejects malformed requests', async () => {
    const cache = newCache();
    const as = newServer(cache);
    const { clientId, code, pkce } = await authorizeToCode(as);
    const other = await as.register({ redirect_uris: [REDIRECT] });
    const tokens = await as.token(codeParams(clientId, code, pkce.verifier));
    await as.revoke(tokenParams({ token: tokens.access_token, client_id: other.client_id }));
    expect(await cache.validateAccessToken(tokens.access_token)).not.toBeNull();

    expect((await tokenError(as.revoke(new URLSearchParams()))).error).toBe('invalid_request');
    const dup = tokenParams({ token: 'a' });
    dup.append('token', 'b');
    expect((await tokenError(as.revoke(dup))).error).toBe('invalid_request');
    expect(
      (await tokenError(as.revoke(tokenParams({ token: 'a', client_id: 'unknown-unknown-1' })))).error,
    ).toBe('invalid_client');
    // A public client must name itself (RFC 7009 §2.1): without client_id nothing is revoked.
    const anonymous = await tokenError(as.revoke(tokenParams({ token: tokens.access_token })));
    expect(anonymous).toMatchObject({ error: 'invalid_request', status: 400 });
    expect(anonymous.description).toMatch(/client_id is missing/);
    expect(await cache.validateAccessToken(tokens.access_token)).not.toBeNull();
    await as.revoke(tokenParams({ token: tokens.access_token, client_id: clientId }));
    expect(await cache.validateAccessToken(tokens.access_token)).toBeNull();
  });
});

describe('a full token cache (MAX_TOKEN_CACHE_SIZE)', () => {
  it('answers 503 temporarily_unavailable with Retry-After for a code exchange and a refresh, and leaves the tokens of other users alone', async () => {
    // Room for two logins (2 tokens each) and nothing more.
    const cache = newCache({ maxTokens: 4, reuseLeewayMs: 0 });
    const as = newServer(cache);
    const other = await authorizeToCode(as, 'ivanov', 'Пароль123');
    const otherTokens = await as.token(codeParams(other.clientId, other.code, other.pkce.verifier));
    const mine = await authorizeToCode(as, 'demo', 'demo');
    const myTokens = await as.token(codeParams(mine.clientId, mine.code, mine.pkce.verifier));

    const third = await authorizeToCode(as, 'petrov', 'petrov');
    const refused = await tokenError(as.token(codeParams(third.clientId, third.code, third.pkce.verifier)));
    expect(refused).toMatchObject({ error: 'temporarily_unavailable', status: 503, retryAfterSeconds: 60 });
    expect(refused.toJSON().error_description).toMatch(/retry later/);

    const refreshParams = tokenParams({
      grant_type: 'refresh_token',
      client_id: mine.clientId,
      refresh_token: myTokens.refresh_token!,
    });
    const refreshRefused = await tokenError(as.token(refreshParams));
    expect(refreshRefused).toMatchObject({
      error: 'temporarily_unavailable',
      status: 503,
      retryAfterSeconds: 60,
    });

    for (const tokens of [otherTokens, myTokens]) {
      expect(await cache.validateAccessToken(tokens.access_token)).not.toBeNull();
      expect(await cache.inspectRefreshToken(tokens.refresh_token!)).not.toBeNull();
    }
    expect(await cache.getTokensForUser('petrov')).toEqual([]);
    // The refused refresh left the token usable: once there is room, the same request succeeds.
    await as.revoke(tokenParams({ token: otherTokens.refresh_token!, client_id: other.clientId }));
    const rotated = await as.token(refreshParams);
    expect(await cache.validateAccessToken(rotated.access_token)).toMatchObject({ userId: 'demo' });
  });
});

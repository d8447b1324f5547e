/**
 * Retry-safe refresh rotation through the real server (RFC 9700 §4.14.2): a client that lost the
 * `/token` response presents the same refresh token again and gets a working pair (driven by
 * oauth4webapi, a strict client); a presentation by another client id revokes the grant, and the
 * security log names the client's address (X-Forwarded-For, MCP_TRUST_PROXY) and never a token.
 */
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, obtainTokens, startHarness } from './support/harness.js';
import { type LogCapture, logCapture } from './support/log-capture.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

let h: Harness;
let capture: LogCapture;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  capture = logCapture();
  // 30 s instead of the default 2 s: a slow machine must not turn the retry into reuse.
  h = await startHarness({
    env: { REFRESH_REUSE_LEEWAY_MS: '30000', MCP_TRUST_PROXY: 'true' },
    logger: capture.logger,
  });
  const issuer = new URL(h.server.publicUrl);
  as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
  );
});
afterAll(async () => {
  await h?.close();
});

const toolsList = async (accessToken: string) =>
  (
    await fetch(`${h.server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    })
  ).status;

/** A refresh request as oauth4webapi sends it, through a proxy that saw `clientAddress`. */
const refreshRequest = (clientId: string, refreshToken: string, clientAddress = '192.0.2.44') =>
  oauth.refreshTokenGrantRequest(
    as,
    { client_id: clientId, token_endpoint_auth_method: 'none' },
    oauth.None(),
    refreshToken,
    { ...insecure, headers: { 'x-forwarded-for': clientAddress } },
  );

describe('refresh_token grant through the server: a lost response', () => {
  it('the client presents the same refresh token again and gets a working pair; the pair it missed is revoked', async () => {
    const tokens = await obtainTokens(h.server.url, 'ivanov', 'Пароль123');
    const client = { client_id: tokens.client_id, token_endpoint_auth_method: 'none' } as const;
    // The first answer never reaches the client (connection dropped after the server sent it).
    const missed = (await (await refreshRequest(tokens.client_id, tokens.refresh_token)).json()) as {
      access_token: string;
      refresh_token: string;
    };
    const retried = await oauth.processRefreshTokenResponse(
      as,
      client,
      await refreshRequest(tokens.client_id, tokens.refresh_token),
    );
    expect(retried.access_token).not.toBe(missed.access_token);
    expect(await toolsList(retried.access_token)).toBe(200);
    expect(await toolsList(missed.access_token)).toBe(401);
    const next = await oauth.processRefreshTokenResponse(
      as,
      client,
      await refreshRequest(tokens.client_id, retried.refresh_token!),
    );
    expect(await toolsList(next.access_token)).toBe(200);
    expect(capture.lines).toContainEqual(
      expect.objectContaining({ event: 'refresh_retry', clientAddress: '192.0.2.44' }),
    );
  });

  it('another client id presenting the rotated refresh token revokes the grant; the log names its address', async () => {
    const tokens = await obtainTokens(h.server.url, 'ivanov', 'Пароль123');
    const other = await obtainTokens(h.server.url, 'demo', 'demo');
    const first = await oauth.processRefreshTokenResponse(
      as,
      { client_id: tokens.client_id, token_endpoint_auth_method: 'none' },
      await refreshRequest(tokens.client_id, tokens.refresh_token),
    );
    const stolen = await refreshRequest(other.client_id, tokens.refresh_token, '198.51.100.23');
    expect(stolen.status).toBe(400);
    expect(await stolen.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await toolsList(first.access_token)).toBe(401);
    expect((await refreshRequest(tokens.client_id, first.refresh_token!)).status).toBe(400);
    // The other client's own grant is untouched.
    expect(await toolsList(other.access_token)).toBe(200);
    await expect
      .poll(() => capture.lines.find((line) => line.event === 'reuse_detected'), { timeout: 10_000 })
      .toMatchObject({
        name: 'security',
        level: 40,
        clientId: other.client_id,
        clientAddress: '198.51.100.23',
        reason: 'other_client',
      });
    const logged = capture.text();
    for (const secret of [tokens.refresh_token, first.refresh_token!, first.access_token])
      expect(logged).not.toContain(secret);
  });
});

/** Discovery documents and the status routes from @oauth-cache/koa, as mounted by the server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, obtainTokens, startHarness } from './support/harness.js';

const STATUS_TOKEN = 'status-token-for-tests-0123456789';
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { OAUTH_CACHE_STATUS_TOKEN: STATUS_TOKEN } });
});
afterAll(async () => {
  await h?.close();
});

describe('discovery', () => {
  it('serves RFC 9728 metadata at the path-suffixed and root locations, and RFC 8414 metadata', async () => {
    const base = h.server.publicUrl;
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource: `${base}/mcp`,
        authorization_servers: [base],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp'],
        resource_name: '1C MCP gateway',
      });
    }
    const as = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(as).toMatchObject({
      issuer: base,
      registration_endpoint: `${base}/register`,
      revocation_endpoint: `${base}/revoke`,
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
    });
    expect(JSON.stringify(as)).not.toContain('password');
  });
});

describe('status routes', () => {
  it('serves /health publicly and guards /cache/status and /metrics with the status token', async () => {
    const base = h.server.publicUrl;
    await obtainTokens(base, 'demo', 'demo');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: { kind: 'sqlite', ok: true } });
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });

    expect((await fetch(`${base}/cache/status`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const auth = { authorization: `Bearer ${STATUS_TOKEN}` };
    const status = (await (await fetch(`${base}/cache/status`, { headers: auth })).json()) as {
      summary: { totalActiveTokens: number; totalUsers: number };
    };
    expect(status.summary.totalActiveTokens).toBeGreaterThanOrEqual(2);
    expect(status.summary.totalUsers).toBeGreaterThanOrEqual(1);
    const metrics = await fetch(`${base}/metrics`, { headers: auth });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^# HELP /m);
    expect(text).not.toContain('demo');
  });
});

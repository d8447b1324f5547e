/**
 * Issue 19, gate 3: the MCP TypeScript SDK v2 client (`@modelcontextprotocol/client` 2.4.0, on the
 * project's Node 20, in-process) does the whole OAuth flow by itself against the real server:
 * 401 + resource metadata discovery, dynamic registration, PKCE authorization URL; the user logs in
 * through the real login form (`demo`/`demo`); the SDK redeems the code and calls 1C tools, pinned
 * to 2026-07-28 and in auto mode.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from './support/gateway.js';
import { HeadlessOAuthProvider } from './support/headless-oauth-provider.js';
import { loginAt } from './support/login-form.js';

const MODERN = '2026-07-28';

let gateway: Gateway;

/** Connect with `provider`, log in when the SDK asks, finish the flow; resolves a connected client. */
async function connectWithLogin(
  mode: 'auto' | { pin: string },
  provider: HeadlessOAuthProvider,
): Promise<Client> {
  const mcpUrl = new URL(`${gateway.serverUrl}/mcp`);
  const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  const unauthenticated = new Client(
    { name: 'third-party-gate', version: '1.0.0' },
    { versionNegotiation: { mode } },
  );
  await expect(unauthenticated.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  await unauthenticated.close().catch(() => undefined);
  expect(provider.registered?.client_id).toEqual(expect.any(String));
  const authorizationUrl = provider.authorizationUrl as URL;
  expect(authorizationUrl.href.startsWith(`${gateway.serverUrl}/authorize?`)).toBe(true);
  expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorizationUrl.searchParams.get('resource')).toBe(mcpUrl.href);

  const callback = await loginAt(authorizationUrl);
  await first.finishAuth(provider.callbackParams(callback));
  expect(provider.tokens()?.access_token).toEqual(expect.any(String));

  const client = new Client({ name: 'third-party-gate', version: '1.0.0' }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
  return client;
}

describe('MCP SDK v2 client: headless OAuth, then 1C tools', () => {
  beforeAll(async () => {
    gateway = await startGateway();
  }, 240_000);

  afterAll(async () => {
    await gateway?.stop();
  }, 60_000);

  for (const mode of [{ pin: MODERN }, 'auto'] as const) {
    const label = typeof mode === 'string' ? 'auto mode' : `pinned to ${mode.pin}`;
    it(`${label}: logs in through the form, negotiates ${MODERN} and calls tools as demo`, async () => {
      const started = performance.now();
      const provider = new HeadlessOAuthProvider();
      const client = await connectWithLogin(mode, provider);
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
        expect(client.getServerVersion()?.name).toBe('oauth-cache-1c-gateway');
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toEqual(
          expect.arrayContaining(['get_current_user', 'echo', 'list_catalog']),
        );
        const echoed = await client.callTool({ name: 'echo', arguments: { text: 'привет, SDK v2' } });
        expect(echoed.content).toEqual([{ type: 'text', text: 'привет, SDK v2' }]);
        const me = await client.callTool({ name: 'get_current_user', arguments: {} });
        const text = (me.content as Array<{ type: string; text?: string }>)[0]?.text ?? '';
        expect((JSON.parse(text) as { login: string }).login).toBe('demo');
      } finally {
        await client.close();
      }
      console.log(`FIGURES sdk v2 ${label}: flow + 3 calls ${Math.round(performance.now() - started)} ms`);
    }, 120_000);
  }
});

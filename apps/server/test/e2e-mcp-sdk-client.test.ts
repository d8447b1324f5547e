/**
 * The MCP TypeScript SDK client's own OAuth flow against the server: 401 -> resource metadata ->
 * AS metadata -> dynamic registration -> authorization (the provider submits the login form with
 * fetch, as a user would in a browser) -> finishAuth -> tools listed from the 1C emulator.
 */

import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, loginForRedirect, startHarness } from './support/harness.js';

const REDIRECT = 'http://localhost:48123/oauth/callback';

/** An in-memory provider whose "browser" is fetch submitting the login form. */
class FormLoginProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  /** The code the redirect delivered. */
  code?: string;
  redirects = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  get redirectUrl(): string {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP SDK e2e',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url: URL): Promise<void> {
    this.redirects += 1;
    const callback = await loginForRedirect(url, this.username, this.password);
    this.code = callback.searchParams.get('code') ?? undefined;
  }
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('MCP SDK client with its OAuth provider', () => {
  it('completes the authorization and lists the 1C tools', async () => {
    const url = new URL(`${h.server.publicUrl}/mcp`);
    const provider = new FormLoginProvider('demo', 'demo');
    const first = new Client({ name: 'sdk-e2e', version: '1.0.0' });
    await expect(
      first.connect(new StreamableHTTPClientTransport(url, { authProvider: provider })),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.redirects).toBe(1);
    expect(provider.client?.client_id).toBeTruthy();
    expect(provider.code).toBeTruthy();

    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await transport.finishAuth(provider.code!);
    expect(provider.saved?.access_token).toBeTruthy();
    expect(provider.saved?.refresh_token).toBeTruthy();

    const client = new Client({ name: 'sdk-e2e', version: '1.0.0' });
    h.emulator.clearCalls();
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['get_current_user', 'echo', 'list_catalog']),
    );
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'привет' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'привет' }]);
    const prompts = await client.listPrompts();
    expect(Array.isArray(prompts.prompts)).toBe(true);
    const resources = await client.listResources();
    expect(Array.isArray(resources.resources)).toBe(true);
    expect(
      h.emulator.calls.filter((c) => c.endpoint === 'rpc').every((c) => c.user === 'demo' && c.authorized),
    ).toBe(true);
    await client.close();
  });
});

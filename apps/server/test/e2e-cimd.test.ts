/**
 * Client ID Metadata Documents end to end: the MCP SDK client, holding only an https URL as its
 * client id (`clientMetadataUrl`, no registration), authorizes against the real server, whose
 * fetch reads the document from a real https server on 127.0.0.1. `cimd.test` reaches that server
 * only through the test-only `resolveHost` hook; nothing connects outside 127.0.0.0/8.
 */
import type { LookupAddress } from 'node:dns';
import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DocServer, startDocServer } from './support/cimd-doc-server.js';
import { type Harness, loginForRedirect, startHarness } from './support/harness.js';

const REDIRECT = 'http://localhost:48124/oauth/callback';
const toLoopback = async (): Promise<LookupAddress[]> => [{ address: '127.0.0.1', family: 4 }];

/** A provider that has no registration, only a client metadata URL; its "browser" is fetch. */
class MetadataUrlProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  code?: string;
  redirects = 0;

  constructor(readonly clientMetadataUrl: string) {}

  get redirectUrl(): string {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP SDK CIMD e2e',
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
    const callback = await loginForRedirect(url, 'demo', 'demo');
    this.code = callback.searchParams.get('code') ?? undefined;
  }
}

let docs: DocServer;
let h: Harness;
let clientId: string;

beforeAll(async () => {
  docs = await startDocServer();
  clientId = `https://cimd.test:${docs.port}/client.json`;
  docs.serve('/client.json', {
    client_id: clientId,
    client_name: 'MCP SDK CIMD e2e',
    redirect_uris: [REDIRECT],
  });
  h = await startHarness({
    clientMetadataFetch: { allowLoopback: true, resolveHost: toLoopback, ca: docs.cert },
  });
});
afterAll(async () => {
  await h?.close();
  await docs?.close();
});

describe('client ID metadata documents', () => {
  it('advertises CIMD support and keeps dynamic registration', async () => {
    const res = await fetch(`${h.server.publicUrl}/.well-known/oauth-authorization-server`);
    const metadata = (await res.json()) as Record<string, unknown>;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
    expect(metadata.registration_endpoint).toBe(`${h.server.publicUrl}/register`);
  });

  it('lets the MCP SDK client authorize with its metadata URL and call 1C', async () => {
    const url = new URL(`${h.server.publicUrl}/mcp`);
    const provider = new MetadataUrlProvider(clientId);
    await expect(
      new Client({ name: 'cimd-e2e', version: '1.0.0' }).connect(
        new StreamableHTTPClientTransport(url, { authProvider: provider }),
      ),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.redirects).toBe(1);
    expect(provider.client?.client_id).toBe(clientId);
    expect(provider.code).toBeTruthy();

    const transport = new StreamableHTTPClientTransport(url, { authProvider: provider });
    await transport.finishAuth(provider.code as string);
    expect(provider.saved?.access_token).toBeTruthy();

    const client = new Client({ name: 'cimd-e2e', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo']));
    await client.close();
    // The page, the login POST and the token exchange were served by one cached fetch.
    expect(docs.hits.get('/client.json')).toBe(1);
  });

  it('shows an error page for a document that names another client_id', async () => {
    const other = `https://cimd.test:${docs.port}/impostor.json`;
    docs.serve('/impostor.json', { client_id: clientId, redirect_uris: [REDIRECT] });
    const res = await fetch(
      `${h.server.publicUrl}/authorize?${new URLSearchParams({
        client_id: other,
        redirect_uri: REDIRECT,
        response_type: 'code',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('does not equal');
  });
});

describe('client ID metadata documents without the test-only loopback allowance', () => {
  let strict: Harness;
  beforeAll(async () => {
    strict = await startHarness({ clientMetadataFetch: { resolveHost: toLoopback, ca: docs.cert } });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('refuses a document host that resolves to loopback, without connecting', async () => {
    const before = docs.connections;
    const authorize = await fetch(
      `${strict.server.publicUrl}/authorize?${new URLSearchParams({
        client_id: clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );
    expect(authorize.status).toBe(400);
    expect(await authorize.text()).toContain('refused');
    const token = await fetch(`${strict.server.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'x'.repeat(43),
        client_id: clientId,
      }),
    });
    expect(token.status).toBe(401);
    expect(((await token.json()) as { error: string }).error).toBe('invalid_client');
    expect(docs.connections).toBe(before);
  });
});

/**
 * DNS rebinding protection: `/mcp` and the OAuth endpoints answer only the hosts of the public URL,
 * the loopback names of a loopback listener and `MCP_ALLOWED_HOSTS`; `/mcp` answers only pages of
 * the public origin and `MCP_ALLOWED_ORIGINS`. Real server on 127.0.0.1, real HTTP (node:http, so
 * the `Host` header can be anything), the real 1C emulator.
 */
import { connect } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ConfigError } from '@oauth-cache/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress, loadServerConfig, normalizeOrigin } from '../src/index.js';
import { fixedSecrets, type Harness, obtainTokens, startHarness } from './support/harness.js';
import { type RawResponse, rawRequest } from './support/http.js';

const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};

/** POST tools/list to `/mcp` of `h` with the given headers (and the token when given). */
function mcpCall(h: Harness, headers: Record<string, string>, token?: string): Promise<RawResponse> {
  return rawRequest(`${h.server.url}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: TOOLS_LIST,
  });
}

function expectRebindingRefusal(response: RawResponse, message: string): void {
  expect(response.status).toBe(403);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['www-authenticate']).toBeUndefined();
  expect(JSON.parse(response.body)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message } });
}

function expectToolsListed(response: RawResponse): void {
  expect(response.status, response.body).toBe(200);
  const body = JSON.parse(response.body) as { result?: { tools?: Array<{ name: string }> } };
  expect(body.result?.tools?.map((t) => t.name)).toEqual(expect.arrayContaining(['echo']));
}

describe('a loopback server with operator lists', () => {
  let h: Harness;
  let token: string;
  let port: string;

  beforeAll(async () => {
    h = await startHarness({
      env: {
        MCP_ALLOWED_HOSTS: 'mcp.internal, gw.internal:9443',
        MCP_ALLOWED_ORIGINS: 'https://app.example.com,moz-extension://*',
      },
    });
    port = new URL(h.server.url).port;
    ({ access_token: token } = await obtainTokens(h.server.publicUrl, 'demo', 'demo'));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('refuses a foreign Host on /mcp with a JSON-RPC error, with or without a valid token', async () => {
    h.emulator.clearCalls();
    const host = { host: 'evil.example.com' };
    expectRebindingRefusal(await mcpCall(h, host), 'Invalid Host header: evil.example.com');
    expectRebindingRefusal(await mcpCall(h, host, token), 'Invalid Host header: evil.example.com');
    expectRebindingRefusal(
      await mcpCall(h, { host: `evil.example.com:${port}` }, token),
      `Invalid Host header: evil.example.com:${port}`,
    );
    // Another spelling of the route reaches the same guard.
    const upper = await rawRequest(`${h.server.url}/MCP/`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...host, authorization: `Bearer ${token}` },
      body: TOOLS_LIST,
    });
    expect(upper.status).toBe(403);
    // The CORS preflight too, and nothing reached 1C.
    const preflight = await rawRequest(`${h.server.url}/mcp`, { method: 'OPTIONS', headers: host });
    expect(preflight.status).toBe(403);
    expect(h.emulator.calls.filter((c) => c.endpoint === 'rpc')).toEqual([]);
  });

  it('refuses a loopback name on another port and a user-info trick', async () => {
    expectRebindingRefusal(
      await mcpCall(h, { host: 'localhost:1' }, token),
      'Invalid Host header: localhost:1',
    );
    expectRebindingRefusal(
      await mcpCall(h, { host: `evil.example.com@127.0.0.1:${port}` }, token),
      `Invalid Host header: evil.example.com@127.0.0.1:${port}`,
    );
  });

  it('refuses a request without a Host header', async () => {
    // HTTP/1.0 may omit Host (node:http always sends one, so a raw socket).
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.end(
          `POST /mcp HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${TOOLS_LIST.length}\r\n\r\n${TOOLS_LIST}`,
        );
      });
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 403 /);
    expect(raw).toContain('"message":"Missing Host header"');
  });

  it('refuses a foreign or opaque Origin on /mcp even with a valid token', async () => {
    expectRebindingRefusal(
      await mcpCall(h, { origin: 'http://evil.example.com' }, token),
      'Invalid Origin header: http://evil.example.com',
    );
    expectRebindingRefusal(await mcpCall(h, { origin: 'null' }, token), 'Invalid Origin header: null');
    // Same host, other port: another origin.
    expectRebindingRefusal(
      await mcpCall(h, { origin: 'http://127.0.0.1:1' }, token),
      'Invalid Origin header: http://127.0.0.1:1',
    );
    expectRebindingRefusal(
      await mcpCall(h, { origin: 'http://evil.example.com' }),
      'Invalid Origin header: http://evil.example.com',
    );
  });

  it('serves the public host, the loopback names and the listed hosts', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      'mcp.internal',
      'mcp.internal:1234',
      'gw.internal:9443',
    ]) {
      expectToolsListed(await mcpCall(h, { host }, token));
    }
    expectRebindingRefusal(
      await mcpCall(h, { host: 'gw.internal:9444' }, token),
      'Invalid Host header: gw.internal:9444',
    );
    expectRebindingRefusal(
      await mcpCall(h, { host: 'gw.internal' }, token),
      'Invalid Host header: gw.internal',
    );
    // An allowed host without a token is the usual 401 challenge, not a refusal.
    const challenge = await mcpCall(h, { host: 'mcp.internal' });
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toContain('resource_metadata=');
  });

  it('serves no Origin, the public origin and the listed origins', async () => {
    expectToolsListed(await mcpCall(h, {}, token));
    expectToolsListed(await mcpCall(h, { origin: h.server.publicUrl }, token));
    expectToolsListed(await mcpCall(h, { origin: 'https://app.example.com' }, token));
    expectToolsListed(await mcpCall(h, { origin: 'https://APP.example.com:443' }, token));
    expectToolsListed(await mcpCall(h, { origin: 'moz-extension://0c5f1e2a-7d4b-4b8e' }, token));
    expectRebindingRefusal(
      await mcpCall(h, { origin: 'https://app.example.com:8443' }, token),
      'Invalid Origin header: https://app.example.com:8443',
    );
  });

  it('refuses a foreign Host on the OAuth endpoints with RFC 6749-shaped errors', async () => {
    const host = { host: 'evil.example.com' };
    const json = async (path: string, method: string, headers: Record<string, string>, body?: string) => {
      const response = await rawRequest(`${h.server.url}${path}`, {
        method,
        headers: { ...host, ...headers },
        ...(body === undefined ? {} : { body }),
      });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(JSON.parse(response.body)).toEqual({
        error: 'invalid_request',
        error_description: 'Invalid Host header: evil.example.com',
      });
    };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await json('/token', 'POST', form, 'grant_type=refresh_token&client_id=x&refresh_token=y');
    await json('/revoke', 'POST', form, 'token=y&client_id=x');
    await json(
      '/register',
      'POST',
      { 'content-type': 'application/json' },
      '{"redirect_uris":["http://127.0.0.1:1/cb"]}',
    );
    await json('/.well-known/oauth-authorization-server', 'GET', {});
    await json('/.well-known/oauth-protected-resource/mcp', 'GET', {});

    for (const method of ['GET', 'POST']) {
      const page = await rawRequest(`${h.server.url}/authorize?client_id=x`, {
        method,
        headers: { ...host, ...form },
        ...(method === 'POST' ? { body: 'client_id=x&username=demo&password=demo' } : {}),
      });
      expect(page.status).toBe(403);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('Wrong address');
    }
  });

  it('answers the OAuth endpoints on allowed hosts and leaves health probes alone', async () => {
    const metadata = await rawRequest(`${h.server.url}/.well-known/oauth-authorization-server`, {
      headers: { host: 'mcp.internal' },
    });
    expect(metadata.status).toBe(200);
    expect(JSON.parse(metadata.body)).toMatchObject({ issuer: h.server.publicUrl });
    const registration = await rawRequest(`${h.server.url}/register`, {
      method: 'POST',
      headers: {
        host: `localhost:${port}`,
        'content-type': 'application/json',
        origin: 'https://elsewhere.example',
      },
      body: '{"redirect_uris":["http://127.0.0.1:1/cb"]}',
    });
    // Origin is judged on /mcp only: browser-based clients register and exchange codes cross-origin.
    expect(registration.status).toBe(201);
    // Probes address an instance by its own IP.
    const live = await rawRequest(`${h.server.url}/health/live`, { headers: { host: '10.1.2.3:8000' } });
    expect(live.status).toBe(200);
  });

  it('the MCP SDK client works through the guard, and is refused from a foreign origin', async () => {
    const url = new URL(`${h.server.url}/mcp`);
    const headers = { authorization: `Bearer ${token}`, origin: 'https://app.example.com' };
    const client = new Client({ name: 'origin-guard', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'list_catalog']));
    await client.close();

    const refused = new Client({ name: 'origin-guard', version: '1.0.0' });
    await expect(
      refused.connect(
        new StreamableHTTPClientTransport(url, {
          requestInit: { headers: { ...headers, origin: 'http://evil.example.com' } },
        }),
      ),
    ).rejects.toThrow(/403|Invalid Origin header/);
    await refused.close().catch(() => undefined);
  });
});

describe('a server behind its public URL', () => {
  let h: Harness;
  let token: string;

  beforeAll(async () => {
    h = await startHarness({ env: { MCP_PUBLIC_URL: 'https://mcp.example.com' } });
    ({ access_token: token } = await obtainTokens(h.server.url, 'demo', 'demo'));
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('serves the public host with or without its default port', async () => {
    expectToolsListed(
      await mcpCall(h, { host: 'mcp.example.com', origin: 'https://mcp.example.com' }, token),
    );
    expectToolsListed(await mcpCall(h, { host: 'mcp.example.com:443' }, token));
    expectToolsListed(await mcpCall(h, { host: 'MCP.example.com.' }, token));
    expectRebindingRefusal(
      await mcpCall(h, { host: 'mcp.example.com:8443' }, token),
      'Invalid Host header: mcp.example.com:8443',
    );
    // Another scheme is another origin.
    expectRebindingRefusal(
      await mcpCall(h, { host: 'mcp.example.com', origin: 'http://mcp.example.com' }, token),
      'Invalid Origin header: http://mcp.example.com',
    );
  });

  it('a login form posted from the public origin is not cross-site; a listed origin would be', async () => {
    const post = (origin: string) =>
      rawRequest(`${h.server.url}/authorize`, {
        method: 'POST',
        headers: { host: 'mcp.example.com', origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_id=unknown',
      });
    // Past the cross-site check: the (invalid) request itself is judged, a 400 page.
    expect((await post('https://mcp.example.com')).status).toBe(400);
    const foreign = await post('https://app.example.com');
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('sent from another website');
  });
});

describe('MCP_ALLOWED_HOSTS and MCP_ALLOWED_ORIGINS', () => {
  const base = { MCP_ONEC_URL: 'http://1c.local/base', ENVIRONMENT: 'test', ...fixedSecrets() };
  const issues = (env: Record<string, string>): string[] => {
    try {
      loadServerConfig({ ...base, ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).issues;
    }
    throw new Error('expected a ConfigError');
  };

  it('parses the lists', () => {
    const { config } = loadServerConfig({
      ...base,
      MCP_ALLOWED_HOSTS: ' MCP.Internal , ,[::1]:8000,10.0.0.7:8000 ',
      MCP_ALLOWED_ORIGINS: 'https://App.example.com:443/,http://localhost:6274,moz-extension://*',
    });
    expect(config.allowedHosts).toEqual([
      { hostname: 'mcp.internal', port: undefined },
      { hostname: '[::1]', port: 8000 },
      { hostname: '10.0.0.7', port: 8000 },
    ]);
    expect(config.allowedOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:6274',
      'moz-extension://*',
    ]);
    expect(loadServerConfig(base).config).toMatchObject({ allowedHosts: [], allowedOrigins: [] });
  });

  it('names the variable and the bad entry', () => {
    for (const bad of [
      'https://mcp.example.com',
      'mcp.example.com/mcp',
      '*.example.com',
      'host:0',
      'host:70000',
      'a b',
    ]) {
      const [issue, ...rest] = issues({ MCP_ALLOWED_HOSTS: `ok.example,${bad}` });
      expect(rest).toEqual([]);
      expect(issue).toMatch(/^MCP_ALLOWED_HOSTS: ".+" is not a host: expected a host name/);
    }
    for (const bad of [
      '*',
      'null',
      'https://*',
      'app.example.com',
      'https://app.example.com/path',
      'https://u@app.example.com',
    ]) {
      const [issue, ...rest] = issues({ MCP_ALLOWED_ORIGINS: bad });
      expect(rest).toEqual([]);
      expect(issue).toMatch(/^MCP_ALLOWED_ORIGINS: ".+" is not/);
    }
  });
});

describe('the rules', () => {
  it('knows a loopback listener (the loopback names are allowed only then)', () => {
    for (const address of ['127.0.0.1', '127.5.6.7', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost']) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of ['0.0.0.0', '::', '10.0.0.7', '::ffff:10.0.0.7', '128.0.0.1', 'example.com']) {
      expect(isLoopbackAddress(address), address).toBe(false);
    }
  });

  it('normalizes origins the way browsers serialize them', () => {
    expect(normalizeOrigin('HTTPS://Mcp.Example.com:443')).toBe('https://mcp.example.com');
    expect(normalizeOrigin('http://[::1]:8000/')).toBe('http://[::1]:8000');
    expect(normalizeOrigin('chrome-extension://AbCd')).toBe('chrome-extension://abcd');
    for (const bad of [
      'null',
      '',
      'https://a.example/x',
      'https://a.example?x',
      'https://u:p@a.example',
      'a.example',
    ]) {
      expect(normalizeOrigin(bad), bad).toBeUndefined();
    }
  });
});

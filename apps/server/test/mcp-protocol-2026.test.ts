/**
 * The `/mcp` gateway on protocol 2026-07-28 (stateless requests, `server/discover`, the
 * `Mcp-Method` / `Mcp-Name` headers, the spec's error codes and statuses, cache fields) next to the
 * 2025 revisions through `initialize`. Real server, real 1C emulator, the real MCP SDK v2 client,
 * raw HTTP for the wire details, and a real HTTP relay in front of the emulator that can make 1C
 * answer malformed results.
 */

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, obtainTokens, startHarness } from './support/harness.js';

const MODERN = '2026-07-28';
/** The per-request `_meta` envelope of a 2026-07-28 request. */
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'raw-http-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/**
 * A relay on 127.0.0.1 in front of the emulator: passes everything through, except that it answers
 * the 1C JSON-RPC calls it is told to break with a malformed result.
 */
interface Relay {
  url: string;
  /** Emulator base URL to forward to. */
  target: string;
  /** `method` (or `tools/call:<tool name>`) -> the `result` to answer instead of 1C's. */
  broken: Map<string, unknown>;
  close(): Promise<void>;
}

async function startRelay(): Promise<Relay> {
  const relay: Relay = { url: '', target: '', broken: new Map(), close: async () => {} };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      if (req.url?.endsWith('/rpc') && req.method === 'POST') {
        const call = JSON.parse(body.toString('utf8')) as {
          id: unknown;
          method: string;
          params?: { name?: unknown };
        };
        const key = call.method === 'tools/call' ? `tools/call:${String(call.params?.name)}` : call.method;
        if (relay.broken.has(key)) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: relay.broken.get(key) }));
          return;
        }
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers.set(name, value);
      }
      const upstream = await fetch(`${relay.target}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body } : {}),
        redirect: 'manual',
      });
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection')
          out[name] = value;
      });
      res.writeHead(upstream.status, out);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })().catch(() => {
      res.writeHead(502).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return relay;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let relay: Relay;
let h: Harness;
let token: string;
let mcpUrl: URL;

beforeAll(async () => {
  relay = await startRelay();
  h = await startHarness({ env: { MCP_ONEC_URL: relay.url } });
  relay.target = h.emulator.url;
  token = (await obtainTokens(h.server.publicUrl, 'demo', 'demo')).access_token;
  mcpUrl = new URL(`${h.server.publicUrl}/mcp`);
}, 60_000);
afterAll(async () => {
  await h?.close();
  await relay?.close();
});

interface RpcAnswer {
  status: number;
  headers: Headers;
  json: {
    jsonrpc?: string;
    id?: unknown;
    result?: Record<string, unknown>;
    error?: { code: number; message: string; data?: unknown };
  };
}

/** POST one raw JSON-RPC body to `/mcp` with the test user's token. */
async function post(body: unknown, headers: Record<string, string> = {}): Promise<RpcAnswer> {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  expect(response.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as RpcAnswer['json'],
  };
}

/** A 2026-07-28 request: envelope in `_meta`, the version and routing headers set. */
function modern(id: number, method: string, params: Record<string, unknown> = {}, name?: string) {
  return post(
    { jsonrpc: '2.0', id, method, params: { ...params, _meta: ENVELOPE } },
    {
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name !== undefined ? { 'mcp-name': name } : {}),
    },
  );
}

function sdkClient(mode: 'auto' | 'legacy' | { pin: string }): {
  client: Client;
  transport: StreamableHTTPClientTransport;
} {
  const client = new Client({ name: 'sdk-v2-e2e', version: '1.0.0' }, { versionNegotiation: { mode } });
  const transport = new StreamableHTTPClientTransport(mcpUrl, {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  return { client, transport };
}

describe('MCP SDK v2 client', () => {
  it('pinned to 2026-07-28: discovers, lists the 1C tools and calls one as the signed-in user', async () => {
    const { client, transport } = sdkClient({ pin: MODERN });
    h.emulator.clearCalls();
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    expect(client.getServerVersion()?.name).toBe('oauth-cache-1c-gateway');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['get_current_user', 'echo', 'list_catalog']),
    );
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'привет' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'привет' }]);
    const me = await client.callTool({ name: 'get_current_user', arguments: {} });
    expect(JSON.stringify(me.content)).toContain('demo');
    const rpc = h.emulator.calls.filter((c) => c.endpoint === 'rpc');
    expect(rpc.length).toBeGreaterThanOrEqual(3);
    expect(rpc.every((c) => c.user === 'demo' && c.authorized)).toBe(true);
    await client.close();
  }, 30_000);

  it('in auto mode negotiates 2026-07-28 through server/discover', async () => {
    const { client, transport } = sdkClient('auto');
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThan(0);
    const prompts = await client.listPrompts();
    expect(Array.isArray(prompts.prompts)).toBe(true);
    const resources = await client.listResources();
    expect(Array.isArray(resources.resources)).toBe(true);
    await client.close();
  }, 30_000);

  it('in legacy mode is served 2025-11-25 through initialize', async () => {
    const { client, transport } = sdkClient('legacy');
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'old' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'old' }]);
    await client.close();
  }, 30_000);
});

describe('2026-07-28 on the wire', () => {
  it('answers server/discover with the supported versions, capabilities, identity and cache fields', async () => {
    const r = await modern(1, 'server/discover');
    expect(r.status).toBe(200);
    expect(r.json.id).toBe(1);
    const result = r.json.result ?? {};
    expect(result.supportedVersions).toEqual([MODERN]);
    expect(result.capabilities).toEqual({ tools: {}, resources: {}, prompts: {} });
    expect(result.resultType).toBe('complete');
    expect(result.ttlMs).toBe(300_000);
    expect(result.cacheScope).toBe('private');
    expect(result._meta).toEqual({
      'io.modelcontextprotocol/serverInfo': { name: 'oauth-cache-1c-gateway', version: '0.1.0' },
    });
  });

  it('accepts MCP-Protocol-Version: 2026-07-28 and gives listings per-user cache hints', async () => {
    const list = await modern(2, 'tools/list');
    expect(list.status).toBe(200);
    expect(list.json.id).toBe(2);
    expect(Array.isArray(list.json.result?.tools)).toBe(true);
    expect(list.json.result?.ttlMs).toBe(60_000);
    expect(list.json.result?.cacheScope).toBe('private');
    const call = await modern(3, 'tools/call', { name: 'echo', arguments: { text: 'hi' } }, 'echo');
    expect(call.status).toBe(200);
    expect(call.json.result?.content).toEqual([{ type: 'text', text: 'hi' }]);
    expect(call.json.result?.resultType).toBe('complete');
  });

  it('answers an unknown method with -32601 and HTTP 404, echoing the id', async () => {
    const r = await modern(4, 'no/such/method');
    expect(r.status).toBe(404);
    expect(r.json.id).toBe(4);
    expect(r.json.error?.code).toBe(-32601);
  });

  it('answers malformed params with -32602, echoing the id', async () => {
    const r = await modern(5, 'tools/call', { name: 5 });
    expect(r.json.id).toBe(5);
    expect(r.json.error?.code).toBe(-32602);
    const envelope = await post(
      {
        jsonrpc: '2.0',
        id: 'e-1',
        method: 'tools/list',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN } },
      },
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
    );
    expect(envelope.status).toBe(400);
    expect(envelope.json.id).toBe('e-1');
    expect(envelope.json.error?.code).toBe(-32602);
    const missing = await post(
      { jsonrpc: '2.0', id: 6, method: 'tools/list', params: {} },
      { 'mcp-protocol-version': MODERN },
    );
    expect(missing.status).toBe(400);
    expect(missing.json.id).toBe(6);
    expect(missing.json.error?.code).toBe(-32602);
  });

  it('answers an unsupported version with -32022, the supported list and HTTP 400', async () => {
    const r = await post(
      {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/list',
        params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      },
      { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' },
    );
    expect(r.status).toBe(400);
    expect(r.json.id).toBe(7);
    expect(r.json.error?.code).toBe(-32022);
    expect(r.json.error?.data).toEqual({ supported: [MODERN], requested: '2099-01-01' });
  });

  it('answers headers that disagree with the body with -32020 and HTTP 400', async () => {
    const method = await post(
      { jsonrpc: '2.0', id: 8, method: 'tools/list', params: { _meta: ENVELOPE } },
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call' },
    );
    expect(method.status).toBe(400);
    expect(method.json.id).toBe(8);
    expect(method.json.error?.code).toBe(-32020);
    const name = await modern(
      9,
      'tools/call',
      { name: 'echo', arguments: { text: 'x' } },
      'get_current_user',
    );
    expect(name.status).toBe(400);
    expect(name.json.error?.code).toBe(-32020);
    const noHeader = await post({
      jsonrpc: '2.0',
      id: 10,
      method: 'tools/list',
      params: { _meta: ENVELOPE },
    });
    expect(noHeader.status).toBe(400);
    expect(noHeader.json.error?.code).toBe(-32020);
    expect(noHeader.json.id).toBe(10);
  });

  it('keeps 1C errors in-band (HTTP 200) with the request id', async () => {
    const r = await modern(11, 'tools/call', { name: 'does_not_exist', arguments: {} }, 'does_not_exist');
    expect(r.status).toBe(200);
    expect(r.json.id).toBe(11);
    expect(r.json.error?.code).toBe(-32602);
  });

  it('answers resources/templates/list with an empty list when 1C has no templates, with its cache hint', async () => {
    const r = await modern(12, 'resources/templates/list');
    expect(r.status).toBe(200);
    expect(r.json.result?.resourceTemplates).toEqual([]);
    expect(r.json.result?.ttlMs).toBe(60_000);
    expect(r.json.result?.cacheScope).toBe('private');
  });

  it('names the unknown URI in the data of a resource-not-found error (SEP-2164)', async () => {
    const uri = 'onec://catalog/no-such-catalog';
    const r = await modern(13, 'resources/read', { uri }, uri);
    expect(r.json.id).toBe(13);
    expect(r.json.error?.code).toBe(-32602);
    expect(r.json.error?.data).toMatchObject({ uri });
  });

  it('streams subscriptions/listen over SSE: acknowledged with nothing to watch, then done', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'subscriptions/listen',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 13,
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: ENVELOPE },
      }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = (await response.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { method?: string; id?: unknown; params?: unknown });
    expect(frames[0]?.method).toBe('notifications/subscriptions/acknowledged');
    // The gateway announces no list_changed capability: there is nothing to subscribe to.
    expect(frames[0]?.params).toMatchObject({ notifications: {} });
    expect(frames.at(-1)?.id).toBe(13);
  });

  it('still refuses a request without a valid token with the bearer challenge', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'server/discover',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 12,
        method: 'server/discover',
        params: { _meta: ENVELOPE },
      }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(
      `resource_metadata="${h.server.publicUrl}/.well-known/oauth-protected-resource/mcp"`,
    );
  });
});

describe('2025 revisions through initialize', () => {
  for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
    it(`answers initialize for ${version} with ${version} and serves its requests`, async () => {
      const init = await post({
        jsonrpc: '2.0',
        id: 20,
        method: 'initialize',
        params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      });
      expect(init.status).toBe(200);
      expect(init.json.result?.protocolVersion).toBe(version);
      const list = await post(
        { jsonrpc: '2.0', id: 21, method: 'tools/list', params: {} },
        { 'mcp-protocol-version': version },
      );
      expect(list.status).toBe(200);
      expect(Array.isArray(list.json.result?.tools)).toBe(true);
      // No 2026-07-28 fields leak into 2025 answers.
      expect(list.json.result).not.toHaveProperty('ttlMs');
      expect(list.json.result).not.toHaveProperty('resultType');
    });
  }

  it('answers an initialize asking for 2026-07-28 with 2025-11-25 (2026-07-28 has no handshake)', async () => {
    const init = await post({
      jsonrpc: '2.0',
      id: 22,
      method: 'initialize',
      params: { protocolVersion: MODERN, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(init.json.result?.protocolVersion).toBe('2025-11-25');
  });

  it('refuses an unknown MCP-Protocol-Version with HTTP 400 and the request id', async () => {
    const r = await post(
      { jsonrpc: '2.0', id: 23, method: 'tools/list', params: {} },
      { 'mcp-protocol-version': '1999-01-01' },
    );
    expect(r.status).toBe(400);
    expect(r.json.id).toBe(23);
    expect(r.json.error?.message).toMatch(/Unsupported protocol version/);
  });

  it('echoes the id on its transport refusals too (406 for a bad Accept)', async () => {
    const r = await post(
      { jsonrpc: '2.0', id: 'a-24', method: 'tools/list', params: {} },
      { accept: 'text/html', 'mcp-protocol-version': '2025-06-18' },
    );
    expect(r.status).toBe(406);
    expect(r.json.id).toBe('a-24');
  });
});

describe('a malformed result from 1C', () => {
  it('becomes a clear JSON-RPC error, not a schema-invalid result (2026-07-28 and 2025)', async () => {
    relay.broken.set('tools/call:echo', { content: [{ type: 'bogus' }] });
    relay.broken.set('tools/list', { tools: 'not a list' });
    try {
      const call = await modern(30, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, 'echo');
      expect(call.status).toBe(200);
      expect(call.json.id).toBe(30);
      expect(call.json.result).toBeUndefined();
      expect(call.json.error?.code).toBe(-32013);
      expect(call.json.error?.message).toMatch(
        /^1C returned a malformed tools\/call result \(at content\.0\)/,
      );
      const list = await post(
        { jsonrpc: '2.0', id: 31, method: 'tools/list', params: {} },
        { 'mcp-protocol-version': '2025-11-25' },
      );
      expect(list.json.id).toBe(31);
      expect(list.json.error?.code).toBe(-32013);
      expect(list.json.error?.message).toMatch(/malformed tools\/list result \(at tools\)/);

      const { client, transport } = sdkClient({ pin: MODERN });
      await client.connect(transport);
      const failure = await client
        .callTool({ name: 'echo', arguments: { text: 'x' } })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ProtocolError);
      expect((failure as ProtocolError).code).toBe(-32013);
      await client.close();
    } finally {
      relay.broken.clear();
    }
    const healthy = await modern(32, 'tools/call', { name: 'echo', arguments: { text: 'ok' } }, 'echo');
    expect(healthy.json.result?.content).toEqual([{ type: 'text', text: 'ok' }]);
  }, 30_000);
});

/**
 * The MCP gateway's failure paths: malformed MCP requests, 1C down, 1C errors and 1C rejecting the
 * stored credentials. Always a JSON-RPC answer, never an HTML 500.
 */

import { startEmulator } from '@oauth-cache/onec-emulator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, obtainTokens, startHarness } from './support/harness.js';

let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness({ env: { MCP_ONEC_RPC_TIMEOUT_MS: '3000' } });
  token = (await obtainTokens(h.server.publicUrl, 'demo', 'demo')).access_token;
});
afterAll(async () => {
  await h?.close();
});

async function mcp(body: string, headers: Record<string, string> = {}, method = 'POST') {
  const response = await fetch(`${h.server.publicUrl}/mcp`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    ...(method === 'POST' ? { body } : {}),
  });
  const text = await response.text();
  let json: { error?: { code: number; message: string }; result?: unknown } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, type: response.headers.get('content-type') ?? '' };
}

const call = (method: string, params: unknown = {}, id = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });

describe('MCP requests', () => {
  it('rejects malformed requests with JSON-RPC errors', async () => {
    const parse = await mcp('{not json');
    expect(parse.status).toBe(400);
    expect(parse.json?.error?.code).toBe(-32700);
    const type = await mcp(call('tools/list'), { 'content-type': 'text/plain' });
    expect(type.status).toBe(400);
    const big = await mcp(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { pad: 'x'.repeat(5 * 1024 * 1024) },
      }),
    );
    expect(big.status).toBe(413);
    const get = await mcp('', {}, 'GET');
    expect(get.status).toBe(405);
    expect(get.json?.error).toBeTruthy();
    const unknown = await mcp(call('no/such/method'));
    expect(unknown.json?.error?.code).toBe(-32601);
  });

  it('passes 1C JSON-RPC errors through (unknown tool -> -32602)', async () => {
    const r = await mcp(call('tools/call', { name: 'does_not_exist', arguments: {} }));
    expect(r.status).toBe(200);
    expect(r.json?.error?.code).toBe(-32602);
  });

  it('property: random JSON-RPC bodies never get a 5xx', async () => {
    let tried = 0;
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            jsonrpc: fc.constantFrom('2.0', '1.0', 2),
            id: fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null)),
            method: fc.constantFrom(
              'tools/list',
              'tools/call',
              'resources/read',
              'prompts/get',
              'initialize',
              'ping',
              'x',
            ),
            params: fc.jsonValue({ maxDepth: 2 }),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 50 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        tried += 1;
        const r = await mcp(text);
        expect(r.status).toBeLessThan(500);
        expect(r.type).not.toMatch(/html/);
      }),
      { numRuns: 150 },
    );
    console.log(`/mcp: ${tried} random JSON-RPC bodies tried`);
  });
});

describe('when 1C fails', () => {
  it('answers a JSON-RPC error when 1C is down, and works again when it is back', async () => {
    const port = Number(new URL(h.emulator.url).port);
    await h.emulator.close();
    const down = await mcp(call('tools/list'));
    expect(down.status).toBe(200);
    expect(down.json?.error?.code).toBe(-32010);
    expect(down.json?.error?.message).toMatch(/1C is not reachable/);
    const back = await startEmulator({ port });
    try {
      const ok = await mcp(call('tools/list'));
      expect(ok.json?.result).toBeTruthy();
    } finally {
      await back.close();
    }
    // Leave a running emulator on the same port for the next test and for harness.close().
    h.emulator = await startEmulator({ port, users: [{ login: 'demo', password: 'changed-in-1c' }] });
  });

  it('revokes the grant when 1C rejects the stored credentials (password changed)', async () => {
    const rejected = await mcp(call('tools/list'));
    expect(rejected.json?.error?.code).toBe(-32011);
    const after = await mcp(call('tools/list'));
    expect(after.status).toBe(401);
  });
});

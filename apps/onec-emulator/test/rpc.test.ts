import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/index.js';
import { basic, postRpc, rpc } from './helpers.js';

describe('POST /hs/mcp/rpc', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.close());

  it('lists the demo tools with input schemas', async () => {
    const reply = await rpc(emulator, 'tools/list');
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 7 });
    const tools = (reply.result?.tools ?? []) as Array<{ name: string; inputSchema: { type: string } }>;
    expect(tools.map((tool) => tool.name)).toEqual(['get_current_user', 'echo', 'list_catalog']);
    for (const tool of tools) expect(tool.inputSchema.type).toBe('object');
  });

  it('get_current_user answers the Basic user of the request', async () => {
    const demo = await rpc(emulator, 'tools/call', { name: 'get_current_user', arguments: {} });
    expect(demo.result).toEqual({
      content: [{ type: 'text', text: JSON.stringify({ login: 'demo', fullName: 'Демо Пользователь' }) }],
      isError: false,
    });
    const ivanov = await rpc(
      emulator,
      'tools/call',
      { name: 'get_current_user' },
      basic('ivanov', 'Пароль123'),
    );
    const text = ((ivanov.result?.content ?? []) as Array<{ text: string }>)[0]?.text ?? '';
    expect(JSON.parse(text)).toEqual({ login: 'ivanov', fullName: 'Иванов Иван Иванович' });
  });

  it('echo returns its text; a missing argument is a tool error, not a protocol error', async () => {
    const echo = await rpc(emulator, 'tools/call', { name: 'echo', arguments: { text: 'привет' } });
    expect(echo.result).toEqual({ content: [{ type: 'text', text: 'привет' }], isError: false });
    const missing = await rpc(emulator, 'tools/call', { name: 'echo', arguments: {} });
    expect(missing.error).toBeUndefined();
    expect(missing.result?.isError).toBe(true);
    const wrongType = await rpc(emulator, 'tools/call', { name: 'echo', arguments: { text: 5 } });
    expect(wrongType.result?.isError).toBe(true);
  });

  it('list_catalog returns demo rows and honours limit', async () => {
    const reply = await rpc(emulator, 'tools/call', {
      name: 'list_catalog',
      arguments: { catalog: 'products', limit: 2 },
    });
    const rows = JSON.parse(
      ((reply.result?.content ?? []) as Array<{ text: string }>)[0]?.text ?? '[]',
    ) as Array<{
      name: string;
    }>;
    expect(rows).toHaveLength(2);
    expect(rows[0]?.name).toBe('Бумага офисная А4');
    const unknown = await rpc(emulator, 'tools/call', {
      name: 'list_catalog',
      arguments: { catalog: 'nope' },
    });
    expect(unknown.result?.isError).toBe(true);
    const badLimit = await rpc(emulator, 'tools/call', {
      name: 'list_catalog',
      arguments: { catalog: 'products', limit: 0 },
    });
    expect(badLimit.result?.isError).toBe(true);
  });

  it('unknown tool and missing tool name are -32602', async () => {
    expect((await rpc(emulator, 'tools/call', { name: 'drop_database' })).error?.code).toBe(-32602);
    expect((await rpc(emulator, 'tools/call', {})).error?.code).toBe(-32602);
    expect((await rpc(emulator, 'tools/call', { name: 'echo', arguments: [1] })).error?.code).toBe(-32602);
  });

  it('lists and reads resources; unknown uri is -32002', async () => {
    const list = await rpc(emulator, 'resources/list');
    const uris = ((list.result?.resources ?? []) as Array<{ uri: string }>).map((resource) => resource.uri);
    expect(uris).toEqual(['onec://catalog/products', 'onec://catalog/counterparties', 'onec://session/user']);
    const read = await rpc(
      emulator,
      'resources/read',
      { uri: 'onec://session/user' },
      basic('ivanov', 'Пароль123'),
    );
    expect(read.result?.contents).toEqual([
      {
        uri: 'onec://session/user',
        mimeType: 'application/json',
        type: 'text',
        text: JSON.stringify({ login: 'ivanov', fullName: 'Иванов Иван Иванович' }),
      },
    ]);
    expect((await rpc(emulator, 'resources/read', { uri: 'onec://catalog/secret' })).error?.code).toBe(
      -32002,
    );
    expect((await rpc(emulator, 'resources/read', {})).error?.code).toBe(-32602);
  });

  it('lists and gets prompts; a missing required argument is -32602', async () => {
    const list = await rpc(emulator, 'prompts/list');
    expect(((list.result?.prompts ?? []) as Array<{ name: string }>).map((prompt) => prompt.name)).toEqual([
      'catalog_report',
      'greeting',
    ]);
    const greeting = await rpc(emulator, 'prompts/get', { name: 'greeting' });
    expect(greeting.result).toEqual({
      description: 'Greets the current 1C user',
      messages: [
        { role: 'user', content: { type: 'text', text: 'Поприветствуй пользователя 1С Демо Пользователь.' } },
      ],
    });
    const report = await rpc(emulator, 'prompts/get', {
      name: 'catalog_report',
      arguments: { catalog: 'products' },
    });
    expect(JSON.stringify(report.result)).toContain('products');
    expect((await rpc(emulator, 'prompts/get', { name: 'catalog_report' })).error?.code).toBe(-32602);
    expect((await rpc(emulator, 'prompts/get', { name: 'nope' })).error?.code).toBe(-32602);
  });

  it('answers initialize with capabilities and a not-1C server name', async () => {
    const reply = await rpc(emulator, 'initialize', { protocolVersion: '2025-06-18' });
    expect(reply.result?.serverInfo).toMatchObject({ name: expect.stringContaining('NOT 1C') });
  });

  it('unknown method is -32601 with the request id', async () => {
    const reply = await rpc(emulator, 'tools/delete');
    expect(reply).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32601, message: 'Method not found: tools/delete' },
    });
    // Inherited object keys are not methods.
    expect((await rpc(emulator, 'toString')).error?.code).toBe(-32601);
  });

  it('bad JSON is -32700 with a null id', async () => {
    const response = await postRpc(emulator, '{"jsonrpc":"2.0",');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
  });

  it('non-object params are -32602, batches and requests without a method are -32600', async () => {
    expect((await rpc(emulator, 'tools/list', [1, 2])).error?.code).toBe(-32602);
    const batch = await postRpc(emulator, JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]));
    expect(((await batch.json()) as { error: { code: number } }).error.code).toBe(-32600);
    const noMethod = await postRpc(emulator, JSON.stringify({ jsonrpc: '2.0', id: 3 }));
    expect(await noMethod.json()).toMatchObject({ id: 3, error: { code: -32600 } });
    const oldVersion = await postRpc(
      emulator,
      JSON.stringify({ jsonrpc: '1.0', id: 4, method: 'tools/list' }),
    );
    expect(await oldVersion.json()).toMatchObject({ id: 4, error: { code: -32600 } });
  });

  it('answers a notification (no id) with 204 and no body', async () => {
    const response = await postRpc(emulator, JSON.stringify({ jsonrpc: '2.0', method: 'tools/list' }));
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('401 and 403 before reading the body', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const wrong = await postRpc(emulator, body, basic('ivanov', 'wrong'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await postRpc(emulator, body, basic('noaccess', 'noaccess'))).status).toBe(403);
  });

  it('answers 413 to an oversized body', async () => {
    const small = await startEmulator({ maxBodyBytes: 100 });
    try {
      const response = await postRpc(
        small,
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: { text: 'x'.repeat(500) } }),
      );
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: -32600 } });
    } finally {
      await small.close();
    }
  });

  it('answers 405 to GET /rpc', async () => {
    const response = await fetch(`${emulator.serviceUrl}/rpc`, {
      headers: { authorization: basic('demo', 'demo') },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorCall, startEmulator } from '../src/index.js';
import { basic, postRpc, rpc } from './helpers.js';

describe('recorded calls', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  beforeEach(() => emulator.clearCalls());
  afterAll(() => emulator.close());

  it('records which Basic user made each request, with the RPC method and target', async () => {
    await rpc(emulator, 'tools/call', { name: 'get_current_user' }, basic('ivanov', 'Пароль123'));
    await fetch(`${emulator.serviceUrl}/health`, { headers: { authorization: basic('demo', 'demo') } });
    await fetch(`${emulator.serviceUrl}/health`, { headers: { authorization: basic('demo', 'bad') } });
    await fetch(`${emulator.serviceUrl}/health`, {
      headers: { authorization: basic('noaccess', 'noaccess') },
    });
    await fetch(`${emulator.serviceUrl}/health`);

    expect(emulator.calls.map(({ at: _at, ...call }) => call)).toEqual([
      {
        endpoint: 'rpc',
        httpMethod: 'POST',
        path: '/hs/mcp/rpc',
        user: 'ivanov',
        authorized: true,
        rpcMethod: 'tools/call',
        target: 'get_current_user',
        status: 200,
      },
      {
        endpoint: 'health',
        httpMethod: 'GET',
        path: '/hs/mcp/health',
        user: 'demo',
        authorized: true,
        status: 200,
      },
      {
        endpoint: 'health',
        httpMethod: 'GET',
        path: '/hs/mcp/health',
        user: 'demo',
        authorized: false,
        status: 401,
      },
      {
        endpoint: 'health',
        httpMethod: 'GET',
        path: '/hs/mcp/health',
        user: 'noaccess',
        authorized: false,
        status: 403,
      },
      {
        endpoint: 'health',
        httpMethod: 'GET',
        path: '/hs/mcp/health',
        user: null,
        authorized: false,
        status: 401,
      },
    ]);
  });

  it('never records a password', async () => {
    await postRpc(emulator, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', basic('ivanov', 'Пароль123'));
    await postRpc(emulator, '{}', basic('ivanov', 'НеверныйПароль'));
    const dump = JSON.stringify(emulator.calls);
    expect(dump).not.toContain('Пароль123');
    expect(dump).not.toContain('НеверныйПароль');
    expect(emulator.calls).toHaveLength(2);
  });

  it('exposes calls over HTTP at /__emulator/calls and clears them with DELETE', async () => {
    await rpc(emulator, 'tools/list', undefined, basic('demo', 'demo'));
    const listed = (await (await fetch(`${emulator.url}/__emulator/calls`)).json()) as {
      notice: string;
      calls: EmulatorCall[];
    };
    expect(listed.notice).toBe('NOT 1C: a development emulator');
    expect(listed.calls).toHaveLength(1);
    expect(listed.calls[0]).toMatchObject({ user: 'demo', rpcMethod: 'tools/list' });

    const cleared = await fetch(`${emulator.url}/__emulator/calls`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(emulator.calls).toHaveLength(0);
  });
});

import type { Emulator } from '../src/index.js';

/** `Authorization: Basic ...` with UTF-8 credentials, as the gateway sends them. */
export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
}

/** POST a raw body to the emulator's /rpc. */
export async function postRpc(
  emulator: Emulator,
  body: string,
  authorization = basic('demo', 'demo'),
): Promise<Response> {
  return fetch(`${emulator.serviceUrl}/rpc`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body,
  });
}

interface RpcReply {
  jsonrpc: string;
  id: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** Call one JSON-RPC method and return the parsed reply (asserting HTTP 200). */
export async function rpc(
  emulator: Emulator,
  method: string,
  params?: unknown,
  authorization = basic('demo', 'demo'),
): Promise<RpcReply> {
  const response = await postRpc(
    emulator,
    JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }),
    authorization,
  );
  if (response.status !== 200) throw new Error(`expected 200 from ${method}, got ${response.status}`);
  return (await response.json()) as RpcReply;
}

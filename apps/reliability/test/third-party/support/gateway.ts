/**
 * The system the third-party tools test: the real server binary in front of the real 1C emulator,
 * a token obtained through the real OAuth flow (register, the login form with `demo`/`demo`, code
 * exchange with PKCE), and a loopback proxy that adds `Authorization: Bearer <token>` for tools that
 * have no auth option. The proxy forwards `Host` and `Origin` unchanged (so the server's DNS
 * rebinding guard sees what the tool sent); its own address is allowed through `MCP_ALLOWED_HOSTS`
 * and `MCP_ALLOWED_ORIGINS`, as an operator allows a second address of a deployment.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EmulatorProcess, startEmulatorProcess } from '../../../src/emulator-process.js';
import { loginForTokens, registerClient } from '../../../src/oauth-flow.js';
import {
  newSecrets,
  type ServerProcess,
  serverEnv,
  startServerProcess,
} from '../../../src/server-process.js';

/** One request the proxy forwarded. */
export interface ProxiedRequest {
  method: string;
  path: string;
  /** The JSON-RPC `method` of the body (first one of a batch), if any. */
  rpcMethod: string | undefined;
  /** `MCP-Protocol-Version` as sent. */
  protocolVersion: string | undefined;
  /** Whether the client sent its own `Authorization`. */
  hadAuthorization: boolean;
  status: number;
}

/** The running gateway. */
export interface Gateway {
  /** The server's own origin, e.g. `http://127.0.0.1:40001`. */
  serverUrl: string;
  /** The token-injecting proxy's origin. */
  proxyUrl: string;
  /** The emulator's origin. */
  emulatorUrl: string;
  /** An access token for `demo`, audience `<serverUrl>/mcp`. */
  accessToken: string;
  /** Requests the proxy forwarded, in order. */
  proxied: ProxiedRequest[];
  stop(): Promise<void>;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function rpcMethodOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    const method = (first as { method?: unknown } | null)?.method;
    return typeof method === 'string' ? method : undefined;
  } catch {
    return undefined;
  }
}

/** A proxy to `target` that adds the bearer token when the client sent none. */
function startProxy(getTarget: () => { url: URL; token: string }, log: ProxiedRequest[]): Server {
  return createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const { url, token } = getTarget();
      const hadAuthorization = incoming.headers.authorization !== undefined;
      const headers: IncomingHttpHeaders = { ...incoming.headers };
      if (!hadAuthorization) headers.authorization = `Bearer ${token}`;
      const entry: ProxiedRequest = {
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        rpcMethod: rpcMethodOf(body),
        protocolVersion: single(incoming.headers['mcp-protocol-version']),
        hadAuthorization,
        status: 0,
      };
      log.push(entry);
      const upstream = request(
        { host: url.hostname, port: url.port, method: incoming.method, path: incoming.url, headers },
        (answer) => {
          entry.status = answer.statusCode ?? 0;
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', (error) => {
        entry.status = 502;
        if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'text/plain' });
        outgoing.end(`proxy: ${error.message}`);
      });
      upstream.end(body);
    });
  });
}

/** Start the emulator, the server (allowing the proxy's address), log `demo` in, start the proxy. */
export async function startGateway(): Promise<Gateway> {
  const proxied: ProxiedRequest[] = [];
  let target: { url: URL; token: string } | undefined;
  const proxy = startProxy(() => {
    if (!target) throw new Error('proxy used before the gateway was ready');
    return target;
  }, proxied);
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  let emulator: EmulatorProcess | undefined;
  let server: ServerProcess | undefined;
  try {
    emulator = await startEmulatorProcess();
    server = await startServerProcess(
      serverEnv({
        onecUrl: emulator.url,
        store: 'memory://',
        secrets: newSecrets(),
        extra: {
          MCP_ALLOWED_HOSTS: new URL(proxyUrl).host,
          MCP_ALLOWED_ORIGINS: proxyUrl,
        },
      }),
      { readyTimeoutMs: 60_000 },
    );
    const clientId = await registerClient(server.url);
    const tokens = await loginForTokens(server.url, clientId, { timeoutMs: 30_000 });
    target = { url: new URL(server.url), token: tokens.access_token };
    const running = server;
    const runningEmulator = emulator;
    return {
      serverUrl: server.url,
      proxyUrl,
      emulatorUrl: emulator.url,
      accessToken: tokens.access_token,
      proxied,
      async stop() {
        proxy.closeAllConnections();
        proxy.close();
        await running.stop();
        await runningEmulator.stop();
      },
    };
  } catch (error) {
    proxy.close();
    await server?.kill();
    await emulator?.stop();
    throw error;
  }
}

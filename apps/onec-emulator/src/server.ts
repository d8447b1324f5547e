import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticate } from './basic-auth.js';
import type { EmulatorCall } from './calls.js';
import { handleRpc } from './json-rpc.js';
import { DEFAULT_USERS_FILE, type EmulatorUser, loadUsersFile, parseUsers } from './users.js';

/** Said everywhere a human may look: README, startup log, /health, a response header. */
export const NOT_1C_NOTICE = 'NOT 1C: a development emulator';

/** Options of {@link startEmulator}. */
export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Users given in-process (wins over `usersFile`). */
  users?: EmulatorUser[];
  /** Path of a users JSON file; default: the package's `users.json` (demo users). */
  usersFile?: string;
  /** Publication path of the "infobase" before `/hs`, e.g. `/demo`; default empty. */
  basePath?: string;
  /** HTTP service root; default `mcp` (so the service lives at `/hs/mcp`). */
  serviceRoot?: string;
  /** Largest accepted `/rpc` body in bytes; default 1 MiB (larger -> 413). */
  maxBodyBytes?: number;
  /**
   * Hold every authorized `/rpc` call this many ms before answering it (a slow 1C, for timeouts
   * and graceful-shutdown tests); default 0. `/health` (the login check) is never delayed.
   */
  delayMs?: number;
  /** Called after each recorded call (the CLI prints them). */
  onCall?: (call: EmulatorCall) => void;
}

/** A running emulator. */
export interface Emulator {
  /** Origin, e.g. `http://127.0.0.1:8001`. */
  url: string;
  /** The service base, e.g. `http://127.0.0.1:8001/hs/mcp` (append `/health`, `/rpc`). */
  serviceUrl: string;
  /** Every request answered so far, oldest first (live array; see {@link EmulatorCall}). */
  calls: EmulatorCall[];
  /** Forget recorded calls. */
  clearCalls(): void;
  /** `/rpc` calls being held by `delayMs` right now (also `delayed` in `GET /__emulator/calls`). */
  readonly delayed: number;
  /** The users it accepts. */
  users: readonly EmulatorUser[];
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

const BASIC_CHALLENGE = 'Basic realm="1C:Enterprise (emulator)", charset="UTF-8"';

/**
 * Start the 1C HTTP-service emulator (NOT 1C: a development emulator) on `host:port`.
 * Endpoints: `GET {base}/hs/{root}/health`, `POST {base}/hs/{root}/rpc` (Basic auth),
 * `GET /__emulator/calls` (recorded calls, no auth), `DELETE /__emulator/calls`.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const users = options.users
    ? parseUsers(options.users, 'options.users')
    : loadUsersFile(options.usersFile ?? DEFAULT_USERS_FILE);
  const servicePath = `${normalizeBase(options.basePath ?? '')}/hs/${normalizeRoot(options.serviceRoot ?? 'mcp')}`;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const delayMs = checkDelay(options.delayMs ?? 0);
  const calls: EmulatorCall[] = [];
  // Timers of the calls being held, so close() can drop them and `delayed` can count them.
  const held = new Set<NodeJS.Timeout>();
  const hold = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        held.delete(timer);
        resolve();
      }, delayMs);
      held.add(timer);
    });

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: 'internal_error' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Emulator', NOT_1C_NOTICE);
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const method = req.method ?? 'GET';
    const record = (call: Omit<EmulatorCall, 'at' | 'httpMethod' | 'path'>) => {
      const full: EmulatorCall = { at: Date.now(), httpMethod: method, path, ...call };
      calls.push(full);
      options.onCall?.(full);
    };

    if (path === '/__emulator/calls') {
      if (method === 'DELETE') {
        calls.length = 0;
        res.writeHead(204).end();
      } else if (method === 'GET') send(res, 200, { notice: NOT_1C_NOTICE, calls, delayed: held.size });
      else send(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET, DELETE' });
      return;
    }
    const endpoint =
      path === `${servicePath}/health` ? 'health' : path === `${servicePath}/rpc` ? 'rpc' : 'other';
    const expected = endpoint === 'health' ? 'GET' : 'POST';
    if (endpoint === 'other' || method !== expected) {
      const status = endpoint === 'other' ? 404 : 405;
      record({ endpoint, user: null, authorized: false, status });
      send(
        res,
        status,
        { error: status === 404 ? 'not_found' : 'method_not_allowed' },
        status === 405 ? { Allow: expected } : {},
      );
      return;
    }

    const auth = authenticate(users, req.headers.authorization);
    const login = auth.kind === 'unauthorized' ? presentedLogin(req.headers.authorization) : auth.user.login;
    if (auth.kind !== 'ok') {
      const status = auth.kind === 'unauthorized' ? 401 : 403;
      record({ endpoint, user: login, authorized: false, status });
      const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': BASIC_CHALLENGE } : {};
      send(res, status, { error: status === 401 ? 'unauthorized' : 'forbidden' }, headers);
      return;
    }

    if (endpoint === 'health') {
      record({ endpoint, user: login, authorized: true, status: 200 });
      send(res, 200, { status: 'ok', emulator: NOT_1C_NOTICE });
      return;
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === undefined) {
      record({ endpoint, user: login, authorized: true, status: 413 });
      send(
        res,
        413,
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Request body too large' } },
        { Connection: 'close' },
      );
      return;
    }
    if (delayMs > 0) await hold();
    const outcome = handleRpc(body, auth.user);
    const status = outcome.body ? 200 : 204;
    record({
      endpoint,
      user: login,
      authorized: true,
      status,
      ...(outcome.method ? { rpcMethod: outcome.method } : {}),
      ...(outcome.target ? { target: outcome.target } : {}),
    });
    if (outcome.body) send(res, 200, outcome.body);
    else res.writeHead(204).end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = originOf(server);
  return {
    url,
    serviceUrl: url + servicePath,
    calls,
    clearCalls: () => {
      calls.length = 0;
    },
    users,
    get delayed() {
      return held.size;
    },
    close: () => {
      for (const timer of held) clearTimeout(timer);
      held.clear();
      return closeServer(server);
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The login part of a Basic header that was rejected (so tests see who tried); never the password. */
function presentedLogin(header: string | undefined): string | null {
  const match = header ? /^Basic +([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim()) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon) : null;
}

/** Resolves the UTF-8 body, or `undefined` when it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Longest accepted delay: 10 minutes (longer is surely a typo in a test setup). */
export const MAX_DELAY_MS = 600_000;

function checkDelay(delayMs: number): number {
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
    throw new Error(
      `delayMs: expected a whole number of ms from 0 to ${MAX_DELAY_MS}, got ${String(delayMs)}`,
    );
  }
  return delayMs;
}

function normalizeBase(base: string): string {
  const trimmed = base.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function normalizeRoot(root: string): string {
  const trimmed = root.trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '') throw new Error('serviceRoot: expected a non-empty path segment, e.g. "mcp"');
  return trimmed;
}

function originOf(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/**
 * Test support: a throwaway certificate authority made with `openssl` at test time, and a real
 * https server on 127.0.0.1 serving client metadata documents, counting the requests it answers and
 * the TCP connections it accepts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for localhost, cimd.test and 127.0.0.1 (it is its own CA). */
export interface TestCertificate {
  key: string;
  cert: string;
}

/** Make a P-256 self-signed certificate valid for a day. Throws loudly when openssl is missing. */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'cimd-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,DNS:cimd.test,IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type DocHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A running document server. */
export interface DocServer {
  port: number;
  /** Requests answered, per path. */
  hits: Map<string, number>;
  /** TCP connections accepted. */
  connections: number;
  /** Replace the handler of one path. */
  route(path: string, handler: DocHandler): void;
  close(): Promise<void>;
}

/** Start an https server on 127.0.0.1, port 0. Unrouted paths answer 404. */
export async function startDocServer(tls: TestCertificate): Promise<DocServer> {
  const routes = new Map<string, DocHandler>();
  const hits = new Map<string, number>();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  const state: DocServer = {
    port: 0,
    hits,
    connections: 0,
    route: (path, handler) => routes.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => {
    state.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** A handler answering `document` as JSON with optional extra headers. */
export function jsonDocument(document: unknown, headers: Record<string, string> = {}): DocHandler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(document));
  };
}

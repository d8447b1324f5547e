/**
 * Test support for client ID metadata documents: a certificate made with `openssl` at test time
 * (its own CA) and a real https server on 127.0.0.1 serving JSON documents, counting requests and
 * accepted connections.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DocServer {
  port: number;
  /** PEM certificate to trust (pass as `ca`). */
  cert: string;
  /** Requests answered, per path. */
  hits: Map<string, number>;
  /** TCP connections accepted. */
  connections: number;
  /** Serve `document` as application/json at `path`. */
  serve(path: string, document: unknown): void;
  close(): Promise<void>;
}

function makeCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cimd-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,DNS:cimd.test,IP:127.0.0.1'],
        ...['-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
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

/** Start the document server on 127.0.0.1, port 0. Unknown paths answer 404. */
export async function startDocServer(): Promise<DocServer> {
  const tls = makeCertificate();
  const documents = new Map<string, string>();
  const hits = new Map<string, number>();
  const server = createServer(tls, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = documents.get(path);
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(body);
  });
  const state: DocServer = {
    port: 0,
    cert: tls.cert,
    hits,
    connections: 0,
    serve: (path, document) => documents.set(path, JSON.stringify(document)),
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

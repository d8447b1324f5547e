/**
 * A slow 1C: a transparent HTTP proxy in front of the real emulator that holds `POST .../rpc`
 * requests for `delayMs` before forwarding them (the emulator has no delay option). Login checks
 * (`GET .../health`) pass straight through. It counts the calls it is holding, so a test knows a
 * request is really in flight at the server.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running slow proxy. */
export interface SlowUpstream {
  /** Origin to give the server as `MCP_ONEC_URL`. */
  url: string;
  /** Delay applied to `/rpc` calls from now on. */
  delayMs: number;
  /** `/rpc` calls currently being held or forwarded. */
  readonly pending: number;
  /** Resolves once at least `count` calls are pending. */
  waitForPending(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Start the proxy on a free 127.0.0.1 port, forwarding to `target` (the emulator's origin). */
export async function startSlowUpstream(target: string): Promise<SlowUpstream> {
  let pending = 0;
  const waiters = new Set<() => void>();
  const state = { delayMs: 0 };
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const upstream = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    upstream.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!req.url?.endsWith('/rpc') || state.delayMs === 0) {
        forward(req, res, body);
        return;
      }
      pending++;
      for (const waiter of waiters) waiter();
      res.on('close', () => {
        pending--;
      });
      setTimeout(() => forward(req, res, body), state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    get pending() {
      return pending;
    },
    waitForPending(count, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pending < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`only ${pending} of ${count} calls reached the slow 1C within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

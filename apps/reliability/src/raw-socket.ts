/**
 * HTTP/1.1 over a bare TCP socket: for requests a well-behaved client refuses to send (bytes that
 * are not valid in a header, invalid UTF-8 in the request target, a 64 KiB header). The request is
 * sent with `Connection: close`, the answer read to the end and its head parsed.
 */
import { connect } from 'node:net';
import type { HttpResponse } from './http.js';

/** Options of {@link rawExchange}. */
export interface RawRequest {
  method: string;
  /** The request target exactly as sent (no encoding applied). */
  target: string | Buffer;
  /** Header lines exactly as sent (`name: value`, no CRLF). */
  headerLines?: Array<string | Buffer>;
  body?: Buffer | string;
  /** Deadline for the whole exchange. Default 15 s. */
  timeoutMs?: number;
  /** Source address (e.g. `127.0.0.9`: another client for the per-address limits). */
  localAddress?: string;
}

/** Send `request` to `127.0.0.1:port`; resolves the parsed answer, or rejects on no answer. */
export function rawExchange(port: number, request: RawRequest): Promise<HttpResponse> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const head = Buffer.concat([
    Buffer.from(`${request.method} `, 'latin1'),
    Buffer.from(request.target),
    // The full authority: the server's Host check (DNS rebinding protection) knows it with its port.
    Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`, 'latin1'),
    ...(request.headerLines ?? []).map((line) => Buffer.concat([Buffer.from(line), Buffer.from('\r\n')])),
    Buffer.from(body.length > 0 ? `Content-Length: ${body.length}\r\n\r\n` : '\r\n', 'latin1'),
  ]);
  return new Promise((resolve, reject) => {
    const socket = connect({
      port,
      host: '127.0.0.1',
      ...(request.localAddress ? { localAddress: request.localAddress } : {}),
    });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${request.timeoutMs ?? 15_000} ms`));
    }, request.timeoutMs ?? 15_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may answer (431, 413) and close before reading everything: a reset after an
    // answer still counts as that answer.
    const finish = () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const parsed = parseResponse(raw);
      if (parsed) resolve(parsed);
      else reject(new Error(`no HTTP answer (${raw.length} bytes received)`));
    };
    socket.on('end', finish);
    socket.on('error', finish);
    socket.write(Buffer.concat([head, body]));
  });
}

function parseResponse(raw: Buffer): HttpResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = dechunk(body);
  return { status: Number(status[1]), headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

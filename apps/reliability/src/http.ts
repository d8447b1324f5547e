/**
 * A small HTTP/1.1 client on `node:http`: every request has a deadline (a hang is a finding, not
 * a stuck test), headers and body come back raw, and a source address can be chosen (127.0.0.x)
 * to act as several clients.
 */
import { Agent, type IncomingHttpHeaders, request } from 'node:http';

/** What came back. */
export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Connection pool; default none (one connection per request, closed after). */
  agent?: Agent;
  /** Source address, e.g. `127.0.0.7` (any 127.0.0.0/8 address works on Linux loopback). */
  localAddress?: string;
  /** Deadline for the whole exchange. Default 15 s. */
  timeoutMs?: number;
}

/** A request that did not produce an HTTP response (refused, reset, deadline). */
export class HttpFailure extends Error {
  readonly kind: 'timeout' | 'network';
  constructor(kind: 'timeout' | 'network', message: string) {
    super(message);
    this.name = 'HttpFailure';
    this.kind = kind;
  }
}

/** Send one request; rejects with {@link HttpFailure} when no response arrives. */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: HttpFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (error) => fail(new HttpFailure('network', error.message)));
      },
    );
    const timer = setTimeout(() => {
      fail(
        new HttpFailure('timeout', `${options.method ?? 'GET'} ${url}: no response within ${timeoutMs} ms`),
      );
      req.destroy();
    }, timeoutMs);
    req.on('error', (error) => fail(new HttpFailure('network', error.message)));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A keep-alive pool of at most `sockets` connections (a load generator's clients). */
export function keepAlivePool(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** `application/x-www-form-urlencoded` POST. */
export function postForm(
  url: string,
  form: URLSearchParams | string,
  options: Omit<HttpRequestOptions, 'method' | 'body'> = {},
): Promise<HttpResponse> {
  return httpRequest(url, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    body: form.toString(),
  });
}

/** JSON POST. */
export function postJson(
  url: string,
  value: unknown,
  options: Omit<HttpRequestOptions, 'method' | 'body'> = {},
): Promise<HttpResponse> {
  return httpRequest(url, {
    ...options,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: typeof value === 'string' ? value : JSON.stringify(value),
  });
}

/** The body parsed as JSON, or `undefined` when it is not JSON. */
export function jsonOf(response: HttpResponse): unknown {
  try {
    return JSON.parse(response.body);
  } catch {
    return undefined;
  }
}

/** A header's single value (first of a repeated one). */
export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

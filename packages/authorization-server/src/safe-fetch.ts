/**
 * A small https GET for documents named by untrusted parties (client ID metadata documents), built
 * against SSRF:
 *
 * - https only, no redirects (a 3xx is a failure), a small body limit and one total deadline;
 * - the address is judged where it is used: the request's `lookup` resolves the host name, refuses
 *   the whole answer if ANY address is special-use (private, loopback, link-local...), and hands
 *   the socket only the addresses it validated, so a second DNS answer (rebinding) never reaches
 *   the connection; an IP-literal host (which skips `lookup`) is judged before the request;
 * - the connected socket's remote address is checked once more before a byte is sent.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { isAllowedAddress } from './special-use-addresses.js';

/** Why a safe fetch failed. */
export type SafeFetchFailure =
  | 'url' // not an https URL, or credentials in it
  | 'ssrf' // the host resolves to a refused address
  | 'dns' // the host name does not exist (or has no address): permanent
  | 'redirect'
  | 'status' // any status but 200
  | 'content_type'
  | 'too_large'
  | 'timeout'
  | 'network';

/** A refused or failed fetch. The message names the reason, never the body. */
export class SafeFetchError extends Error {
  readonly reason: SafeFetchFailure;
  /** The HTTP status, for `redirect` / `status`. */
  readonly status: number | undefined;
  constructor(reason: SafeFetchFailure, message: string, status?: number) {
    super(message);
    this.name = 'SafeFetchError';
    this.reason = reason;
    this.status = status;
  }
}

/** Resolves a host name to every address it has (the shape of `dns.promises.lookup(h, {all:true})`). */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

/** Options of {@link safeFetchJson}. */
export interface SafeFetchOptions {
  /** Largest body in bytes. Default 5120 (5 KiB). */
  maxBytes?: number;
  /** Deadline for the whole exchange (lookup, connect, TLS, headers, body) in ms. Default 2500. */
  timeoutMs?: number;
  /**
   * TESTS ONLY: also accept loopback addresses (127.0.0.0/8, ::1). Never set in production: a
   * document URL could then reach services bound to the server's own loopback interface.
   */
  allowLoopback?: boolean;
  /** TESTS ONLY: resolve host names with this instead of `dns.lookup` (e.g. map a test name). */
  resolveHost?: HostResolver;
  /** Extra trusted CA certificates (PEM), e.g. a test CA. Default: Node's bundled roots. */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** A fetched document. */
export interface SafeFetchResult {
  body: string;
  /** The `Cache-Control` response header, if any. */
  cacheControl: string | undefined;
}

export const DEFAULT_MAX_BYTES = 5 * 1024;
export const DEFAULT_TIMEOUT_MS = 2500;

const systemResolver: HostResolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * GET `url` (https) with `Accept: application/json` and resolve its body when the answer is a
 * 200 with a JSON content type within the size limit. Rejects with {@link SafeFetchError}.
 */
export function safeFetchJson(url: string, options: SafeFetchOptions = {}): Promise<SafeFetchResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const allowLoopback = options.allowLoopback === true;
  const resolveHost = options.resolveHost ?? systemResolver;

  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new SafeFetchError('url', 'not an absolute URL'));
  }
  if (target.protocol !== 'https:') return Promise.reject(new SafeFetchError('url', 'only https is fetched'));
  if (target.username || target.password) {
    return Promise.reject(new SafeFetchError('url', 'credentials in the URL are refused'));
  }
  const literal = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal) !== 0 && !isAllowedAddress(literal, allowLoopback)) {
    return Promise.reject(new SafeFetchError('ssrf', 'the host is a refused (special-use) address'));
  }

  return new Promise<SafeFetchResult>((resolve, reject) => {
    let settled = false;
    const finish = (error: SafeFetchError | undefined, result?: SafeFetchResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(result as SafeFetchResult);
    };

    // Called by the socket itself: whatever it returns is all the socket may connect to.
    const lookup = (hostname: string, lookupOptions: { all?: boolean }, callback: LookupCallback): void => {
      resolveHost(hostname).then(
        (addresses) => {
          if (addresses.length === 0) {
            callback(new SafeFetchError('dns', 'the host name does not resolve'), '');
            return;
          }
          if (addresses.some((a) => !isAllowedAddress(a.address, allowLoopback))) {
            callback(new SafeFetchError('ssrf', 'the host resolves to a refused (special-use) address'), '');
            return;
          }
          if (lookupOptions.all) callback(null, addresses);
          else {
            const first = addresses[0] as LookupAddress;
            callback(null, first.address, first.family);
          }
        },
        (error: unknown) => {
          // NXDOMAIN / no address is the document's fault (permanent); a resolver that did not
          // answer (EAI_AGAIN, timeouts) may answer later.
          const code = (error as { code?: unknown } | null)?.code;
          callback(
            code === 'ENOTFOUND' || code === 'ENODATA'
              ? new SafeFetchError('dns', 'the host name does not resolve')
              : new SafeFetchError('network', 'the host name could not be resolved now'),
            '',
          );
        },
      );
    };

    const req = request(target, {
      method: 'GET',
      agent: false,
      lookup: lookup as never,
      headers: { accept: 'application/json', 'accept-encoding': 'identity' },
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    const timer = setTimeout(
      () => finish(new SafeFetchError('timeout', `no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );

    req.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        // Belt and braces: the address actually connected to, judged again.
        const remote = socket.remoteAddress;
        if (remote === undefined || !isAllowedAddress(remote, allowLoopback)) {
          finish(new SafeFetchError('ssrf', 'connected to a refused (special-use) address'));
        }
      });
    });
    req.on('error', (error) => {
      if (error instanceof SafeFetchError) finish(error);
      else if ((error as { cause?: unknown }).cause instanceof SafeFetchError) {
        finish((error as { cause: SafeFetchError }).cause);
      } else finish(new SafeFetchError('network', `the request failed (${networkCode(error)})`));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        finish(
          new SafeFetchError(
            'redirect',
            `answered with a redirect (${status}); redirects are not followed`,
            status,
          ),
        );
        return;
      }
      if (status !== 200) {
        finish(new SafeFetchError('status', `answered with status ${status}`, status));
        return;
      }
      const type = String(res.headers['content-type'] ?? '').toLowerCase();
      if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/.test(type)) {
        finish(new SafeFetchError('content_type', 'the content type is not application/json'));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        finish(new SafeFetchError('too_large', `the document is larger than ${maxBytes} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(new SafeFetchError('too_large', `the document is larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const cacheControl = res.headers['cache-control'];
        finish(undefined, {
          body: Buffer.concat(chunks).toString('utf8'),
          cacheControl: typeof cacheControl === 'string' ? cacheControl : undefined,
        });
      });
      res.on('error', () => finish(new SafeFetchError('network', 'the response was cut off')));
    });
    req.end();
  });
}

/** A short, secret-free name for a network error (ECONNREFUSED, CERT_HAS_EXPIRED...). */
function networkCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'network error';
}

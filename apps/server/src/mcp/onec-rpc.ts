/**
 * JSON-RPC 2.0 calls to the 1C HTTP service (`POST {service}/rpc`) with the authorized user's own
 * Basic credentials. Every failure becomes an {@link OneCRpcError} with a JSON-RPC error code, so
 * the MCP client always gets a JSON-RPC error, never an HTTP 500.
 */
import { basicAuthorization } from '@oauth-cache/authorization-server';

/** The 1C credentials carried (sealed) in a token's `userData`. */
export interface OneCCredentials {
  login: string;
  password: string;
}

/** JSON-RPC error codes of the gateway (implementation-defined server errors, -32000..-32099). */
export const GATEWAY_ERRORS = {
  /** 1C did not answer (network error, timeout, 5xx). */
  onecUnavailable: -32010,
  /** 1C refused the stored credentials (401): the password changed; authorize again. */
  onecUnauthorized: -32011,
  /** The 1C user has no right to the HTTP service (403). */
  onecForbidden: -32012,
  /** 1C answered something that is not a JSON-RPC response. */
  onecBadResponse: -32013,
} as const;

/** An error to hand to the MCP client as a JSON-RPC error (`code`, `message`, `data`). */
export class OneCRpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'OneCRpcError';
    this.code = code;
    this.data = data;
  }
}

/** Options of {@link OneCRpcClient}. */
export interface OneCRpcClientOptions {
  /** `{MCP_ONEC_URL}/hs/{root}`. */
  serviceUrl: string;
  timeoutMs: number;
  /** Largest 1C response read, bytes (default 16 MiB). */
  maxResponseBytes?: number;
  /** Told about upstream failures (secret-free reason). */
  onFailure?: (reason: string) => void;
}

/** Calls 1C's JSON-RPC endpoint. */
export class OneCRpcClient {
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #onFailure: ((reason: string) => void) | undefined;
  #nextId = 1;

  constructor(options: OneCRpcClientOptions) {
    this.#url = `${options.serviceUrl.replace(/\/+$/, '')}/rpc`;
    this.#timeoutMs = options.timeoutMs;
    this.#maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
    this.#onFailure = options.onFailure;
  }

  /** Call `method` with `params` as `credentials`; resolves the JSON-RPC `result`. */
  async call(
    method: string,
    params: unknown,
    credentials: OneCCredentials,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const authorization = basicAuthorization(credentials.login, credentials.password);
    if (!authorization)
      throw new OneCRpcError(
        GATEWAY_ERRORS.onecUnauthorized,
        '1C credentials cannot be sent; authorize again',
      );
    const id = this.#nextId++;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }),
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      this.#onFailure?.(
        name === 'TimeoutError' ? `1C ${method}: timeout` : `1C ${method}: network error (${name})`,
      );
      throw new OneCRpcError(GATEWAY_ERRORS.onecUnavailable, '1C is not reachable; try again later');
    }
    if (response.status === 401) {
      await discard(response);
      throw new OneCRpcError(
        GATEWAY_ERRORS.onecUnauthorized,
        '1C rejected the stored credentials; authorize again',
      );
    }
    if (response.status === 403) {
      await discard(response);
      throw new OneCRpcError(
        GATEWAY_ERRORS.onecForbidden,
        'this 1C user has no right to the MCP HTTP service',
      );
    }
    if (response.status === 413) {
      await discard(response);
      throw new OneCRpcError(-32600, 'the request is too large for 1C');
    }
    if (response.status >= 500 || (response.status !== 200 && response.status !== 204)) {
      await discard(response);
      this.#onFailure?.(`1C ${method}: HTTP ${response.status}`);
      throw new OneCRpcError(
        GATEWAY_ERRORS.onecUnavailable,
        `1C answered HTTP ${response.status}; try again later`,
      );
    }
    let text: string | undefined;
    try {
      text = await readLimited(response, this.#maxBytes);
    } catch {
      this.#onFailure?.(`1C ${method}: response interrupted`);
      throw new OneCRpcError(GATEWAY_ERRORS.onecUnavailable, '1C is not reachable; try again later');
    }
    let message: unknown;
    try {
      message = JSON.parse(text ?? '');
    } catch {
      this.#onFailure?.(`1C ${method}: response is not JSON`);
      throw new OneCRpcError(GATEWAY_ERRORS.onecBadResponse, '1C returned an invalid response');
    }
    return unwrap(message, method, this.#onFailure);
  }
}

function unwrap(message: unknown, method: string, onFailure?: (reason: string) => void): unknown {
  if (typeof message !== 'object' || message === null) {
    onFailure?.(`1C ${method}: response is not a JSON-RPC object`);
    throw new OneCRpcError(GATEWAY_ERRORS.onecBadResponse, '1C returned an invalid response');
  }
  const m = message as { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
  if (m.error !== undefined) {
    const code =
      typeof m.error.code === 'number' && Number.isSafeInteger(m.error.code) ? m.error.code : -32603;
    const text =
      typeof m.error.message === 'string' ? m.error.message.slice(0, 2000) : '1C reported an error';
    throw new OneCRpcError(code, text, m.error.data);
  }
  if (!('result' in m)) {
    onFailure?.(`1C ${method}: JSON-RPC response without result`);
    throw new OneCRpcError(GATEWAY_ERRORS.onecBadResponse, '1C returned an invalid response');
  }
  return m.result;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/** The body as text, or `undefined` beyond `max` bytes. */
async function readLimited(response: Response, max: number): Promise<string | undefined> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

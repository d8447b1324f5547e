/**
 * Serving the gateway's MCP server over Streamable HTTP for both protocol eras with the MCP SDK v2:
 *
 * - 2026-07-28 (requests carry the `_meta` envelope and `MCP-Protocol-Version`, `Mcp-Method`,
 *   `Mcp-Name` headers): `createMcpHandler` with `legacy: 'reject'`. It owns the era's validation
 *   ladder (unsupported versions, header/body mismatches, malformed envelopes: the spec's error
 *   codes and HTTP statuses, the request's id echoed), `server/discover`, and the cache fields.
 * - 2025-11-25, 2025-06-18, 2025-03-26 (`initialize` handshake): the SDK's stateless
 *   `WebStandardStreamableHTTPServerTransport` with JSON responses, routed by the SDK's own
 *   `isLegacyRequest` predicate. Not the entry's built-in fallback: that one answers with SSE
 *   streams, and this gateway has always answered 2025 clients with plain JSON bodies.
 *
 * The same per-request server factory backs both, so the eras cannot drift apart.
 */
import {
  type AuthInfo,
  createMcpHandler,
  isLegacyRequest,
  type Server,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';

/** Builds the MCP server for one request of the principal `authInfo` describes. */
export type GatewayServerFactory = (authInfo: AuthInfo | undefined) => Server;

/** Serves one authorized MCP POST (web-standard request and response). */
export interface GatewayHttp {
  /** `body` is the already-read, parsed JSON body of `request`. */
  serve(request: Request, body: unknown, authInfo: AuthInfo): Promise<Response>;
  /** Ends in-flight 2026-07-28 exchanges (shutdown). */
  close(): Promise<void>;
}

/** Options of {@link createGatewayHttp}. */
export interface GatewayHttpOptions {
  /** Largest body, bytes (the route reads the body itself; the SDK checks the same bound). */
  maxRequestBodySize: number;
  /** Told about requests the SDK rejected and handler failures (reporting only). */
  onerror?: (error: Error) => void;
}

/** The two-era HTTP face of the gateway. */
export function createGatewayHttp(factory: GatewayServerFactory, options: GatewayHttpOptions): GatewayHttp {
  const modern = createMcpHandler(({ authInfo }) => factory(authInfo), {
    legacy: 'reject',
    maxRequestBodySize: options.maxRequestBodySize,
    ...(options.onerror ? { onerror: options.onerror } : {}),
  });
  return {
    async serve(request, body, authInfo) {
      const legacy = await isLegacyRequest(request, body, { maxRequestBodySize: options.maxRequestBodySize });
      if (!legacy) return modern.fetch(request, { authInfo, parsedBody: body });
      return serveLegacy(factory(authInfo), request, body, authInfo);
    },
    close: () => modern.close(),
  };
}

/** One 2025-era request on a fresh server and stateless transport, answered with a JSON body. */
async function serveLegacy(
  server: Server,
  request: Request,
  body: unknown,
  authInfo: AuthInfo,
): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    // With JSON responses the promise settles once the whole answer exists: nothing streams on.
    return withRequestId(await transport.handleRequest(request, { parsedBody: body, authInfo }), body);
  } finally {
    await transport.close().catch(() => undefined);
    await server.close().catch(() => undefined);
  }
}

/**
 * The legacy transport answers its own refusals (406 for a bad `Accept`, 400 for an unknown
 * `MCP-Protocol-Version`) with `id: null` even when the request had one. JSON-RPC reserves a null
 * id for requests whose id cannot be read: give the client its id back so it can match the error.
 */
async function withRequestId(response: Response, body: unknown): Promise<Response> {
  const id = requestIdOf(body);
  if (response.ok || id === null || !response.headers.get('content-type')?.startsWith('application/json')) {
    return response;
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return new Response(text, response);
  }
  if (typeof answer !== 'object' || answer === null || !('error' in answer) || !('id' in answer)) {
    return new Response(text, response);
  }
  if (answer.id !== null) return new Response(text, response);
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(JSON.stringify({ ...answer, id }), { status: response.status, headers });
}

/** The JSON-RPC id of a single request body; `null` for notifications, batches and garbage. */
export function requestIdOf(body: unknown): string | number | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('id' in body)) return null;
  const { id } = body;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}

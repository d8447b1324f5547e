/**
 * The MCP side of the gateway: a low-level MCP `Server` (SDK v2) whose tools, resources and prompts
 * requests are forwarded, as they are, to 1C. One instance per HTTP request, for either protocol
 * era: the SDK encodes the same handler results for 2026-07-28 (cache fields, `_meta`) and for the
 * 2025 revisions.
 */
import { type CacheHint, Server, type ServerContext, specTypeSchemas } from '@modelcontextprotocol/server';
import { GATEWAY_ERRORS, OneCRpcError } from './onec-rpc.js';

/** Forwards one MCP method with its params to 1C; resolves the JSON-RPC result. */
export type Forward = (method: string, params: unknown, signal: AbortSignal) => Promise<unknown>;

/** Name and version announced in `initialize` and `server/discover`. */
export const GATEWAY_INFO = { name: 'oauth-cache-1c-gateway', version: '0.1.0' } as const;

/**
 * Cache hints of the 2026-07-28 cacheable results, used when 1C's result carries no `ttlMs` /
 * `cacheScope` of its own. Everything is `private`: 1C answers as the signed-in user, whose rights
 * decide which tools, prompts and resources exist. Listings change when 1C is reconfigured, so a
 * minute; resource contents are live data, never cached.
 */
export const GATEWAY_CACHE_HINTS = {
  'server/discover': { ttlMs: 300_000, cacheScope: 'private' },
  'tools/list': { ttlMs: 60_000, cacheScope: 'private' },
  'prompts/list': { ttlMs: 60_000, cacheScope: 'private' },
  'resources/list': { ttlMs: 60_000, cacheScope: 'private' },
  'resources/templates/list': { ttlMs: 60_000, cacheScope: 'private' },
  'resources/read': { ttlMs: 0, cacheScope: 'private' },
} as const satisfies Record<string, CacheHint>;

/** Build the MCP server for one request. */
export function createGatewayServer(forward: Forward): Server {
  const server = new Server(GATEWAY_INFO, {
    capabilities: { tools: {}, resources: {}, prompts: {} },
    instructions: 'Tools, resources and prompts of a 1C:Enterprise database, run as the signed-in 1C user.',
    cacheHints: GATEWAY_CACHE_HINTS,
  });
  // Each result is 1C's, passed on as it is once it has the shape the method's result must have:
  // a malformed one becomes a JSON-RPC error naming what is wrong, never a schema-invalid result.
  const relay = async (method: string, params: unknown, ctx: ServerContext) =>
    forward(method, params, ctx.mcpReq.signal);
  server.setRequestHandler('tools/list', async (request, ctx) =>
    checked(specTypeSchemas.ListToolsResult, 'tools/list', await relay('tools/list', request.params, ctx)),
  );
  server.setRequestHandler('tools/call', async (request, ctx) =>
    checked(specTypeSchemas.CallToolResult, 'tools/call', await relay('tools/call', request.params, ctx)),
  );
  server.setRequestHandler('resources/list', async (request, ctx) =>
    checked(
      specTypeSchemas.ListResourcesResult,
      'resources/list',
      await relay('resources/list', request.params, ctx),
    ),
  );
  server.setRequestHandler('resources/templates/list', async (request, ctx) =>
    checked(
      specTypeSchemas.ListResourceTemplatesResult,
      'resources/templates/list',
      await relay('resources/templates/list', request.params, ctx).catch(noTemplatesWhenUnknown),
    ),
  );
  server.setRequestHandler('resources/read', async (request, ctx) =>
    checked(
      specTypeSchemas.ReadResourceResult,
      'resources/read',
      await relay('resources/read', request.params, ctx).catch((error: unknown) => {
        throw withResourceUri(error, request.params.uri);
      }),
    ),
  );
  server.setRequestHandler('prompts/list', async (request, ctx) =>
    checked(
      specTypeSchemas.ListPromptsResult,
      'prompts/list',
      await relay('prompts/list', request.params, ctx),
    ),
  );
  server.setRequestHandler('prompts/get', async (request, ctx) =>
    checked(specTypeSchemas.GetPromptResult, 'prompts/get', await relay('prompts/get', request.params, ctx)),
  );
  return server;
}

/** JSON-RPC "method not found". */
const METHOD_NOT_FOUND = -32601;
/** "Resource not found": -32002 of the 2025 revisions (the SDK sends it as 2026-07-28's -32602). */
const RESOURCE_NOT_FOUND = [-32002, -32602];

/**
 * The gateway advertises `resources`, so `resources/templates/list` must answer; a 1C extension
 * that has no templates may not know the method at all: that is an empty list, not an error.
 */
function noTemplatesWhenUnknown(error: unknown): { resourceTemplates: [] } {
  if (error instanceof OneCRpcError && error.code === METHOD_NOT_FOUND) return { resourceTemplates: [] };
  throw error;
}

/**
 * 1C's "resource not found" with the requested URI in `error.data.uri` (SEP-2164: clients match
 * the error to the resource by it), unless 1C named it already.
 */
function withResourceUri(error: unknown, uri: string): unknown {
  if (!(error instanceof OneCRpcError) || !RESOURCE_NOT_FOUND.includes(error.code)) return error;
  const data = typeof error.data === 'object' && error.data !== null ? error.data : {};
  if ('uri' in data) return error;
  return new OneCRpcError(error.code, error.message, { ...data, uri });
}

/** The synchronous validator every spec schema of the SDK offers. */
interface SpecSchema<T> {
  readonly '~standard': {
    validate(value: unknown):
      | { value: T; issues?: undefined }
      | {
          issues: ReadonlyArray<{
            message: string;
            path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
          }>;
        };
  };
}

/**
 * `result` if it is a valid `method` result, else an {@link OneCRpcError} (`onecBadResponse`)
 * naming the first problem (a path and a schema message: no 1C data is echoed).
 */
export function checked<T>(schema: SpecSchema<T>, method: string, result: unknown): T {
  const outcome = schema['~standard'].validate(result);
  if (outcome.issues === undefined) return outcome.value;
  const [first] = outcome.issues;
  const path = (first?.path ?? [])
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.');
  throw new OneCRpcError(
    GATEWAY_ERRORS.onecBadResponse,
    `1C returned a malformed ${method} result${path ? ` (at ${path})` : ''}: ${first?.message ?? 'invalid'}`,
  );
}

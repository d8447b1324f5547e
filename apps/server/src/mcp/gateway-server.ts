/**
 * The MCP side of the gateway: a low-level MCP `Server` whose tools, resources and prompts requests
 * are forwarded, as they are, to 1C. One instance per HTTP request (stateless Streamable HTTP).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type ServerResult,
} from '@modelcontextprotocol/sdk/types.js';

/** Forwards one MCP method with its params to 1C; resolves the JSON-RPC result. */
export type Forward = (method: string, params: unknown, signal: AbortSignal) => Promise<unknown>;

/** Name and version announced in `initialize`. */
export const GATEWAY_INFO = { name: 'oauth-cache-1c-gateway', version: '0.1.0' } as const;

/** Build the MCP server for one request. */
export function createGatewayServer(forward: Forward): Server {
  const server = new Server(GATEWAY_INFO, {
    capabilities: { tools: {}, resources: {}, prompts: {} },
    instructions: 'Tools, resources and prompts of a 1C:Enterprise database, run as the signed-in 1C user.',
  });
  // The results are 1C's, passed on as they are (the SDK validates tools/call results itself).
  const relay =
    (method: string) =>
    async (request: { params?: unknown }, extra: { signal: AbortSignal }): Promise<ServerResult> =>
      (await forward(method, request.params, extra.signal)) as ServerResult;
  server.setRequestHandler(ListToolsRequestSchema, relay('tools/list'));
  server.setRequestHandler(CallToolRequestSchema, relay('tools/call'));
  server.setRequestHandler(ListResourcesRequestSchema, relay('resources/list'));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, relay('resources/templates/list'));
  server.setRequestHandler(ReadResourceRequestSchema, relay('resources/read'));
  server.setRequestHandler(ListPromptsRequestSchema, relay('prompts/list'));
  server.setRequestHandler(GetPromptRequestSchema, relay('prompts/get'));
  return server;
}

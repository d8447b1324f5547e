/**
 * `/mcp`: Streamable HTTP (stateless: a fresh MCP server and transport per request) behind bearer
 * auth. The token's sealed `userData` holds the user's own 1C credentials; they, never the
 * client's token and never a shared account, authenticate the forwarded call.
 */
import Router from '@koa/router';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { TokenCache, TokenValidation } from '@oauth-cache/core';
import { bearerAuth } from '@oauth-cache/koa';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { BodyError, readJson } from '../http/body.js';
import { cors } from '../http/cors.js';
import { createGatewayServer } from './gateway-server.js';
import { GATEWAY_ERRORS, type OneCCredentials, type OneCRpcClient, OneCRpcError } from './onec-rpc.js';

/** Largest MCP request accepted. */
export const MCP_BODY_LIMIT = 4 * 1024 * 1024;

export interface McpRouteDeps {
  cache: TokenCache;
  onec: OneCRpcClient;
  /** Canonical MCP URL: the audience tokens must carry. */
  resource: string;
  resourceMetadataUrl: string;
  requiredScopes: readonly string[];
  logger: Logger;
}

export function mcpRoutes(deps: McpRouteDeps): Router {
  const router = new Router();
  const allow = cors('GET, POST, DELETE, OPTIONS');
  const auth = bearerAuth({
    cache: deps.cache,
    requiredScopes: deps.requiredScopes,
    resource: deps.resource,
    resourceMetadataUrl: deps.resourceMetadataUrl,
  });
  router.options('/mcp', allow);
  router.all('/mcp', allow, auth, async (ctx) => {
    if (ctx.method !== 'POST') {
      // Stateless: no server-initiated stream (GET) and no session to delete (DELETE).
      ctx.set('Allow', 'POST, OPTIONS');
      rpcError(ctx, 405, -32000, 'Method not allowed: this server is stateless, use POST');
      return;
    }
    let body: unknown;
    try {
      body = await readJson(ctx, MCP_BODY_LIMIT);
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      if (error.status === 413) ctx.set('Connection', 'close');
      rpcError(ctx, error.status, error.status === 400 ? -32700 : -32600, error.description);
      return;
    }
    const validation = ctx.state.auth as TokenValidation;
    const credentials = credentialsOf(validation.userData);
    if (!credentials) {
      rpcError(
        ctx,
        403,
        GATEWAY_ERRORS.onecUnauthorized,
        'this token carries no 1C credentials; authorize again',
      );
      return;
    }
    await serve(ctx, deps, validation, credentials, body);
  });
  return router;
}

async function serve(
  ctx: Context,
  deps: McpRouteDeps,
  validation: TokenValidation,
  credentials: OneCCredentials,
  body: unknown,
): Promise<void> {
  const server = createGatewayServer(async (method, params, signal) => {
    try {
      return await deps.onec.call(method, params, credentials, signal);
    } catch (error) {
      if (error instanceof OneCRpcError && error.code === GATEWAY_ERRORS.onecUnauthorized) {
        // The 1C password changed or the user was disabled: this grant is useless, end it so the
        // client's next request gets a 401 and starts a new authorization.
        await deps.cache.revokeFamily(validation.familyId).catch(() => undefined);
        deps.logger.warn(
          { event: 'onec_credentials_rejected', user: validation.userId },
          '1C rejected stored credentials; grant revoked',
        );
      }
      throw error;
    }
  });
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  ctx.respond = false;
  ctx.res.on('close', () => {
    void transport.close().catch(() => undefined);
    void server.close().catch(() => undefined);
  });
  await server.connect(transport);
  await transport.handleRequest(ctx.req, ctx.res, body);
}

function credentialsOf(userData: unknown): OneCCredentials | undefined {
  if (typeof userData !== 'object' || userData === null) return undefined;
  const { login, password } = userData as Partial<OneCCredentials>;
  return typeof login === 'string' && typeof password === 'string' ? { login, password } : undefined;
}

function rpcError(ctx: Context, status: number, code: number, message: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { jsonrpc: '2.0', id: null, error: { code, message } };
}

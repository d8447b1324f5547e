/**
 * `/mcp`: Streamable HTTP behind bearer auth, stateless (a fresh MCP server per request), for the
 * 2026-07-28 protocol and for 2025-era clients (see `gateway-http.ts`). The token's sealed
 * `userData` holds the user's own 1C credentials; they, never the client's token and never a
 * shared account, authenticate the forwarded call.
 */
import Router from '@koa/router';
import type { TokenCache, TokenValidation } from '@oauth-cache/core';
import { bearerAuth, parseBearerHeader } from '@oauth-cache/koa';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { BodyError, readJson } from '../http/body.js';
import { cors } from '../http/cors.js';
import { createGatewayHttp, type GatewayHttp, requestIdOf } from './gateway-http.js';
import { createGatewayServer } from './gateway-server.js';
import { GATEWAY_ERRORS, type OneCRpcClient, OneCRpcError } from './onec-rpc.js';
import { credentialsOf, principalOf, toAuthInfo } from './principal.js';
import { sendWebResponse, toWebRequest } from './web-bridge.js';

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
  const gateway = gatewayHttp(deps);
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
    const parsed = parseBearerHeader(ctx.req.headers.authorization);
    if (!credentials || parsed.kind !== 'token') {
      rpcError(
        ctx,
        403,
        GATEWAY_ERRORS.onecUnauthorized,
        'this token carries no 1C credentials; authorize again',
        requestIdOf(body),
      );
      return;
    }
    const aborted = new AbortController();
    // The client went away before the answer was written: stop waiting for 1C.
    ctx.res.once('close', () => {
      if (!ctx.res.writableFinished) aborted.abort();
    });
    const request = toWebRequest(ctx, deps.resource, aborted.signal);
    const response = await gateway.serve(request, body, toAuthInfo(parsed.token, validation, credentials));
    await sendWebResponse(ctx, response);
  });
  return router;
}

/** One {@link GatewayHttp} for the route: each request's server forwards as that request's user. */
function gatewayHttp(deps: McpRouteDeps): GatewayHttp {
  return createGatewayHttp(
    (authInfo) => {
      const principal = principalOf(authInfo);
      return createGatewayServer(async (method, params, signal) => {
        if (!principal) {
          throw new OneCRpcError(GATEWAY_ERRORS.onecUnauthorized, 'no 1C credentials; authorize again');
        }
        try {
          return await deps.onec.call(method, params, principal.credentials, signal);
        } catch (error) {
          if (error instanceof OneCRpcError && error.code === GATEWAY_ERRORS.onecUnauthorized) {
            // The 1C password changed or the user was disabled: this grant is useless, end it so the
            // client's next request gets a 401 and starts a new authorization.
            await deps.cache.revokeFamily(principal.familyId).catch(() => undefined);
            deps.logger.warn(
              { event: 'onec_credentials_rejected', user: principal.userId },
              '1C rejected stored credentials; grant revoked',
            );
          }
          throw error;
        }
      });
    },
    {
      maxRequestBodySize: MCP_BODY_LIMIT,
      onerror: (error) => deps.logger.debug({ event: 'mcp_request_rejected', reason: error.message }, 'MCP'),
    },
  );
}

function rpcError(
  ctx: Context,
  status: number,
  code: number,
  message: string,
  id: string | number | null = null,
): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { jsonrpc: '2.0', id, error: { code, message } };
}

/**
 * CORS for the endpoints browser-based MCP clients call directly (discovery, registration, token,
 * revocation, MCP). Tokens travel in the Authorization header, never in cookies, so a wildcard
 * origin grants nothing a page could not already do with its own token.
 */
import type { Middleware } from 'koa';

const ALLOWED_HEADERS =
  'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID, X-Request-Id';
const EXPOSED_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, Retry-After, X-Request-Id';

/** Adds CORS headers and answers preflight requests with 204. */
export function cors(methods: string): Middleware {
  return async function corsMiddleware(ctx, next) {
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', methods);
      ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    await next();
  };
}

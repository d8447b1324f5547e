/** `POST /token` and `POST /revoke` (RFC 6749 §3.2, RFC 7009). */
import Router from '@koa/router';
import type { AuthorizationServer } from '@oauth-cache/authorization-server';
import { readForm } from '../http/body.js';
import { cors } from '../http/cors.js';
import { noStore, oauthJsonErrors, sendJson } from '../http/oauth-json.js';

/** Largest token/revocation request accepted. */
export const TOKEN_BODY_LIMIT = 16 * 1024;

export function tokenRoutes(as: AuthorizationServer): Router {
  const router = new Router();
  const allow = cors('POST, OPTIONS');
  router.options('/token', allow);
  router.post('/token', allow, oauthJsonErrors(), async (ctx) => {
    const params = await readForm(ctx, TOKEN_BODY_LIMIT);
    const authorization = ctx.get('authorization');
    // `ctx.ip` honours MCP_TRUST_PROXY / MCP_TRUSTED_PROXY_HOPS (see app.ts), as the login limiter
    // does: the address the security log reports for a reused refresh token.
    sendJson(
      ctx,
      200,
      await as.token(params, { ...(authorization ? { authorization } : {}), clientAddress: ctx.ip }),
    );
  });
  router.options('/revoke', allow);
  router.post('/revoke', allow, oauthJsonErrors(), async (ctx) => {
    const params = await readForm(ctx, TOKEN_BODY_LIMIT);
    await as.revoke(params);
    noStore(ctx);
    ctx.status = 200;
    ctx.body = '';
  });
  return router;
}

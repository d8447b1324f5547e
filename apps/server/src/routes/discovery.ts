/** RFC 8414 and RFC 9728 discovery documents. */
import Router from '@koa/router';
import type { AuthorizationServer } from '@oauth-cache/authorization-server';
import { cors } from '../http/cors.js';

/** `/.well-known/oauth-authorization-server`, `/.well-known/oauth-protected-resource[/mcp]`. */
export function discoveryRoutes(as: AuthorizationServer): Router {
  const router = new Router();
  const asMetadata = as.metadata();
  const prMetadata = as.protectedResourceMetadata();
  const allow = cors('GET, OPTIONS');
  router.options('/.well-known/oauth-authorization-server', allow);
  router.get('/.well-known/oauth-authorization-server', allow, (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = asMetadata;
  });
  // The path-suffixed form names the resource at /mcp (RFC 9728 §3.1); the root form is kept for
  // clients that only try the root.
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    router.options(path, allow);
    router.get(path, allow, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = prMetadata;
    });
  }
  return router;
}

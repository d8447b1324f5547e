/** `POST /register`: RFC 7591 dynamic client registration (public clients only). */
import Router from '@koa/router';
import { type AuthorizationServer, addressBucket } from '@oauth-cache/authorization-server';
import { readJson } from '../http/body.js';
import { cors } from '../http/cors.js';
import type { IpWindowLimit } from '../http/ip-window-limit.js';
import { oauthJsonErrors, sendJson } from '../http/oauth-json.js';

/** Largest registration document accepted. */
export const REGISTER_BODY_LIMIT = 16 * 1024;

export function registerRoutes(as: AuthorizationServer, limit: IpWindowLimit): Router {
  const router = new Router();
  const allow = cors('POST, OPTIONS');
  router.options('/register', allow);
  router.post('/register', allow, oauthJsonErrors('invalid_client_metadata'), async (ctx) => {
    const metadata = await readJson(ctx, REGISTER_BODY_LIMIT);
    // Per /64 for IPv6: one client owns the whole prefix and could rotate through it.
    const retryAfter = await limit.hit(addressBucket(ctx.ip));
    if (retryAfter !== undefined) {
      ctx.set('Retry-After', String(retryAfter));
      sendJson(ctx, 429, {
        error: 'invalid_request',
        error_description: 'too many registrations from this address; retry later',
      });
      return;
    }
    sendJson(ctx, 201, await as.register(metadata));
  });
  return router;
}

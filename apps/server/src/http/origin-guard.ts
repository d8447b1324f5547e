/**
 * DNS rebinding protection in front of `/mcp` and the OAuth endpoints: requests naming a host this
 * server does not serve, and `/mcp` requests from a page whose origin is not allowed, are refused
 * with 403 before routing, CORS, bearer auth or body reading. The answer never depends on the
 * token: a rebinding page has none, and must learn nothing by trying.
 *
 * Health, status and metrics are not guarded: probes and scrapers address an instance by its own
 * IP (`Host: 10.0.0.7:8000`), and those endpoints hold no user data (status and metrics sit behind
 * OAUTH_CACHE_STATUS_TOKEN in production).
 */
import { errorDescription } from '@oauth-cache/authorization-server';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { type ServerEvents, serverEvents } from '../console/event-feed.js';
import { sendHtml } from '../views/html.js';
import { messagePage } from '../views/message-page.js';
import { sendJson } from './oauth-json.js';
import type { RequestOriginRules } from './request-origin-rules.js';

/** JSON-RPC error code of the refusal: the one the MCP SDK's own rebinding protection answers. */
export const REBINDING_REFUSAL_CODE = -32000;

/** Which answer a guarded path gets. */
type Guarded = 'mcp' | 'oauth-json' | 'oauth-page' | undefined;

const OAUTH_JSON_PATHS = new Set(['/token', '/register', '/revoke']);

/**
 * The kind of endpoint `path` reaches. Matched the way the router matches (case-insensitive, one
 * optional trailing slash), so `/MCP/` cannot slip past the guard into the MCP route.
 */
function guardedKind(path: string): Guarded {
  const p = path.toLowerCase().replace(/(.)\/$/, '$1');
  if (p === '/mcp' || p.startsWith('/mcp/')) return 'mcp';
  if (OAUTH_JSON_PATHS.has(p) || p.startsWith('/.well-known/')) return 'oauth-json';
  if (p === '/authorize') return 'oauth-page';
  return undefined;
}

/** Options of {@link originGuard}. */
export interface OriginGuardOptions {
  rules: RequestOriginRules;
  logger: Logger;
  /** Writes the refusal line and feeds the operator console (default: the logger only). */
  events?: ServerEvents;
}

/**
 * Refuses, with 403: on `/mcp` a `Host` or `Origin` that is not allowed (JSON-RPC error, as the MCP
 * SDK answers); on `/token`, `/register`, `/revoke`, `/.well-known/*` a `Host` that is not allowed
 * (RFC 6749-shaped `invalid_request`); on `/authorize` the same as an HTML page. The login form's
 * cross-site check (`POST /authorize`) stays in its route, with the same origin rules.
 */
export function originGuard(options: OriginGuardOptions): Middleware {
  const { rules } = options;
  const events = options.events ?? serverEvents(options.logger);
  return async function originGuardMiddleware(ctx, next) {
    const kind = guardedKind(ctx.path);
    if (kind === undefined) return next();
    // The Host the client sent, not Koa's `ctx.host`: with MCP_TRUST_PROXY that prefers
    // X-Forwarded-Host, which a rebinding page (same origin as its target) can set itself.
    const refusal =
      rules.hostRefusal(ctx.get('host') || undefined) ??
      (kind === 'mcp' ? rules.originRefusal(ctx.get('origin') || undefined) : undefined);
    if (refusal === undefined) return next();
    events.report(
      'warn',
      { event: 'request_origin_refused', reason: refusal, path: ctx.path, clientAddress: ctx.ip },
      'request refused: host or origin not allowed',
    );
    refuse(ctx, kind, refusal);
  };
}

function refuse(ctx: Context, kind: Exclude<Guarded, undefined>, refusal: string): void {
  switch (kind) {
    case 'mcp':
      ctx.set('Cache-Control', 'no-store');
      ctx.status = 403;
      ctx.body = { jsonrpc: '2.0', id: null, error: { code: REBINDING_REFUSAL_CODE, message: refusal } };
      return;
    case 'oauth-json':
      sendJson(ctx, 403, { error: 'invalid_request', error_description: errorDescription(refusal) });
      return;
    case 'oauth-page':
      sendHtml(
        ctx,
        403,
        messagePage(
          'Wrong address',
          'This sign-in page was opened through an address this server does not answer to. Open the sign-in link from your application again.',
          refusal,
        ),
      );
      return;
  }
}

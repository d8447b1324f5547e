/** The Koa application: middleware order and routes. */
import type Router from '@koa/router';
import type { AuthorizationServer } from '@oauth-cache/authorization-server';
import type { TokenCache } from '@oauth-cache/core';
import { type CacheMetrics, oauthErrorHandler, requestLogger, statusRoutes } from '@oauth-cache/koa';
import Koa from 'koa';
import type { Logger } from 'pino';
import { ConsoleCredentials } from './console/credentials.js';
import { directoryOf } from './console/directory.js';
import { serverEvents } from './console/event-feed.js';
import type { OperatorConsole } from './console/operator-console.js';
import { consoleRoutes } from './console/routes.js';
import { countResponses } from './console/server-metrics.js';
import { IpWindowLimit } from './http/ip-window-limit.js';
import { originGuard } from './http/origin-guard.js';
import type { RequestOriginRules } from './http/request-origin-rules.js';
import { mcpRoutes } from './mcp/mcp-route.js';
import type { OneCRpcClient } from './mcp/onec-rpc.js';
import { authorizeRoutes, type CredentialChecker } from './routes/authorize.js';
import { discoveryRoutes } from './routes/discovery.js';
import { registerRoutes } from './routes/register.js';
import { tokenRoutes } from './routes/token.js';

/** Everything the routes need. */
export interface AppDeps {
  as: AuthorizationServer;
  cache: TokenCache;
  metrics: CacheMetrics;
  onec: OneCRpcClient;
  checkCredentials: CredentialChecker;
  logger: Logger;
  statusToken: string | undefined;
  /** Take the client address from `X-Forwarded-For` (MCP_TRUST_PROXY). */
  trustProxy: boolean;
  /**
   * Proxies in front of the server that append to `X-Forwarded-For` (MCP_TRUSTED_PROXY_HOPS,
   * default 1). Only that many entries from the right are believed: anything further left was
   * written by the client.
   */
  trustedProxyHops?: number;
  /** Registrations per IP per hour. */
  registrationsPerHour?: number;
  /**
   * DNS rebinding protection: the `Host` and `Origin` headers `/mcp` and the OAuth endpoints answer
   * (see `requestOriginRules`); the login form's cross-site check uses the same rules.
   */
  originRules: RequestOriginRules;
  /**
   * The operator console's event ring, stats sampler and counters (see `createOperatorConsole`).
   * Without it, security lines are only logged and `/console` is absent. The console's routes are
   * mounted only when `statusToken` is set too: the status token is its credential.
   */
  operatorConsole?: OperatorConsole;
}

/** Failed console sign-ins per address per 15 minutes (the status token is long; this stops guessing). */
const CONSOLE_SIGN_IN_FAILURES = 10;

/** Build the Koa app. */
export function createApp(deps: AppDeps): Koa {
  // Koa's `ctx.ip` is the leftmost X-Forwarded-For entry of the last `maxIpsCount` ones: with one
  // proxy that appends (nginx $proxy_add_x_forwarded_for, most balancers), the rightmost entry is
  // the address that proxy saw, and every entry left of it is whatever the client sent. Without a
  // bound, a client would choose the address the per-IP limits count.
  const app = new Koa({
    proxy: deps.trustProxy,
    maxIpsCount: deps.trustProxy ? (deps.trustedProxyHops ?? 1) : 0,
  });
  app.on('error', (error: unknown) => deps.logger.error({ err: error }, 'unhandled request error'));
  app.use(requestLogger({ logger: deps.logger }));
  if (deps.operatorConsole) app.use(countResponses(deps.operatorConsole.metrics));
  app.use(oauthErrorHandler({ logger: deps.logger }));
  // Security lines (failed logins, refusals) are written through one reporter that also feeds the console.
  const events = deps.operatorConsole?.events ?? serverEvents(deps.logger);
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  // Before every route, CORS and bearer auth: the refusal must not depend on the token.
  app.use(originGuard({ rules: deps.originRules, logger: deps.logger, events }));

  const routers: Router[] = [
    discoveryRoutes(deps.as),
    registerRoutes(deps.as, new IpWindowLimit(deps.cache, 'reg', deps.registrationsPerHour ?? 60, 3_600_000)),
    authorizeRoutes({
      as: deps.as,
      checkCredentials: deps.checkCredentials,
      logger: deps.logger,
      originRules: deps.originRules,
      events,
    }),
    tokenRoutes(deps.as),
    statusRoutes({
      cache: deps.cache,
      metrics: deps.metrics,
      ...(deps.statusToken ? { statusToken: deps.statusToken } : {}),
    }),
    mcpRoutes({
      cache: deps.cache,
      onec: deps.onec,
      resource: deps.as.resource,
      resourceMetadataUrl: `${deps.as.issuer}/.well-known/oauth-protected-resource/mcp`,
      requiredScopes: deps.as.scopesSupported,
      logger: deps.logger,
    }),
  ];
  if (deps.operatorConsole && deps.statusToken) {
    routers.push(
      consoleRoutes({
        credentials: new ConsoleCredentials(deps.statusToken, (label) => deps.cache.digest(label)),
        directory: directoryOf(deps.cache),
        // peek: viewing a user extends no registration and fetches no metadata document.
        clients: (clientId) => deps.as.clients.peek(clientId),
        ring: deps.operatorConsole.ring,
        sampler: deps.operatorConsole.sampler,
        events,
        logger: deps.logger,
        originRules: deps.originRules,
        signInLimit: new IpWindowLimit(deps.cache, 'console-login', CONSOLE_SIGN_IN_FAILURES, 900_000),
        secureCookie: new URL(deps.as.issuer).protocol === 'https:',
      }),
    );
  }
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods());

  app.use(async (ctx) => {
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no such endpoint' };
    }
  });
  return app;
}

/** The Koa application: middleware order and routes. */
import type Router from '@koa/router';
import type { AuthorizationServer } from '@oauth-cache/authorization-server';
import type { TokenCache } from '@oauth-cache/core';
import { type CacheMetrics, oauthErrorHandler, requestLogger, statusRoutes } from '@oauth-cache/koa';
import Koa from 'koa';
import type { Logger } from 'pino';
import { IpWindowLimit } from './http/ip-window-limit.js';
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
  trustProxy: boolean;
  /** Registrations per IP per hour. */
  registrationsPerHour?: number;
}

/** Build the Koa app. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy });
  app.on('error', (error: unknown) => deps.logger.error({ err: error }, 'unhandled request error'));
  app.use(requestLogger({ logger: deps.logger }));
  app.use(oauthErrorHandler({ logger: deps.logger }));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });

  const routers: Router[] = [
    discoveryRoutes(deps.as),
    registerRoutes(deps.as, new IpWindowLimit(deps.cache, 'reg', deps.registrationsPerHour ?? 60, 3_600_000)),
    authorizeRoutes({ as: deps.as, checkCredentials: deps.checkCredentials, logger: deps.logger }),
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
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods());

  app.use(async (ctx) => {
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.body = { error: 'not_found', error_description: 'no such endpoint' };
    }
  });
  return app;
}

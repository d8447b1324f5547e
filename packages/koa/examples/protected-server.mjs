// Runnable example: an MCP-style resource server protected by oauth-cache bearer tokens.
//   pnpm --filter @oauth-cache/core build && pnpm --filter @oauth-cache/koa build
//   node packages/koa/examples/protected-server.mjs        (PORT=3000 by default)
import Router from '@koa/router';
import { createTokenCache, MemoryStore } from '@oauth-cache/core';
import {
  attachSecurityLog,
  bearerAuth,
  createCacheMetrics,
  createLogger,
  oauthErrorHandler,
  requestLogger,
  statusRoutes,
} from '@oauth-cache/koa';
import Koa from 'koa';

const port = Number(process.env.PORT ?? 3000);
const origin = `http://127.0.0.1:${port}`;
const metadataPath = '/.well-known/oauth-protected-resource/mcp';

const cache = createTokenCache({ store: new MemoryStore(), environment: 'development' });
const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info' });
attachSecurityLog(cache, logger);
const metrics = createCacheMetrics({ cache });

const app = new Koa();
app.use(requestLogger({ logger })); // first: logs every request, even failed ones
app.use(oauthErrorHandler({ logger })); // second: no HTML or stack-trace errors

// /health, /cache/status, /metrics: not behind bearerAuth (the last two use their own status token).
const status = statusRoutes({
  cache,
  metrics,
  statusToken: process.env.OAUTH_CACHE_STATUS_TOKEN || undefined,
});
app.use(status.routes()).use(status.allowedMethods());

// RFC 9728 metadata stays public; everything after bearerAuth needs a token for this resource.
app.use(
  bearerAuth({
    cache,
    requiredScopes: ['mcp'],
    resource: `${origin}/mcp`,
    resourceMetadataUrl: `${origin}${metadataPath}`,
    exclude: [metadataPath],
  }),
);
const api = new Router();
api.get(metadataPath, (ctx) => {
  ctx.body = { resource: `${origin}/mcp`, authorization_servers: [origin], scopes_supported: ['mcp'] };
});
api.get('/mcp', (ctx) => {
  ctx.body = { hello: ctx.state.auth.userId, scopes: ctx.state.auth.scopes };
});
app.use(api.routes()).use(api.allowedMethods());

// A demo token, so the example can be tried with curl right away.
const demoToken = `demo-${Math.random().toString(36).slice(2)}`;
await cache.storeToken({
  userId: 'demo',
  accessToken: demoToken,
  scopes: ['mcp'],
  resource: `${origin}/mcp`,
  expiresIn: 3600,
});

const server = app.listen(port, '127.0.0.1', () => {
  logger.info({ url: `${origin}/mcp` }, 'listening');
  console.log(`try: curl -H "Authorization: Bearer ${demoToken}" ${origin}/mcp`);
});
const stop = () => server.close(() => cache.close().then(() => process.exit(0)));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

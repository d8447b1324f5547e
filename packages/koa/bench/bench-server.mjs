// Child process of protected-route.bench.mjs: two Koa apps serving the same GET /protected, one behind
// bearerAuth (memory store), one open. Prints {"protectedUrl","openUrl","token"} on stdout once listening.
import { randomBytes } from 'node:crypto';
import { createTokenCache, MemoryStore } from '@oauth-cache/core';
import Koa from 'koa';
import { bearerAuth, oauthErrorHandler } from '../dist/index.js';

// Production preset (security level "maximum": records sealed), with per-run keys.
const cache = createTokenCache({
  store: new MemoryStore(),
  environment: 'production',
  secret: randomBytes(32),
  encryptionKeys: [{ kid: 'bench', key: randomBytes(32) }],
  autoCleanup: false,
});
const token = 'bench-token-0123456789abcdefghijklmnopqrstuvwxyz';
await cache.storeToken({ userId: 'bench-user', accessToken: token, scopes: ['mcp'], expiresIn: 3600 });

function app(withAuth) {
  const koa = new Koa();
  koa.use(oauthErrorHandler());
  if (withAuth) {
    koa.use(
      bearerAuth({
        cache,
        requiredScopes: ['mcp'],
        resourceMetadataUrl: 'https://bench.example/.well-known/oauth-protected-resource',
      }),
    );
  }
  koa.use((ctx) => {
    if (ctx.path !== '/protected') return;
    ctx.body = { ok: true, user: ctx.state.auth?.userId ?? null };
  });
  return koa;
}

function listen(koa) {
  return new Promise((resolve) => {
    const server = koa.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

// Control app: the server process's CPU time, read between rounds. CPU per request is a figure that
// survives other load on a shared machine better than req/s.
const control = new Koa();
control.use((ctx) => {
  ctx.body = process.cpuUsage();
});

const [protectedUrl, openUrl, controlUrl] = await Promise.all([
  listen(app(true)),
  listen(app(false)),
  listen(control),
]);
process.stdout.write(`${JSON.stringify({ protectedUrl, openUrl, controlUrl, token })}\n`);
// Exit when the parent goes away.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

// Child process of protected-route.bench.mjs (the load generator runs in the parent, so autocannon
// never shares this process's CPU). One Koa app per store, each with ONE @koa/router carrying two
// routes that differ only by bearerAuth:
//   GET /open  -> handler
//   GET /auth  -> bearerAuth -> handler
//   GET /hash  -> floor -> handler   (the cheapest conceivable token check: sha256 of the header's
//                                       token + Map.get, nothing else; what no real check can beat)
// Same app middleware (oauthErrorHandler, router.routes(), router.allowedMethods()), same handler,
// same response bytes ({"ok":true,"user":"bench-user"}: the open route sends the same user id as a
// constant), same path length. Stores: core's MemoryStore, and SQLite with an L1
// (`createStore('sqlite://<tmp>', { l1 })` from @oauth-cache/keyv). Production preset (security level
// "maximum": records sealed) with per-run keys.
// Prints {"apps":{"memory":url,"sqlite+l1":url},"controlUrl","token"} on stdout once listening.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Router from '@koa/router';
import { createTokenCache, MemoryStore } from '@oauth-cache/core';
import { createStore } from '@oauth-cache/keyv';
import Koa from 'koa';
import { bearerAuth, oauthErrorHandler } from '../dist/index.js';

const USER = 'bench-user';
const token = randomBytes(32).toString('base64url');
const dir = mkdtempSync(join(tmpdir(), 'oc-koa-bench-'));

async function cacheOn(store) {
  const cache = createTokenCache({
    store,
    environment: 'production',
    secret: randomBytes(32),
    encryptionKeys: [{ kid: 'bench', key: randomBytes(32) }],
    autoCleanup: false,
  });
  await cache.storeToken({ userId: USER, accessToken: token, scopes: ['mcp'], expiresIn: 3600 });
  return cache;
}

const sha256 = (text) => createHash('sha256').update(text).digest('base64url');
const floorTable = new Map([[sha256(token), { userId: USER }]]);
/** The floor: one sha256 of the token and one Map lookup (no syntax, scope or expiry checks). */
async function floor(ctx, next) {
  const header = ctx.req.headers.authorization;
  const auth = header === undefined ? undefined : floorTable.get(sha256(header.slice(7)));
  if (auth === undefined) {
    ctx.status = 401;
    return;
  }
  ctx.state.auth = auth;
  await next();
}

function app(cache) {
  const koa = new Koa();
  const router = new Router();
  const handler = (ctx) => {
    ctx.body = { ok: true, user: ctx.state.auth?.userId ?? USER };
  };
  router.get('/open', handler);
  router.get('/hash', floor, handler);
  router.get(
    '/auth',
    bearerAuth({
      cache,
      requiredScopes: ['mcp'],
      resourceMetadataUrl: 'https://bench.example/.well-known/oauth-protected-resource',
    }),
    handler,
  );
  koa.use(oauthErrorHandler());
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  return koa;
}

function listen(server) {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

const caches = {
  memory: await cacheOn(new MemoryStore()),
  // The L1 as a deployment would run it: entries re-read from SQLite after maxStaleMs.
  'sqlite+l1': await cacheOn(
    await createStore(`sqlite://${join(dir, 'bench.db')}`, { l1: { max: 10_000, maxStaleMs: 1000 } }),
  ),
};
const servers = Object.fromEntries(
  Object.entries(caches).map(([name, cache]) => [name, createServer(app(cache).callback())]),
);
// The server process's CPU time, read between runs: CPU per request survives other load on a shared
// machine better than req/s, and CPU/wall time tells whether the server was the bottleneck.
const control = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ...process.cpuUsage(), wallMs: performance.now() }));
});

const apps = {};
for (const [name, server] of Object.entries(servers)) apps[name] = await listen(server);
const controlUrl = await listen(control);
process.stdout.write(`${JSON.stringify({ apps, controlUrl, token })}\n`);

// Exit when the parent goes away.
process.stdin.resume();
process.stdin.on('end', async () => {
  for (const cache of Object.values(caches)) await cache.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});

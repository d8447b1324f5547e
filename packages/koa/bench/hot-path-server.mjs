// Child process of hot-path.bench.mjs: ONE variant per process, started fresh for every run, so no
// variant inherits another's JIT state, heap or caches. Loopback, port 0.
//
// Variants (same Koa 3 app, same @koa/router GET /mcp route, same handler, same response bytes):
//   bare       handler only
//   map        a hand-written bearer check: `Bearer ` prefix, Map.get(token), expiry, scope
//   memory     bearerAuth on core's MemoryStore
//   sqlite+l1  bearerAuth on createStore('sqlite://<tmp>', { l1: { max: 20000, maxStaleMs: 1000 } })
//   redis+l1   bearerAuth on createStore(HOT_PATH_REDIS_URL, { l1: { max: 20000, maxStaleMs: 1000 } })
//
// Production preset from the environment as a deployment sets it (ENVIRONMENT=production,
// OAUTH_CACHE_SECRET, OAUTH_CACHE_ENCRYPTION_KEYS; security level "maximum": records sealed), with
// MAX_TOKEN_CACHE_SIZE raised so the preset's 5000-token cap admits the bench's tokens.
// The tokens are derived from HOT_PATH_SEED (HMAC(seed, i)), as the parent derives them, and issued
// through the cache before the server listens (one user per token: the preset keeps 5 grants per
// user). Redis keeps them between runs (same secret, same keys): re-imports find them there.
//
// Prints {"url","controlUrl","issueMs"} on stdout once listening. The control server answers
// GET /cpu (process.cpuUsage, wall clock, the L1's hit/miss counters), POST /profile/start and
// POST /profile/stop?file=<path> (V8 CPU profile of exactly the timed window, via the inspector).
// Exits when stdin closes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Router from '@koa/router';
import { configFromEnv, createTokenCache, MemoryStore } from '@oauth-cache/core';
import { createStore } from '@oauth-cache/keyv';
import Koa from 'koa';
import { bearerAuth } from '../dist/index.js';
import { tokenAt as tokenOf, userAt } from './hot-path-tokens.mjs';

const variant = process.env.HOT_PATH_VARIANT ?? 'bare';
const count = Number(process.env.HOT_PATH_TOKENS ?? 10_000);
const seed = process.env.HOT_PATH_SEED ?? 'seed';
const SCOPE = 'mcp';
const L1 = { max: 20_000, maxStaleMs: 1000 };

const tokenAt = (i) => tokenOf(seed, i);

const dir = mkdtempSync(join(tmpdir(), 'oc-hot-path-'));

async function storeFor(name) {
  if (name === 'memory') return new MemoryStore();
  if (name === 'sqlite+l1') return createStore(`sqlite://${join(dir, 'bench.db')}`, { l1: L1 });
  if (name === 'redis+l1') {
    const url = process.env.HOT_PATH_REDIS_URL;
    if (!url) throw new Error('redis+l1 needs HOT_PATH_REDIS_URL');
    return createStore(url, { l1: L1 });
  }
  throw new Error(`unknown variant "${name}"`);
}

/** The hand-written check every app could write: no digest, no sealing, no store. */
function mapCheck(table) {
  return async function mapBearer(ctx, next) {
    const header = ctx.req.headers.authorization;
    const entry = header?.startsWith('Bearer ') ? table.get(header.slice(7)) : undefined;
    if (entry === undefined || entry.expiresAt <= Date.now() || !entry.scopes.includes(SCOPE)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      ctx.body = { error: 'invalid_token' };
      return;
    }
    ctx.state.auth = entry;
    await next();
  };
}

let cache;
let check;
const issueStarted = performance.now();
if (variant === 'bare') {
  check = undefined;
} else if (variant === 'map') {
  const table = new Map();
  const expiresAt = Date.now() + 3600_000;
  for (let i = 0; i < count; i += 1) {
    table.set(tokenAt(i), { userId: userAt(i), scopes: [SCOPE], expiresAt });
  }
  check = mapCheck(table);
} else {
  const config = configFromEnv(process.env);
  cache = createTokenCache({ config, store: await storeFor(variant) });
  // SQLite and Redis: issued through a memory-backed cache of the same configuration, then moved
  // over with exportRecords/importRecords (one store batch per 500 records). The stored records are
  // the same; issuing straight into SQLite costs several fsync'd transactions per token (minutes for
  // 10,000 on this machine), which the timed window would not see anyway.
  const issuer = variant === 'memory' ? cache : createTokenCache({ config, store: new MemoryStore() });
  const BATCH = 50;
  for (let start = 0; start < count; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + BATCH); i += 1) {
      batch.push(
        issuer.storeToken({
          userId: userAt(i),
          accessToken: tokenAt(i),
          scopes: [SCOPE],
          clientId: 'bench-client',
          expiresIn: 3600,
        }),
      );
    }
    await Promise.all(batch);
  }
  if (issuer !== cache) {
    let records = [];
    for await (const record of issuer.exportRecords()) {
      records.push(record);
      if (records.length === 500) {
        await cache.importRecords(records);
        records = [];
      }
    }
    if (records.length > 0) await cache.importRecords(records);
    await issuer.close();
  }
  check = bearerAuth({
    cache,
    requiredScopes: [SCOPE],
    resourceMetadataUrl: 'https://bench.example/.well-known/oauth-protected-resource',
  });
}
const issueMs = performance.now() - issueStarted;

const app = new Koa();
const router = new Router();
const handler = (ctx) => {
  ctx.body = { ok: true, user: ctx.state.auth?.userId ?? userAt(0) };
};
if (check) router.get('/mcp', check, handler);
else router.get('/mcp', handler);
app.use(router.routes());
app.use(router.allowedMethods());

let session;
async function control(req, res) {
  const url = new URL(req.url ?? '/', 'http://control');
  let body;
  if (url.pathname === '/cpu') {
    const store = cache?.store;
    body = {
      ...process.cpuUsage(),
      wallMs: performance.now(),
      ...(store && 'l1Stats' in store ? { l1: store.l1Stats } : {}),
    };
  } else if (url.pathname === '/profile/start') {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    body = { started: true };
  } else if (url.pathname === '/profile/stop') {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    writeFileSync(url.searchParams.get('file'), JSON.stringify(profile));
    body = { written: true };
  } else {
    res.statusCode = 404;
    body = {};
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

function listen(server) {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

const url = await listen(createServer(app.callback()));
const controlUrl = await listen(createServer((req, res) => void control(req, res)));
process.stdout.write(`${JSON.stringify({ url, controlUrl, issueMs })}\n`);

process.stdin.resume();
process.stdin.on('end', async () => {
  await cache?.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});

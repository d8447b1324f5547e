// Operator console (issue 20): latency of its two data pages over HTTP, on SQLite and on Redis
// holding 100,000 grants over 20,000 users, production preset (security level `maximum`: every
// record sealed, no login stored, users shown by a label from their hash).
//
// Method, per store (SQLite: a WAL file in a temp dir; Redis: a redis-server started here on a free
// 127.0.0.1 port):
//   1. start the real server (`startServer`, ENVIRONMENT=production, a status token) on the store;
//   2. register 5 clients through POST /register (the user page looks their names up);
//   3. fill the store through a second connection with the migration's bulk path:
//      `storeTokens(batch, { evict: false })` inside the store's `bulkLoad`, BENCH_BATCH grants a
//      batch, each grant an access + refresh token with a client id, scopes and sealed 1C credentials;
//   4. after BENCH_WARMUP requests, BENCH_RUNS sequential requests of each, with the bearer credential
//      (`Authorization: Bearer <status token>`), timed from send to the end of the body:
//        GET /console                   the first page (50 users, total count)
//        GET /console/users/:userHash   a random user (5 grants, 10 tokens, 5 client lookups)
// Prints p50 / p99 / mean in ms against the target (< 100 ms).
//
// Env: BENCH_GRANTS (default 100000), BENCH_GRANTS_PER_USER (5), BENCH_RUNS (50), BENCH_WARMUP (5),
// BENCH_BATCH (2000).
// Run: pnpm build && pnpm --filter @oauth-cache/server bench
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenCache } from '@oauth-cache/core';
import { createStore } from '@oauth-cache/keyv';
import { startRedisServer } from '@oauth-cache/keyv/testing';
import { loadServerConfig, startServer } from '../dist/index.js';

const GRANTS = Number(process.env.BENCH_GRANTS ?? 100_000);
const PER_USER = Math.max(1, Number(process.env.BENCH_GRANTS_PER_USER ?? 5));
const USERS = Math.ceil(GRANTS / PER_USER);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 50));
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const BATCH = Math.max(1, Number(process.env.BENCH_BATCH ?? 2000));
const TARGET_MS = 100;
const DAY = 86_400_000;
const STATUS_TOKEN = randomBytes(24).toString('base64url');
const BEARER = { authorization: `Bearer ${STATUS_TOKEN}` };

const token = () => randomBytes(32).toString('base64url');

function envFor(storeUrl, dir) {
  return {
    ENVIRONMENT: 'production',
    MCP_HOST: '127.0.0.1',
    MCP_PORT: '0',
    MCP_PUBLIC_URL: 'http://127.0.0.1:1', // loopback: allowed over http in production; unused here
    MCP_ONEC_URL: 'http://127.0.0.1:9/unused',
    MCP_LOG_LEVEL: 'silent',
    MCP_SHUTDOWN_GRACE_MS: '1000',
    OAUTH_CACHE_STORE: storeUrl,
    OAUTH_CACHE_DATA_DIR: dir,
    OAUTH_CACHE_SECRET: Buffer.alloc(32, 7).toString('base64'),
    OAUTH_CACHE_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
    OAUTH_CACHE_STATUS_TOKEN: STATUS_TOKEN,
    MAX_TOKEN_CACHE_SIZE: String(GRANTS * 2 + 1000),
    AUTO_CLEANUP_INTERVAL: '0',
  };
}

/** The grants of users `from`..`to` (exclusive), as the migration hands them to storeTokens. */
function grantsOf(from, to, clients, now) {
  const inputs = [];
  for (let u = from; u < to; u++) {
    for (let g = 0; g < PER_USER; g++) {
      inputs.push({
        userId: `user-${u}`,
        accessToken: token(),
        refreshToken: token(),
        expiresAt: now + 3_600_000,
        refreshExpiresAt: now + DAY + Math.floor(Math.random() * 13 * DAY),
        clientId: clients[g % clients.length],
        scopes: ['mcp'],
        userData: { login: `user-${u}`, password: 'secret' },
      });
    }
  }
  return inputs;
}

async function fill(config, storeUrl, clients) {
  const store = await createStore(storeUrl, { prefix: config.cache.prefix });
  const cache = createTokenCache({ config: config.cache, store });
  const started = performance.now();
  try {
    const usersPerBatch = Math.max(1, Math.floor(BATCH / PER_USER));
    const run = async () => {
      for (let u = 0; u < USERS; u += usersPerBatch) {
        const batch = grantsOf(u, Math.min(USERS, u + usersPerBatch), clients, Date.now());
        await cache.storeTokens(batch, { evict: false });
      }
    };
    if (store.bulkLoad) await store.bulkLoad(run);
    else await run();
  } finally {
    await cache.close();
  }
  return (performance.now() - started) / 1000;
}

async function request(url) {
  const response = await fetch(url, { headers: BEARER, redirect: 'manual' });
  const body = await response.text();
  return { status: response.status, location: response.headers.get('location'), body };
}

async function time(label, call) {
  for (let i = 0; i < WARMUP; i++) await call(i);
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await call(i + WARMUP);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { label, p50: at(0.5), p99: at(0.99), mean };
}

async function benchStore(label, storeUrl, dir) {
  const { config } = loadServerConfig(envFor(storeUrl, dir));
  const server = await startServer(config);
  try {
    const base = server.url;
    const clients = [];
    for (const name of ['Claude Desktop', 'Cursor', 'VS Code', 'MCP Inspector', 'Zed']) {
      const response = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:33418/callback'], client_name: name }),
      });
      if (response.status !== 201) throw new Error(`${label}: register answered ${response.status}`);
      clients.push((await response.json()).client_id);
    }
    const fillSeconds = await fill(config, storeUrl, clients);

    const first = await request(`${base}/console`);
    const total = /<span id="total">(\d+)<\/span>/.exec(first.body)?.[1];
    if (first.status !== 200 || Number(total) !== USERS) {
      throw new Error(`${label}: /console answered ${first.status} with ${total} users, ${USERS} expected`);
    }
    // Hashes of random users, found the way an operator does (the find form answers a 303).
    const hashes = [];
    for (let i = 0; i < RUNS + WARMUP; i++) {
      const found = await request(`${base}/console/find?login=user-${Math.floor(Math.random() * USERS)}`);
      if (found.status !== 303 || !found.location) throw new Error(`${label}: find answered ${found.status}`);
      hashes.push(found.location.split('/').pop());
    }
    const sample = await request(`${base}/console/users/${hashes[0]}`);
    const grantRows = sample.body.match(/data-grant="/g)?.length;
    if (sample.status !== 200 || grantRows !== PER_USER || !sample.body.includes('Claude Desktop')) {
      throw new Error(`${label}: user page answered ${sample.status} with ${grantRows} grants`);
    }
    const rows = [
      await time('GET /console (first page, 50 users)', async () => {
        if ((await request(`${base}/console`)).status !== 200) throw new Error('GET /console failed');
      }),
      await time(`GET /console/users/:hash (${PER_USER} grants)`, async (i) => {
        if ((await request(`${base}/console/users/${hashes[i]}`)).status !== 200)
          throw new Error('user page failed');
      }),
    ];
    return { fillSeconds, rows: rows.map((r) => ({ store: label, ...r })) };
  } finally {
    await server.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'oc-console-bench-'));
const redis = await startRedisServer();
const results = [];
const fills = [];
try {
  for (const [label, url] of [
    ['sqlite', `sqlite://${join(dir, 'console.db')}`],
    ['redis', `${redis.url}/0`],
  ]) {
    const { fillSeconds, rows } = await benchStore(label, url, dir);
    fills.push(`${label} ${fillSeconds.toFixed(1)} s`);
    results.push(...rows);
  }
} finally {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}

console.log(
  `operator console over HTTP: ${GRANTS} grants (${GRANTS * 2} tokens) over ${USERS} users, production preset; ` +
    `${RUNS} sequential requests each after ${WARMUP} warm-up; filled in ${fills.join(', ')}`,
);
console.table(
  results.map((r) => ({
    store: r.store,
    request: r.label,
    'p50 ms': Number(r.p50.toFixed(2)),
    'p99 ms': Number(r.p99.toFixed(2)),
    'mean ms': Number(r.mean.toFixed(2)),
    [`< ${TARGET_MS} ms`]: r.p99 < TARGET_MS ? 'OK' : 'ABOVE TARGET',
  })),
);

// Operator directory (issue 20): latency of `cache.directory.listUsers` and `getUser` on SQLite and
// on Redis holding 100,000 grants over 20,000 users, production preset (security level `maximum`:
// every record sealed, so getUser opens each token record with the server key).
//
// Method: one cache per store (SQLite: a WAL file in a temp dir; Redis: a redis-server started here
// on a free 127.0.0.1 port), filled through the migration's path: `storeTokens(batch, { evict: false })`
// inside the store's `bulkLoad` where it has one (the CLI's), BENCH_BATCH grants a batch. Every user
// gets BENCH_GRANTS_PER_USER grants (access + refresh token, client id, scopes); expiries are spread
// over the refresh lifetime so the users index is not one big tie. Then, after BENCH_WARMUP calls,
// BENCH_RUNS sequential calls of each:
//   listUsers first page   listUsers({ limit: 50 })
//   listUsers deep page    listUsers({ limit: 50, cursor }) with the cursor after the first half of the users
//   getUser (5 grants)     getUser of a random user (5 grants, 10 tokens)
// Prints p50 / p99 / mean in ms against the target (under 100 ms each: it is served over HTTP).
//
// Env: BENCH_GRANTS (default 100000), BENCH_GRANTS_PER_USER (5), BENCH_RUNS (50), BENCH_WARMUP (5),
// BENCH_BATCH (2000), REDIS_SERVER_BIN (default /usr/bin/redis-server).
// Run: pnpm build && pnpm --filter @oauth-cache/keyv bench
//   or: cd packages/keyv && node bench/directory.bench.mjs   (after building core and keyv)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenCache } from '@oauth-cache/core';
import { createStore } from '../dist/index.js';
import { startRedisServer } from '../dist/testing/index.js';

const GRANTS = Number(process.env.BENCH_GRANTS ?? 100_000);
const PER_USER = Math.max(1, Number(process.env.BENCH_GRANTS_PER_USER ?? 5));
const USERS = Math.ceil(GRANTS / PER_USER);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 50));
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const BATCH = Math.max(1, Number(process.env.BENCH_BATCH ?? 2000));
const TARGET_MS = 100;
const DAY = 86_400_000;

const token = () => randomBytes(32).toString('base64url');

function openCache(store) {
  return createTokenCache({
    store,
    environment: 'production',
    secret: Buffer.alloc(32, 7),
    encryptionKeys: [{ kid: 'k1', key: Buffer.alloc(32, 9) }],
    maxTokens: GRANTS * 2 + 1000,
    autoCleanup: false,
  });
}

/** The grants of users `from`..`to` (exclusive), as the migration hands them to storeTokens. */
function grantsOf(from, to, now) {
  const inputs = [];
  for (let u = from; u < to; u++) {
    for (let g = 0; g < PER_USER; g++) {
      const refreshExpiresAt = now + DAY + Math.floor(Math.random() * 13 * DAY);
      inputs.push({
        userId: `user-${u}`,
        accessToken: token(),
        refreshToken: token(),
        expiresAt: now + 3_600_000,
        refreshExpiresAt,
        clientId: `client-${g}`,
        scopes: ['mcp'],
        userData: { login: `user-${u}`, password: 'secret' },
      });
    }
  }
  return inputs;
}

async function fill(cache) {
  const started = performance.now();
  const usersPerBatch = Math.max(1, Math.floor(BATCH / PER_USER));
  const run = async () => {
    for (let u = 0; u < USERS; u += usersPerBatch) {
      await cache.storeTokens(grantsOf(u, Math.min(USERS, u + usersPerBatch), Date.now()), { evict: false });
    }
  };
  const store = cache.store;
  if (store.bulkLoad) await store.bulkLoad(run);
  else await run();
  return (performance.now() - started) / 1000;
}

async function time(label, call) {
  for (let i = 0; i < WARMUP; i++) await call(i);
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await call(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { label, p50: at(0.5), p99: at(0.99), mean };
}

async function benchStore(label, url) {
  const cache = openCache(await createStore(url));
  try {
    const fillSeconds = await fill(cache);
    const d = cache.directory;
    const first = await d.listUsers({ limit: 50 });
    if (first.total !== USERS) throw new Error(`${label}: ${first.total} users listed, ${USERS} expected`);
    // The cursor after the first half of the users: pages of 200 up to there.
    let cursor;
    for (let seen = 0; seen < USERS / 2; seen += 200)
      cursor = (await d.listUsers({ limit: 200, cursor })).next;
    const hashes = Array.from({ length: RUNS + WARMUP }, () =>
      d.userHashOf(`user-${Math.floor(Math.random() * USERS)}`),
    );
    const sample = await d.getUser(hashes[0]);
    if (sample?.grants.length !== PER_USER)
      throw new Error(`${label}: getUser found ${sample?.grants.length} grants`);
    const rows = [
      await time('listUsers first page (50)', () => d.listUsers({ limit: 50 })),
      await time('listUsers deep page (50)', () => d.listUsers({ limit: 50, cursor })),
      await time(`getUser (${PER_USER} grants)`, (i) => d.getUser(hashes[i])),
    ];
    return { fillSeconds, rows: rows.map((r) => ({ store: label, ...r })) };
  } finally {
    await cache.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'oc-directory-'));
const server = await startRedisServer();
const results = [];
const fills = [];
try {
  for (const [label, url] of [
    ['sqlite', `sqlite://${join(dir, 'directory.db')}`],
    ['redis', `${server.url}/0`],
  ]) {
    const { fillSeconds, rows } = await benchStore(label, url);
    fills.push(`${label} ${fillSeconds.toFixed(1)} s`);
    results.push(...rows);
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

console.log(
  `operator directory: ${GRANTS} grants (${GRANTS * 2} tokens) over ${USERS} users, production preset; ` +
    `${RUNS} sequential calls each after ${WARMUP} warm-up; filled in ${fills.join(', ')}`,
);
console.table(
  results.map((r) => ({
    store: r.store,
    call: r.label,
    'p50 ms': Number(r.p50.toFixed(2)),
    'p99 ms': Number(r.p99.toFixed(2)),
    'mean ms': Number(r.mean.toFixed(2)),
    [`< ${TARGET_MS} ms`]: r.p99 < TARGET_MS ? 'OK' : 'ABOVE TARGET',
  })),
);

// Bench (issue 17, "a validation hot path near the floor"): how close bearerAuth gets to a
// hand-written Map bearer check, with many distinct tokens, each variant in a FRESH server process.
//
// Method: per round, for each variant in interleaved order (the order rotates every round), start a
// new server child (hot-path-server.mjs: node, 127.0.0.1, port 0, production preset), which issues
// BENCH_TOKENS distinct tokens through the cache before it listens. Then, with autocannon 9 and
// BENCH_CONNECTIONS connections, requests rotating over all the tokens (request n carries token
// n mod BENCH_TOKENS; every request has an Authorization header, the bare route's too):
//   1. first pass: every token once (its first validation in that process), measured on its own;
//   2. warm-up of BENCH_WARMUP_S;
//   3. the timed window of BENCH_DURATION_S.
// The child's CPU time (process.cpuUsage, read over a control port right before and after a
// window) gives server CPU µs per request: steadier than req/s on a shared machine. "busy" is the
// server's CPU / wall time (below ~90 % something else, other load or the load generator, set the
// pace), "loadgen" the same for autocannon, which runs in this process, never on the server's CPU.
//
// Variants: bare, map (hand-written Map check), memory (bearerAuth on core's MemoryStore),
// sqlite+l1 and redis+l1 (bearerAuth on @oauth-cache/keyv's createStore with an L1 of
// { max: 20000, maxStaleMs: 1000 }; Redis is a redis-server started here for the run, its own CPU
// is not in the figures). Target: bearerAuth's req/s >= 90 % of the Map check's in the same round,
// on every store.
//
// Env: BENCH_ROUNDS (3), BENCH_DURATION_S (5), BENCH_WARMUP_S (1), BENCH_TOKENS (10000),
// BENCH_CONNECTIONS (10), BENCH_VARIANTS (comma list; default all five),
// BENCH_PROFILE=<variant>: V8 CPU profile of that variant's timed windows (written to a temp dir,
// top frames printed), BENCH_JSON=<file>: also write the JSON summary there.
// Run (after building core, keyv and koa): cd packages/koa && node bench/hot-path.bench.mjs
// (`pnpm bench` runs it with the defaults, after protected-route.bench.mjs).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { printTopFrames } from './cpu-profile-top.mjs';
import { tokenAt } from './hot-path-tokens.mjs';

const ALL = ['bare', 'map', 'memory', 'sqlite+l1', 'redis+l1'];
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const duration = Number(process.env.BENCH_DURATION_S ?? 5);
const warmup = Number(process.env.BENCH_WARMUP_S ?? 1);
const tokens = Number(process.env.BENCH_TOKENS ?? 10_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const variants = (process.env.BENCH_VARIANTS ?? ALL.join(','))
  .split(',')
  .map((v) => v.trim())
  .filter(Boolean);
const profiled = process.env.BENCH_PROFILE;
const TARGET = 0.9;

for (const v of variants) if (!ALL.includes(v)) throw new Error(`unknown variant "${v}" (known: ${ALL})`);
for (const [name, value] of Object.entries({ rounds, duration, warmup, tokens, connections })) {
  if (!Number.isFinite(value) || value < (name === 'warmup' ? 0 : 1))
    throw new Error(`bad ${name}: ${value}`);
}
const dist = (pkg) => fileURLToPath(new URL(`../../${pkg}/dist/index.js`, import.meta.url));
for (const pkg of ['core', 'keyv', 'koa']) {
  if (!existsSync(dist(pkg))) {
    console.error(
      `packages/${pkg}/dist missing: build core, keyv and koa first (pnpm --filter @oauth-cache/koa... build)`,
    );
    process.exit(1);
  }
}

const seed = randomBytes(16).toString('hex');
const secret = randomBytes(32).toString('base64');
const encryptionKeys = `bench:${randomBytes(32).toString('base64')}`;
// ONE rotation shared by every connection: request n carries token n mod BENCH_TOKENS, so each token
// comes back every BENCH_TOKENS requests whatever the connection. (autocannon's plain `requests`
// list restarts at 0 on every connection: 10 connections would present the same token within a few
// requests of each other, and the L1's single-flight reads would serve 10 requests per store read.)
const headerList = Array.from({ length: tokens }, (_, i) => ({
  authorization: `Bearer ${tokenAt(seed, i)}`,
}));
let nextToken = 0;
const requests = [
  {
    method: 'GET',
    path: '/mcp',
    setupRequest(request) {
      request.headers = headerList[nextToken];
      nextToken = nextToken + 1 === tokens ? 0 : nextToken + 1;
      return request;
    },
  },
];

let redis;
if (variants.includes('redis+l1')) {
  const { startRedisServer } = await import('@oauth-cache/keyv/testing');
  // Fails loudly when redis-server is missing: leave redis+l1 out of BENCH_VARIANTS instead.
  redis = await startRedisServer();
}
const profileDir = profiled ? mkdtempSync(join(tmpdir(), 'oc-hot-path-prof-')) : undefined;

/** Start a fresh server child for `variant`; resolves once it listens. */
async function startServer(variant) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./hot-path-server.mjs', import.meta.url))], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      ENVIRONMENT: 'production',
      OAUTH_CACHE_SECRET: secret,
      OAUTH_CACHE_ENCRYPTION_KEYS: encryptionKeys,
      MAX_TOKEN_CACHE_SIZE: String(Math.max(5000, tokens * 2)),
      HOT_PATH_VARIANT: variant,
      HOT_PATH_TOKENS: String(tokens),
      HOT_PATH_SEED: seed,
      ...(redis ? { HOT_PATH_REDIS_URL: redis.url } : {}),
    },
  });
  const ready = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline !== -1) resolve(JSON.parse(buffer.slice(0, newline)));
    });
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ...ready,
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}

const controlJson = async (server, path, method = 'GET') =>
  (await fetch(`${server.controlUrl}${path}`, { method })).json();

/** 200 for a token of the run, 401 for an unknown one and without a token (not for bare). */
async function sanity(variant, server) {
  const ok = await fetch(`${server.url}/mcp`, { headers: headerList[tokens - 1] });
  const body = await ok.json();
  if (ok.status !== 200 || body.ok !== true) throw new Error(`${variant}: a valid token got ${ok.status}`);
  if (variant === 'bare') return;
  const unknown = await fetch(`${server.url}/mcp`, {
    headers: { authorization: `Bearer ${randomBytes(32).toString('base64url')}` },
  });
  const missing = await fetch(`${server.url}/mcp`);
  if (unknown.status !== 401 || missing.status !== 401) {
    throw new Error(`${variant}: unknown token ${unknown.status}, no token ${missing.status} (want 401)`);
  }
}

/** An autocannon run of `limit`: `{ duration }` in seconds or `{ amount }` of requests. */
const cannon = (url, limit) =>
  new Promise((resolve, reject) => {
    autocannon({ url: `${url}/mcp`, requests, connections, pipelining: 1, ...limit }, (error, r) =>
      error ? reject(error) : resolve(r),
    );
  });

const serverCpuUs = async (server) => {
  const { user, system, wallMs, l1 } = await controlJson(server, '/cpu');
  return { cpuUs: user + system, wallMs, l1 };
};

/** One run: fresh process, warm-up, timed window measured on the server's CPU clock. */
async function run(variant, round) {
  const server = await startServer(variant);
  try {
    await sanity(variant, server);
    // First pass: every token presented once (its first validation in this process: digest, store
    // read, unsealing), measured on its own. Then the warm-up, then the timed window.
    const firstBefore = await serverCpuUs(server);
    const first = await cannon(server.url, { amount: tokens });
    const firstAfter = await serverCpuUs(server);
    if (warmup > 0) await cannon(server.url, { duration: warmup });
    const profile = profiled === variant;
    if (profile) await controlJson(server, '/profile/start', 'POST');
    const before = await serverCpuUs(server);
    const loadgenBefore = process.cpuUsage();
    const r = await cannon(server.url, { duration });
    const loadgen = process.cpuUsage(loadgenBefore);
    const after = await serverCpuUs(server);
    const file = profile ? join(profileDir, `${variant}-round${round + 1}.cpuprofile`) : undefined;
    if (file) await controlJson(server, `/profile/stop?file=${encodeURIComponent(file)}`, 'POST');
    const bad = [first, r].reduce((sum, x) => sum + x.non2xx + x.errors + x.timeouts, 0);
    if (bad > 0) throw new Error(`${variant}: ${bad} non-2xx responses, errors or timeouts`);
    const cpuUs = after.cpuUs - before.cpuUs;
    const wallMs = after.wallMs - before.wallMs;
    return {
      variant,
      round: round + 1,
      rps: r.requests.total / duration,
      requests: r.requests.total,
      cpuPerRequestUs: cpuUs / r.requests.total,
      busy: cpuUs / 1000 / wallMs,
      // The load generator's share of a core: near 100 % it, not the server, set the pace.
      loadgenBusy: (loadgen.user + loadgen.system) / 1000 / wallMs,
      firstUseCpuPerRequestUs: (firstAfter.cpuUs - firstBefore.cpuUs) / first.requests.total,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      issueMs: server.issueMs,
      // L1 of SQLite / Redis during the timed window (misses include reads joined to one in flight).
      ...(after.l1
        ? { l1: { hits: after.l1.hits - before.l1.hits, misses: after.l1.misses - before.l1.misses } }
        : {}),
      ...(file ? { profile: file } : {}),
    };
  } finally {
    await server.stop();
  }
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
console.log(
  `hot path: ${variants.join(', ')}; ${rounds} rounds, fresh server process per run, ${tokens} tokens rotating, ` +
    `${connections} connections, warm-up ${warmup} s + ${duration} s timed; load average ${loadBefore}`,
);
const runs = [];
try {
  for (let round = 0; round < rounds; round += 1) {
    const shift = round % variants.length;
    const order = [...variants.slice(shift), ...variants.slice(0, shift)];
    for (const variant of order) {
      const r = await run(variant, round);
      runs.push(r);
      const l1 = r.l1
        ? `  L1 hits ${((r.l1.hits / Math.max(1, r.l1.hits + r.l1.misses)) * 100).toFixed(0)}%`
        : '';
      console.log(
        `round ${r.round} ${variant.padEnd(9)} ${r.rps.toFixed(0).padStart(6)} req/s ${r.cpuPerRequestUs.toFixed(1).padStart(6)} µs CPU/req  busy ${(r.busy * 100).toFixed(0).padStart(3)}%  loadgen ${(r.loadgenBusy * 100).toFixed(0).padStart(3)}%  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  first use ${r.firstUseCpuPerRequestUs.toFixed(0)} µs CPU/req${l1}`,
      );
    }
  }
} finally {
  await redis?.stop();
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const of = (variant) => runs.filter((r) => r.variant === variant);
/** Median over rounds of `variant`'s req/s divided by `base`'s req/s in the same round. */
const perRound = (variant, base) => {
  if (!variants.includes(base)) return undefined;
  const bases = new Map(of(base).map((r) => [r.round, r.rps]));
  return median(of(variant).map((r) => r.rps / bases.get(r.round)));
};
const summary = variants.map((variant) => {
  const list = of(variant);
  const cpu = median(list.map((r) => r.cpuPerRequestUs));
  const mapCpu = variants.includes('map') ? median(of('map').map((r) => r.cpuPerRequestUs)) : undefined;
  return {
    variant,
    rps: median(list.map((r) => r.rps)),
    cpuPerRequestUs: cpu,
    busy: median(list.map((r) => r.busy)),
    firstUseCpuPerRequestUs: median(list.map((r) => r.firstUseCpuPerRequestUs)),
    ...(list[0]?.l1
      ? { l1HitRate: median(list.map((r) => r.l1.hits / Math.max(1, r.l1.hits + r.l1.misses))) }
      : {}),
    ratioToBare: perRound(variant, 'bare'),
    ratioToMap: perRound(variant, 'map'),
    // CPU-cost ratio: the req/s share a CPU-bound server keeps (Map's µs / this variant's µs).
    cpuRatioToMap: mapCpu === undefined ? undefined : mapCpu / cpu,
  };
});

const pct = (x) => (x === undefined ? '—' : `${(x * 100).toFixed(1)} %`);
console.log('');
console.log(
  '| variant | req/s (median) | server CPU µs/req | busy | vs bare (req/s) | vs Map (req/s) | vs Map (CPU) | first use µs/req | L1 hits |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const s of summary) {
  console.log(
    `| ${s.variant} | ${s.rps.toFixed(0)} | ${s.cpuPerRequestUs.toFixed(1)} | ${(s.busy * 100).toFixed(0)} % | ${pct(s.ratioToBare)} | ${pct(s.ratioToMap)} | ${pct(s.cpuRatioToMap)} | ${s.firstUseCpuPerRequestUs.toFixed(0)} | ${s.l1HitRate === undefined ? '—' : pct(s.l1HitRate)} |`,
  );
}
const ours = summary.filter((s) => !['bare', 'map'].includes(s.variant) && s.ratioToMap !== undefined);
const verdicts = ours.map((s) => `${s.variant} ${s.ratioToMap >= TARGET ? 'OK' : 'BELOW TARGET'}`);
if (verdicts.length)
  console.log(`target: bearerAuth >= ${TARGET * 100} % of the Map check's req/s: ${verdicts.join(', ')}`);
const unsaturated = summary.filter((s) => s.busy < 0.9).map((s) => s.variant);
if (unsaturated.length) {
  console.log(
    `server busy below 90 % for ${unsaturated.join(', ')}: other load or the load generator set the pace, so their req/s ratios say little; the CPU ratio still holds`,
  );
}
const loadAfter = load();
console.log(`load average before ${loadBefore}, after ${loadAfter}`);

if (profiled && profileDir) {
  for (const r of of(profiled)) {
    console.log(`\nprofile of ${profiled}, round ${r.round}: ${r.profile}`);
    printTopFrames(JSON.parse(readFileSync(r.profile, 'utf8')), r.requests, 20);
  }
}

const json = {
  bench: 'hot-path',
  params: { rounds, durationS: duration, warmupS: warmup, tokens, connections, variants },
  node: process.version,
  loadAverage: { before: loadBefore, after: loadAfter },
  summary,
  runs,
};
console.log(`\n${JSON.stringify(json)}`);
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify(json, null, 2)}\n`);

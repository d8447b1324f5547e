// Token operations end to end (issue 17): latency and store traffic per call of core's token
// operations on SQLite and on Redis, production preset (security level `maximum`: every record
// sealed), no L1, no session.
//
// Method: one cache per store (SQLite: a WAL file in a temp dir; Redis: a redis-server started here
// on a free 127.0.0.1 port). After a warm-up of every operation (scripts loaded, statements
// prepared, JIT warm), each operation runs BENCH_OPS times, one awaited call after the other:
//   issue          storeToken of a new grant (access + refresh, client id, scopes); users get two
//                  grants each, so half the calls find the user holding one already;
//   validate-miss  validateAccessToken of a well-formed token nobody issued;
//   validate-hit   validateAccessToken of a live access token;
//   rotate         rotateRefreshToken of each grant's refresh token, with its client id;
//   revoke grant   revokeFamily of each grant.
// Per operation: p50 / p99 / mean latency in ms of the single calls; "store calls" per call,
// counted over every timed call through a counting wrapper that forwards each CacheStore method
// (it adds a function call per store call, nothing next to a store round trip); on Redis, round
// trips per call from the server's MONITOR feed (client-sent commands; commands a script runs
// inside EVALSHA are not round trips; a MULTI..EXEC block counts one; the store's keep-alive PING
// is left out), over BENCH_SAMPLE extra
// calls made after the timed ones (MONITOR slows the server, so it never runs while timing).
// Targets on Redis (as in test/round-trips.redis.test.ts): issue and rotate <= 2 round trips,
// validate-miss and validate-hit 1, revoke grant <= 3 (checked at the end, reported, never failing
// the run). maxTokens is raised over the preset's 5000 so the cap never
// refuses a bench grant; everything else is the production preset.
//
// Env: BENCH_OPS (calls per operation, default 2000 x BENCH_SCALE), BENCH_SCALE (default 1),
// BENCH_WARMUP (default 200, capped at BENCH_OPS), BENCH_SAMPLE (MONITOR sample, default 20),
// BENCH_JSON=<file> (also write the results as JSON), REDIS_SERVER_BIN (default /usr/bin/redis-server).
// Run: pnpm build && pnpm --filter @oauth-cache/keyv bench
//   or: cd packages/keyv && node bench/token-ops.bench.mjs   (after building core and keyv)
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenCache } from '@oauth-cache/core';
import { createStore } from '../dist/index.js';
import { RedisCommandMonitor, startRedisServer } from '../dist/testing/index.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const OPS = Math.max(10, Number(process.env.BENCH_OPS ?? Math.round(2000 * SCALE)));
const WARMUP = Math.min(OPS, Number(process.env.BENCH_WARMUP ?? 200));
const SAMPLE = Math.max(1, Number(process.env.BENCH_SAMPLE ?? 20));
const JSON_FILE = process.env.BENCH_JSON;

const OPERATIONS = ['issue', 'validate-miss', 'validate-hit', 'rotate', 'revoke grant'];
/** Round trips per call on Redis (issue 17). */
const REDIS_TARGET = { issue: 2, 'validate-miss': 1, 'validate-hit': 1, rotate: 2, 'revoke grant': 3 };

const token = () => randomBytes(32).toString('base64url');

/**
 * `store` behind a Proxy that counts every method call by name and forwards it to the store itself
 * (`this` stays the store: its private fields keep working). Properties pass through untouched.
 */
function countingStore(store) {
  const calls = new Map();
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  const take = () => {
    const snapshot = Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b)));
    calls.clear();
    return snapshot;
  };
  return { store: proxy, take };
}

function openCache(store) {
  return createTokenCache({
    store,
    environment: 'production',
    secret: Buffer.alloc(32, 7),
    encryptionKeys: [{ kid: 'k1', key: Buffer.alloc(32, 9) }],
    maxTokens: 10_000_000,
    autoCleanup: false,
  });
}

/** Calls of one operation, in order: `prepare(i)` builds the input untimed, `run(input)` is timed. */
function workload(cache, prefix, count) {
  const grants = [];
  const users = Math.ceil(count / 2);
  return {
    issue: {
      prepare: (i) => ({
        userId: `${prefix}-user-${i % users}`,
        accessToken: token(),
        refreshToken: token(),
      }),
      run: async (input) => {
        const info = await cache.storeToken({ ...input, clientId: 'bench-client', scopes: ['mcp'] });
        grants.push({ ...input, familyId: info.familyId });
      },
    },
    'validate-miss': {
      prepare: () => token(),
      run: async (t) => {
        if ((await cache.validateAccessToken(t)) !== null) throw new Error('an unknown token validated');
      },
    },
    'validate-hit': {
      prepare: (i) => grants[i].accessToken,
      run: async (t) => {
        if ((await cache.validateAccessToken(t)) === null) throw new Error('a live token did not validate');
      },
    },
    rotate: {
      prepare: (i) => grants[i],
      run: async (grant) => {
        const rotated = await cache.rotateRefreshToken(grant.refreshToken, { clientId: 'bench-client' });
        grant.accessToken = rotated.tokens.accessToken;
        grant.refreshToken = rotated.tokens.refreshToken;
      },
    },
    'revoke grant': {
      prepare: (i) => grants[i].familyId,
      run: async (familyId) => {
        if ((await cache.revokeFamily(familyId)) < 2) throw new Error('revokeFamily removed too little');
      },
    },
  };
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (ns) => +(ns / 1e6).toFixed(3);

/** Time `count` sequential calls of each operation; counts store calls per operation. */
async function timeOperations(cache, counter, prefix, count) {
  const steps = workload(cache, prefix, count);
  const results = {};
  for (const operation of OPERATIONS) {
    const { prepare, run } = steps[operation];
    const inputs = Array.from({ length: count }, (_, i) => prepare(i));
    counter.take();
    const samples = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      await run(inputs[i]);
      samples[i] = Number(process.hrtime.bigint() - t0);
    }
    const calls = counter.take();
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    samples.sort();
    results[operation] = {
      p50Ms: ms(percentile(samples, 50)),
      p99Ms: ms(percentile(samples, 99)),
      meanMs: ms(samples.reduce((a, b) => a + b, 0) / count),
      storeCallsPerOp: +(total / count).toFixed(2),
      storeCallsByMethod: Object.fromEntries(
        Object.entries(calls).map(([name, n]) => [name, +(n / count).toFixed(2)]),
      ),
    };
  }
  return results;
}

/** Round trips per call of each operation on Redis, from the MONITOR feed over `count` calls. */
async function redisRoundTrips(cache, port, count) {
  const steps = workload(cache, 'sample', count);
  // Every sample user already holds a grant when its measured grants are issued.
  for (let i = 0; i < Math.ceil(count / 2); i++) await steps.issue.run(steps.issue.prepare(i));
  // The store's keep-alive PING (once a second) belongs to no operation.
  const monitor = await RedisCommandMonitor.start({ port, ignoreCommands: ['ping'] });
  const results = {};
  try {
    for (const operation of OPERATIONS) {
      const { prepare, run } = steps[operation];
      const trips = [];
      const sequences = new Map();
      for (let i = 0; i < count; i++) {
        // The pre-issued grants come first in `grants`: later operations use the measured ones.
        const input = prepare(operation === 'issue' ? i : i + Math.ceil(count / 2));
        const { span } = await monitor.measure(() => run(input));
        trips.push(span.roundTrips);
        const sequence = span.clientCommands.join(' ');
        sequences.set(sequence, (sequences.get(sequence) ?? 0) + 1);
      }
      results[operation] = {
        roundTripsPerOp: +(trips.reduce((a, b) => a + b, 0) / count).toFixed(2),
        roundTripsMax: Math.max(...trips),
        // Each distinct list of client commands seen, most frequent first, with how often.
        clientCommands: [...sequences]
          .sort((a, b) => b[1] - a[1])
          .map(([commands, calls]) => ({ commands, calls })),
      };
    }
  } finally {
    await monitor.close();
  }
  return results;
}

async function benchStore(label, url, port) {
  const counter = countingStore(await createStore(url));
  const cache = openCache(counter.store);
  try {
    await timeOperations(cache, counter, 'warm', WARMUP);
    const timed = await timeOperations(cache, counter, 'bench', OPS);
    const trips = port === undefined ? {} : await redisRoundTrips(cache, port, SAMPLE);
    return OPERATIONS.map((operation) => ({
      store: label,
      operation,
      ...timed[operation],
      ...trips[operation],
    }));
  } finally {
    await cache.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'oc-token-ops-'));
const server = await startRedisServer();
const results = [];
try {
  results.push(...(await benchStore('sqlite', `sqlite://${join(dir, 'token-ops.db')}`)));
  results.push(...(await benchStore('redis', `${server.url}/0`, server.port)));
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

console.log(`token operations: ${OPS} sequential calls each (after ${WARMUP} warm-up), production preset`);
console.table(
  results.map((r) => ({
    store: r.store,
    operation: r.operation,
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    'mean ms': r.meanMs,
    'store calls/op': r.storeCallsPerOp,
    'redis round trips/op': r.roundTripsPerOp ?? '',
    'max round trips': r.roundTripsMax ?? '',
  })),
);
console.log(`Redis round trips per call (MONITOR, ${SAMPLE} calls each) against the issue 17 targets:`);
for (const r of results.filter((x) => x.store === 'redis')) {
  const target = REDIS_TARGET[r.operation];
  const status = r.roundTripsMax <= target ? 'OK' : 'ABOVE TARGET';
  console.log(
    `  ${r.operation.padEnd(14)} max ${String(r.roundTripsMax).padStart(3)} (target <= ${target}) ${status}`,
  );
  for (const { commands, calls } of r.clientCommands) console.log(`      ${calls} x  ${commands}`);
}
if (JSON_FILE) {
  const report = {
    ops: OPS,
    warmup: WARMUP,
    sample: SAMPLE,
    node: process.version,
    targets: REDIS_TARGET,
    results,
  };
  await writeFile(JSON_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`JSON written to ${JSON_FILE}`);
}

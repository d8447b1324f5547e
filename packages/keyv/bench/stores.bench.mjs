// Store costs next to their floors, all measured in the same run (quote ratios, not absolutes:
// this is a shared 2-core machine):
//   - SqliteStore.get/set vs the raw @keyv/sqlite adapter get / a Keyv + @keyv/sqlite set on a WAL file;
//   - RedisStore.get/set vs raw node-redis GET / SET PX, sequential (hit and miss);
//   - an L1 hit vs sha256 of the token + Map.get (the floor of any digest-keyed in-memory lookup);
//   - validate: core's validateAccessToken on every store, cold (no L1) and hot (L1 on), hit and
//     miss, each next to the raw floor of the same store. Targets (issue 3): a Redis miss <= 1.3x
//     one raw GET; a hit with L1 on <= 3x the memory floor. Checked at the end.
// Ours and its floor run in alternating rounds (floor, ours, ours, floor, ...): drift on the shared
// machine hits both alike; each figure is the median of the rounds.
// Run: pnpm --filter @oauth-cache/keyv bench   (after pnpm build). BENCH_SCALE=0.2 for a quick run,
// BENCH_ROUNDS (default 15) for more rounds.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvRedis, { createClient } from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import { createTokenCache, MemoryStore } from '@oauth-cache/core';
import Keyv from 'keyv';
import { L1Store, RedisStore, SqliteStore } from '../dist/index.js';
import { startRedisServer } from '../dist/testing/index.js';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
/** Ops per round: `n` is the whole budget of a measurement, spread over the rounds. */
const ops = (n) => Math.max(50, Math.round((n * SCALE * 5) / ROUNDS));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A commit that consumes `key` once (requires it present, deletes it): what replaced `take`. */
const consumeTx = (key) => ({
  now: Date.now(),
  require: [{ if: 'present', key }],
  ops: [{ op: 'delete', keys: [key] }],
});

async function timeRound(n, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - t0) / n;
}

/** Median ns per op over ROUNDS rounds of n sequential awaited calls (after one warm-up round). */
async function measure(n, fn) {
  const perOp = [];
  for (let r = -1; r < ROUNDS; r++) {
    const ns = await timeRound(n, fn);
    if (r >= 0) perOp.push(ns);
  }
  return median(perOp);
}

/**
 * Our op and its floor measured in alternating rounds (ABBA: floor, ours, ours, floor…), so drift
 * on a shared machine and any first-or-second effect hit both alike. Resolves median ns/op of each.
 */
async function pair(n, ours, floor) {
  const a = [];
  const b = [];
  for (let r = -1; r < ROUNDS; r++) {
    const order =
      r % 2 === 0
        ? [
            [floor, b],
            [ours, a],
          ]
        : [
            [ours, a],
            [floor, b],
          ];
    for (const [fn, out] of order) {
      const ns = await timeRound(n, fn);
      if (r >= 0) out.push(ns);
    }
  }
  return [median(a), median(b)];
}

function measureSync(n, fn) {
  const perOp = [];
  for (let r = -1; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    if (r >= 0) perOp.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(perOp);
}

const rows = [];
/** One table row: `ns` for our operation, `floorNs` for the raw floor measured in this run. */
function row(group, operation, ns, floorName, floorNs) {
  rows.push({
    group,
    operation,
    'µs/op': +(ns / 1000).toFixed(ns < 10_000 ? 3 : 1),
    'ops/s': Math.round(1e9 / ns),
    floor: floorName ?? '',
    'floor µs/op': floorNs === undefined ? '' : +(floorNs / 1000).toFixed(floorNs < 10_000 ? 3 : 1),
    ratio: floorNs === undefined ? '' : +(ns / floorNs).toFixed(2),
  });
}

const KEYS = 1000;
const key = (i) =>
  `oc:at:${createHash('sha256')
    .update(`k${i % KEYS}`)
    .digest('base64url')}`;
const record = (i) => ({
  v: 1,
  kind: 'access',
  exp: Date.now() + 3_600_000,
  body: { uid: `u${i}`, scp: ['mcp'] },
});

const missingKey = (i) => `oc:at:missing-${i % KEYS}`;

async function benchSqlite(dir) {
  const path = join(dir, 'bench.db');
  // Floors on their own table of the same file, WAL on: the raw @keyv/sqlite adapter (one SELECT,
  // the stored text back) for reads, a plain Keyv over it for writes.
  const rawStore = new KeyvSqlite({ uri: `sqlite://${path}`, table: 'raw_kv', busyTimeout: 5000 });
  const raw = new Keyv({ store: rawStore, namespace: '', useKeyPrefix: false });
  await rawStore.query('PRAGMA journal_mode=WAL');
  const store = await SqliteStore.open({ path });
  for (let i = 0; i < KEYS; i++) {
    await raw.set(key(i), record(i), 3_600_000);
    await store.set(key(i), record(i), 3_600_000);
  }
  const rawGet = (i) => rawStore.get(key(i));
  const rawGetMissing = (i) => rawStore.get(missingKey(i));
  const rawSet = (i) => raw.set(key(i), record(i), 3_600_000);
  const [get, floorGet] = await pair(ops(3000), (i) => store.get(key(i)), rawGet);
  row('sqlite', 'SqliteStore.get (existing key)', get, '@keyv/sqlite get', floorGet);
  const [keyvGet, floorGet2] = await pair(ops(3000), (i) => raw.get(key(i)), rawGet);
  row('sqlite', '(reference) plain Keyv+@keyv/sqlite get', keyvGet, '@keyv/sqlite get', floorGet2);
  const nw = ops(600);
  const [set, floorSet] = await pair(nw, (i) => store.set(key(i), record(i), 3_600_000), rawSet);
  row('sqlite', 'SqliteStore.set', set, 'Keyv+@keyv/sqlite set', floorSet);
  const [consume, floorSet2] = await pair(
    nw,
    async (i) => {
      await store.set(`oc:t:${i}`, 1, 60_000);
      await store.commit(consumeTx(`oc:t:${i}`));
    },
    rawSet,
  );
  row('sqlite', 'SqliteStore set + consuming commit (2 writes)', consume, 'Keyv+@keyv/sqlite set', floorSet2);
  const now = Date.now();
  const [indexAdd, floorSet3] = await pair(
    nw,
    (i) => store.indexAdd('oc:ix:b', `m${i}`, now + 60_000 + i, { now, cap: 100 }),
    rawSet,
  );
  row('sqlite', 'SqliteStore.indexAdd (cap 100, transaction)', indexAdd, 'Keyv+@keyv/sqlite set', floorSet3);
  return { store, path, rawGet, rawGetMissing, close: () => raw.disconnect() };
}

async function benchRedis(url) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const store = await RedisStore.open({ url });
  for (let i = 0; i < KEYS; i++) await store.set(key(i), record(i), 3_600_000);
  const n = ops(5000);
  const rawGet = (i) => client.get(key(i));
  const rawGetMissing = (i) => client.get(missingKey(i));
  const text = JSON.stringify({ value: record(0), expires: Date.now() + 3_600_000 });
  const rawSet = (i) =>
    client.set(`oc:raw:${i % KEYS}`, text, { expiration: { type: 'PX', value: 3_600_000 } });
  const [get, floorGet] = await pair(n, (i) => store.get(key(i)), rawGet);
  row('redis', 'RedisStore.get (existing key)', get, 'node-redis GET', floorGet);
  const [miss, floorMiss] = await pair(n, (i) => store.get(missingKey(i)), rawGetMissing);
  row('redis', 'RedisStore.get (missing key)', miss, 'node-redis GET (missing)', floorMiss);
  const [set, floorSet] = await pair(n, (i) => store.set(key(i), record(i), 3_600_000), rawSet);
  row('redis', 'RedisStore.set', set, 'node-redis SET PX', floorSet);
  const plainKeyv = new Keyv(new KeyvRedis(client), { namespace: '', useKeyPrefix: false });
  const [keyvGet, floorGet2] = await pair(n, (i) => plainKeyv.get(key(i)), rawGet);
  row('redis', '(reference) plain Keyv+@keyv/redis get', keyvGet, 'node-redis GET', floorGet2);
  const [consume, floorSet2] = await pair(
    n,
    async (i) => {
      await store.set(`oc:t:${i}`, 1, 60_000);
      await store.commit(consumeTx(`oc:t:${i}`));
    },
    rawSet,
  );
  row('redis', 'RedisStore set + consuming commit (Lua)', consume, 'node-redis SET PX', floorSet2);
  const now = Date.now();
  const [indexAdd, floorSet3] = await pair(
    n,
    (i) => store.indexAdd('oc:ix:b', `m${i}`, now + 60_000 + i, { now, cap: 100 }),
    rawSet,
  );
  row('redis', 'RedisStore.indexAdd (cap 100, Lua)', indexAdd, 'node-redis SET PX', floorSet3);
  return { store, rawGet, rawGetMissing, rawGetKey: (k) => client.get(k), close: () => client.destroy() };
}

const digest = (t) => createHash('sha256').update(t).digest('base64url');

async function benchL1(url) {
  const tokens = Array.from({ length: KEYS }, (_, i) => digest(`tok${i}`));
  const floorMap = new Map(tokens.map((t, i) => [digest(t), record(i)]));
  const n = ops(300_000);
  const floorFn = (i) => floorMap.get(digest(tokens[i % KEYS]));
  const floor = measureSync(n, floorFn);
  const l1 = await L1Store.wrap(await RedisStore.open({ url }), { max: 10_000, maxStaleMs: 60_000 });
  for (const t of tokens) await l1.set(`oc:at:${digest(t)}`, record(0), 3_600_000);
  for (const t of tokens) await l1.get(`oc:at:${digest(t)}`); // fill
  row(
    'L1',
    'L1Store.get hit (incl. sha256 of the token)',
    await measure(n, (i) => l1.get(`oc:at:${digest(tokens[i % KEYS])}`)),
    'sha256 + Map.get',
    floor,
  );
  // Without the digest: what the L1 adds over an awaited Map lookup (the await itself is most of it).
  const m = new Map(tokens.map((t) => [`oc:at:${digest(t)}`, 1]));
  const keysOnly = tokens.map((t) => `oc:at:${digest(t)}`);
  const mapAsync = async (k) => m.get(k);
  row(
    'L1',
    'L1Store.get hit (key precomputed)',
    await measure(n, (i) => l1.get(keysOnly[i % KEYS])),
    'await async Map.get',
    await measure(n, (i) => mapAsync(keysOnly[i % KEYS])),
  );
  await l1.close();
  return { floorFn };
}

const TOKENS = Array.from({ length: KEYS }, (_, i) => `bench-token-${i}-${'x'.repeat(20)}`);
const UNKNOWN = Array.from({ length: KEYS }, (_, i) => `unknown-token-${i}-${'y'.repeat(20)}`);

/**
 * validateAccessToken through core on `cache` (its store already chosen) against `floor` (the
 * store's own raw read, measured in alternating rounds). `miss`: validate tokens nobody stored.
 * Extend here for more validate figures.
 */
export async function benchValidate(cache, label, floorName, floor, n = ops(3000), { miss = false } = {}) {
  const tokens = miss ? UNKNOWN : TOKENS;
  const [ns, floorNs] = await pair(n, (i) => cache.validateAccessToken(tokens[i % KEYS]), floor);
  row('validate', `${miss ? 'miss' : 'hit '} ${label}`, ns, floorName, floorNs);
  return ns / floorNs;
}

/** A cache on `store` holding TOKENS (valid for an hour), with every hit of them checked once. */
async function cacheOn(store) {
  const cache = createTokenCache({
    store,
    environment: 'test',
    securityLevel: 'enhanced',
    secret: Buffer.alloc(32, 1),
    encryptionKeys: [{ kid: 'k1', key: Buffer.alloc(32, 2) }],
    maxTokens: 100_000,
    autoCleanup: false,
  });
  for (const t of TOKENS) await cache.storeToken({ userId: 'bench', accessToken: t, expiresIn: 3600 });
  for (const t of TOKENS) {
    if (!(await cache.validateAccessToken(t))) throw new Error('bench token does not validate');
  }
  for (const t of UNKNOWN.slice(0, 3)) {
    if (await cache.validateAccessToken(t)) throw new Error('unknown token validates');
  }
  return cache;
}

/** L1 that holds for the whole run (hits measure hits, not refills after maxStaleMs). */
const HOT = { max: 10_000, maxStaleMs: 3_600_000 };

const dir = await mkdtemp(join(tmpdir(), 'oc-bench-'));
const server = await startRedisServer();
const targets = [];
try {
  const sqlite = await benchSqlite(dir);
  const redis = await benchRedis(server.url);
  const { floorFn: memoryFloor } = await benchL1(`${server.url}/1`);
  const fast = ops(100_000);
  const memory = await cacheOn(new MemoryStore({ max: 100_000 }));
  await benchValidate(memory, 'memory', 'sha256 + Map.get', memoryFloor, fast);
  await benchValidate(memory, 'memory', 'sha256 + Map.get', memoryFloor, fast, { miss: true });

  const sqliteCold = await cacheOn(sqlite.store);
  await benchValidate(sqliteCold, 'sqlite (cold, no L1)', '@keyv/sqlite get', sqlite.rawGet);
  await benchValidate(
    sqliteCold,
    'sqlite (cold, no L1)',
    '@keyv/sqlite get (missing)',
    sqlite.rawGetMissing,
    ops(3000),
    {
      miss: true,
    },
  );
  const sqliteHot = await cacheOn(await L1Store.wrap(await SqliteStore.open({ path: sqlite.path }), HOT));
  const sqliteHit = await benchValidate(
    sqliteHot,
    'sqlite + L1 (hot)',
    'sha256 + Map.get',
    memoryFloor,
    fast,
  );
  targets.push(['hit with L1, sqlite', sqliteHit, 3]);

  const redisCold = await cacheOn(redis.store);
  await benchValidate(redisCold, 'redis (cold, no L1)', 'node-redis GET', redis.rawGet, ops(5000));
  const redisMiss = await benchValidate(
    redisCold,
    'redis (cold, no L1)',
    'node-redis GET (missing)',
    redis.rawGetMissing,
    ops(5000),
    { miss: true },
  );
  targets.push(['miss on redis (one digest + one GET)', redisMiss, 1.3]);
  // The same miss against what the target describes, done by hand: core's digest, then one GET.
  const digestThenGet = (i) => redis.rawGetKey(redisCold.key(`at:${redisCold.digest(UNKNOWN[i % KEYS])}`));
  await benchValidate(redisCold, 'redis (cold, no L1)', 'digest + node-redis GET', digestThenGet, ops(5000), {
    miss: true,
  });
  const redisHot = await cacheOn(await L1Store.wrap(await RedisStore.open({ url: `${server.url}/2` }), HOT));
  const redisHit = await benchValidate(redisHot, 'redis + L1 (hot)', 'sha256 + Map.get', memoryFloor, fast);
  targets.push(['hit with L1, redis', redisHit, 3]);
  await benchValidate(
    redisHot,
    'redis + L1 (L1 never caches misses)',
    'node-redis GET (missing)',
    redis.rawGetMissing,
    ops(5000),
    {
      miss: true,
    },
  );

  await sqlite.close();
  redis.close();
  for (const cache of [sqliteCold, sqliteHot, redisCold, redisHot, memory]) await cache.close();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
console.table(rows);
console.log(`targets (issue 3), ${ROUNDS} alternating rounds, medians:`);
for (const [name, ratio, limit] of targets) {
  console.log(
    `  ${name.padEnd(40)} ${ratio.toFixed(2)}x  (target <= ${limit}x) ${ratio <= limit ? 'OK' : 'ABOVE TARGET'}`,
  );
}

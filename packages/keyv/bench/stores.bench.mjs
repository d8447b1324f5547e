// Store costs next to their floors, all measured in the same run (quote ratios, not absolutes:
// this is a shared machine):
//   - SqliteStore.get/set vs a raw Keyv + @keyv/sqlite get/set on a WAL file;
//   - RedisStore.get/set vs raw node-redis GET / SET PX, sequential;
//   - an L1 hit vs sha256 of the token + Map.get (the floor of any digest-keyed in-memory lookup);
//   - benchValidate(cache): core's validateAccessToken on each store vs the store's own get.
// Run: pnpm --filter @oauth-cache/keyv bench   (after pnpm build). BENCH_SCALE=0.2 for a quick run.
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ops = (n) => Math.max(50, Math.round(n * SCALE));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ns per op over ROUNDS rounds of n sequential awaited calls (after one warm-up round). */
async function measure(n, fn) {
  const perOp = [];
  for (let r = -1; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn(i);
    if (r >= 0) perOp.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(perOp);
}

/**
 * Our op and its floor measured in alternating rounds (floor, ours, floor, ours…), so drift on a
 * shared machine hits both alike. Resolves median ns/op of each.
 */
async function pair(n, ours, floor) {
  const a = [];
  const b = [];
  for (let r = -1; r < ROUNDS; r++) {
    for (const [fn, out] of [
      [floor, b],
      [ours, a],
    ]) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await fn(i);
      if (r >= 0) out.push(Number(process.hrtime.bigint() - t0) / n);
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

async function benchSqlite(dir) {
  const path = join(dir, 'bench.db');
  // Floor: a plain Keyv over @keyv/sqlite on its own table of the same file, WAL on.
  const rawStore = new KeyvSqlite({ uri: `sqlite://${path}`, table: 'raw_kv', busyTimeout: 5000 });
  const raw = new Keyv({ store: rawStore, namespace: '', useKeyPrefix: false });
  await rawStore.query('PRAGMA journal_mode=WAL');
  const store = await SqliteStore.open({ path });
  for (let i = 0; i < KEYS; i++) {
    await raw.set(key(i), record(i), 3_600_000);
    await store.set(key(i), record(i), 3_600_000);
  }
  const rawGet = (i) => raw.get(key(i));
  const rawSet = (i) => raw.set(key(i), record(i), 3_600_000);
  const [get, floorGet] = await pair(ops(3000), (i) => store.get(key(i)), rawGet);
  row('sqlite', 'SqliteStore.get (existing key)', get, 'Keyv+@keyv/sqlite get', floorGet);
  const nw = ops(600);
  const [set, floorSet] = await pair(nw, (i) => store.set(key(i), record(i), 3_600_000), rawSet);
  row('sqlite', 'SqliteStore.set', set, 'Keyv+@keyv/sqlite set', floorSet);
  const [take, floorSet2] = await pair(
    nw,
    async (i) => {
      await store.set(`oc:t:${i}`, 1, 60_000);
      await store.take(`oc:t:${i}`);
    },
    rawSet,
  );
  row('sqlite', 'SqliteStore set + take (2 writes)', take, 'Keyv+@keyv/sqlite set', floorSet2);
  const now = Date.now();
  const [indexAdd, floorSet3] = await pair(
    nw,
    (i) => store.indexAdd('oc:ix:b', `m${i}`, now + 60_000 + i, { now, cap: 100 }),
    rawSet,
  );
  row('sqlite', 'SqliteStore.indexAdd (cap 100, transaction)', indexAdd, 'Keyv+@keyv/sqlite set', floorSet3);
  return { store, rawGet, close: () => raw.disconnect() };
}

async function benchRedis(url) {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  const store = await RedisStore.open({ url });
  for (let i = 0; i < KEYS; i++) await store.set(key(i), record(i), 3_600_000);
  const n = ops(5000);
  const rawGet = (i) => client.get(key(i));
  const text = JSON.stringify({ value: record(0), expires: Date.now() + 3_600_000 });
  const rawSet = (i) =>
    client.set(`oc:raw:${i % KEYS}`, text, { expiration: { type: 'PX', value: 3_600_000 } });
  const [get, floorGet] = await pair(n, (i) => store.get(key(i)), rawGet);
  row('redis', 'RedisStore.get (existing key)', get, 'node-redis GET', floorGet);
  const [set, floorSet] = await pair(n, (i) => store.set(key(i), record(i), 3_600_000), rawSet);
  row('redis', 'RedisStore.set', set, 'node-redis SET PX', floorSet);
  const plainKeyv = new Keyv(new KeyvRedis(client), { namespace: '', useKeyPrefix: false });
  const [keyvGet, floorGet2] = await pair(n, (i) => plainKeyv.get(key(i)), rawGet);
  row('redis', '(reference) plain Keyv+@keyv/redis get', keyvGet, 'node-redis GET', floorGet2);
  const [take, floorSet2] = await pair(
    n,
    async (i) => {
      await store.set(`oc:t:${i}`, 1, 60_000);
      await store.take(`oc:t:${i}`);
    },
    rawSet,
  );
  row('redis', 'RedisStore set + take (Lua GETDEL+PUBLISH)', take, 'node-redis SET PX', floorSet2);
  const now = Date.now();
  const [indexAdd, floorSet3] = await pair(
    n,
    (i) => store.indexAdd('oc:ix:b', `m${i}`, now + 60_000 + i, { now, cap: 100 }),
    rawSet,
  );
  row('redis', 'RedisStore.indexAdd (cap 100, Lua)', indexAdd, 'node-redis SET PX', floorSet3);
  return { store, rawGet, close: () => client.destroy() };
}

async function benchL1(url) {
  const tokens = Array.from({ length: KEYS }, (_, i) =>
    createHash('sha256').update(`tok${i}`).digest('base64url'),
  );
  const digest = (t) => createHash('sha256').update(t).digest('base64url');
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
  return { l1, floorFn };
}

/**
 * validateAccessToken through core on `cache` (its store already chosen) against `floor` (the
 * store's own raw read, measured in alternating rounds). Extend here for more validate figures.
 */
export async function benchValidate(cache, label, floorName, floor, n = ops(3000)) {
  const tokens = Array.from({ length: KEYS }, (_, i) => `bench-token-${i}-${'x'.repeat(20)}`);
  for (const t of tokens) await cache.storeToken({ userId: 'bench', accessToken: t, expiresIn: 3600 });
  const [ns, floorNs] = await pair(n, (i) => cache.validateAccessToken(tokens[i % KEYS]), floor);
  row('validate', `validateAccessToken on ${label}`, ns, floorName, floorNs);
}

const cacheOn = (store) =>
  createTokenCache({
    store,
    environment: 'test',
    securityLevel: 'enhanced',
    secret: Buffer.alloc(32, 1),
    encryptionKeys: [{ kid: 'k1', key: Buffer.alloc(32, 2) }],
    maxTokens: 100_000,
    autoCleanup: false,
  });

const dir = await mkdtemp(join(tmpdir(), 'oc-bench-'));
const server = await startRedisServer();
try {
  const sqlite = await benchSqlite(dir);
  const redis = await benchRedis(server.url);
  const { l1, floorFn: memoryFloor } = await benchL1(`${server.url}/1`);
  await benchValidate(
    cacheOn(new MemoryStore({ max: 100_000 })),
    'memory',
    'sha256 + Map.get',
    memoryFloor,
    ops(100_000),
  );
  await benchValidate(cacheOn(sqlite.store), 'sqlite', 'Keyv+@keyv/sqlite get', sqlite.rawGet);
  await benchValidate(cacheOn(redis.store), 'redis', 'node-redis GET', redis.rawGet);
  await benchValidate(cacheOn(l1), 'redis + L1 (hits)', 'sha256 + Map.get', memoryFloor, ops(100_000));
  await sqlite.close();
  redis.close();
  await sqlite.store.close();
  await redis.store.close();
  await l1.close();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
console.table(rows);

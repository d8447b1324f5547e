// Migration bench: generate legacy dumps (streamed to a temp file), migrate each into SQLite and
// into Redis with the built CLI as a child process, report seconds, tokens/s and the child's peak
// RSS (VmHWM from /proc/<pid>/status, polled).
//
//   pnpm --filter @oauth-cache/cli bench                       # 100k entries
//   BENCH_SIZES=100000,1000000 pnpm --filter @oauth-cache/cli bench
//   BENCH_TARGETS=redis BENCH_BATCH_SIZE=1000 ...              # one target, other batch size
//   BENCH_COPIES=1 ...   # then copy what the SQLite run wrote: SQLite -> Redis, export to JSONL,
//                        # JSONL -> Redis, JSONL -> SQLite, Redis -> SQLite (each into an empty store)
//
// Targets (1M entries): SQLite <= 60 s, Redis <= 30 s, peak RSS < 300 MB.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '@oauth-cache/keyv/testing';
import { writeLegacyDump } from '../dist/testing/index.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const sizes = (process.env.BENCH_SIZES ?? '100000').split(',').map((s) => Number(s.trim()));
const targets = (process.env.BENCH_TARGETS ?? 'sqlite,redis').split(',').map((s) => s.trim());
// Unset: the CLI's own default (500; 2000 into a SQLite file that already holds data).
const batchArgs = process.env.BENCH_BATCH_SIZE ? ['--batch-size', process.env.BENCH_BATCH_SIZE] : [];
const EXPIRED_EVERY = 20;
const LIMITS = { sqlite: 60, redis: 30, rssMb: 300 };

const env = {
  PATH: process.env.PATH,
  OAUTH_CACHE_SECRET: randomBytes(32).toString('base64'),
  OAUTH_CACHE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  ENVIRONMENT: 'production',
  MAX_TOKEN_CACHE_SIZE: '10000000',
};

async function peakRssKb(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Run the CLI, polling its peak RSS until it exits. */
function migrate(dump, url) {
  return runBin(['migrate', '--from', `legacy-json:${dump}`, '--to', url, '--json', ...batchArgs]);
}

/** Run the bin with `args` (its summary on stdout as JSON), polling its peak RSS until it exits. */
function runBin(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // Run the bin itself (not `node bin.js`): its shebang carries the heap cap operators get.
    const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setInterval(async () => {
      peak = Math.max(peak, await peakRssKb(child.pid));
    }, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`CLI exited ${code}: ${stderr.slice(0, 500)}`));
      resolve({ summary: JSON.parse(stdout), seconds, peakMb: peak / 1024 });
    });
  });
}

const dir = await mkdtemp(join(tmpdir(), 'oc-cli-bench-'));
const redis = targets.includes('redis') ? await startRedisServer() : undefined;
const rows = [];
const copies = process.env.BENCH_COPIES === '1' && targets.includes('sqlite') && redis !== undefined;
const copyRows = [];

/** A row's timing columns: seconds, `count` per second under `rateName`, peak RSS in MB. */
function rates(count, seconds, peakMb, rateName) {
  return {
    seconds: Number(seconds.toFixed(2)),
    [rateName]: Math.round(count / seconds),
    peakRssMb: Number(peakMb.toFixed(0)),
  };
}

async function flushRedis(url) {
  const { createClient } = await import('redis');
  const client = createClient({ url });
  await client.connect();
  await client.flushAll();
  await client.quit();
}

/** Copy what the legacy run wrote into SQLite, each leg into an empty store. */
async function benchCopies(size) {
  const sqliteUrl = `sqlite://${join(dir, `target-${size}.db`)}`;
  const jsonl = join(dir, `export-${size}.jsonl`);
  const into = (url) => ['--to', url, '--json', ...batchArgs];
  const legs = [
    ['sqlite -> redis', ['migrate', '--from', sqliteUrl, ...into(redis.url)]],
    ['export sqlite -> jsonl', ['export', '--store', sqliteUrl, '--out', jsonl, '--json']],
    ['jsonl -> redis', ['import', '--from', `jsonl:${jsonl}`, ...into(redis.url)]],
    [
      'jsonl -> sqlite',
      ['import', '--from', `jsonl:${jsonl}`, ...into(`sqlite://${join(dir, `jsonl-${size}.db`)}`)],
    ],
    [
      'redis -> sqlite',
      ['migrate', '--from', redis.url, ...into(`sqlite://${join(dir, `copy-${size}.db`)}`)],
    ],
  ];
  for (const [leg, args] of legs) {
    if (leg.endsWith('-> redis')) await flushRedis(redis.url);
    const { summary, seconds, peakMb } = await runBin(args);
    const records =
      summary.records ?? summary.migratedAccess + summary.migratedRefresh + summary.migratedOther;
    const row = { leg, entries: size, records, ...rates(records, seconds, peakMb, 'recordsPerSecond') };
    copyRows.push(row);
    console.error(
      `${leg.padEnd(22)} ${records.toLocaleString('en-US').padStart(9)} records: ${row.seconds} s, peak RSS ${row.peakRssMb} MB`,
    );
  }
  await rm(jsonl, { force: true });
  await flushRedis(redis.url); // the next size's legacy run starts from an empty Redis too
}

try {
  for (const size of sizes) {
    const dump = join(dir, `dump-${size}.json`);
    const genStarted = performance.now();
    await writeLegacyDump(dump, {
      access: Math.ceil(size / 2),
      refresh: Math.floor(size / 2),
      expiredEvery: EXPIRED_EVERY,
      users: 5000,
    });
    const mb = (await stat(dump)).size / 1e6;
    console.error(
      `generated ${size.toLocaleString('en-US')} entries (${mb.toFixed(0)} MB) in ${((performance.now() - genStarted) / 1000).toFixed(1)} s`,
    );
    for (const target of targets) {
      const url = target === 'redis' ? redis.url : `sqlite://${join(dir, `target-${size}.db`)}`;
      const { summary, seconds, peakMb } = await migrate(dump, url);
      const written = summary.migratedAccess + summary.migratedRefresh;
      const row = {
        target,
        entries: size,
        written,
        ...rates(written, seconds, peakMb, 'tokensPerSecond'),
        entriesPerSecond: Math.round(size / seconds),
      };
      rows.push(row);
      console.error(
        `${target.padEnd(6)} ${size.toLocaleString('en-US').padStart(9)} entries: ${row.seconds} s, ${row.tokensPerSecond.toLocaleString('en-US')} tokens/s, peak RSS ${row.peakRssMb} MB`,
      );
      // Start each size (and each copy) from an empty Redis.
      if (target === 'redis') await flushRedis(url);
    }
    await rm(dump, { force: true });
    if (copies) await benchCopies(size);
  }
} finally {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
}

console.log('| target | entries | written | seconds | tokens/s | peak RSS (MB) | target (1M) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const limit = r.target === 'sqlite' ? LIMITS.sqlite : LIMITS.redis;
  const verdict =
    r.entries >= 1_000_000
      ? `${r.seconds <= limit && r.peakRssMb < LIMITS.rssMb ? 'met' : 'missed'} (<= ${limit} s, < ${LIMITS.rssMb} MB)`
      : '-';
  console.log(
    `| ${r.target} | ${r.entries.toLocaleString('en-US')} | ${r.written.toLocaleString('en-US')} | ${r.seconds} | ${r.tokensPerSecond.toLocaleString('en-US')} | ${r.peakRssMb} | ${verdict} |`,
  );
}
if (copyRows.length > 0) {
  console.log('');
  console.log('| copy | from entries | records | seconds | records/s | peak RSS (MB) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of copyRows) {
    console.log(
      `| ${r.leg} | ${r.entries.toLocaleString('en-US')} | ${r.records.toLocaleString('en-US')} | ${r.seconds} | ${r.recordsPerSecond.toLocaleString('en-US')} | ${r.peakRssMb} |`,
    );
  }
}
console.log(
  JSON.stringify({
    bench: 'cli-migrate',
    batchSize: process.env.BENCH_BATCH_SIZE ? Number(process.env.BENCH_BATCH_SIZE) : 'default',
    rows,
    ...(copyRows.length > 0 ? { copies: copyRows } : {}),
  }),
);

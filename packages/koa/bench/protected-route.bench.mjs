// Bench (issue 4): req/s of a route behind bearerAuth vs the same route without it, on the memory
// store and on SQLite + L1, loopback only, autocannon 9. Target: auth keeps >= 90 % of the req/s.
//
// Fairness: both routes live on the same Koa app, the same @koa/router and the same server process
// (a child: autocannon never shares its CPU); they differ only by bearerAuth (same handler, same
// response bytes, same path length). Both get the SAME request bytes except the path: the
// Authorization header is sent to /open too, so header parsing costs the same on both sides.
// A third route, /hash, puts the cheapest conceivable token check in bearerAuth's place (sha256 of
// the token + Map.get): the gap between /open and /hash is what any token check costs on this
// machine, the gap between /hash and /auth is what bearerAuth adds over that floor.
// Runs rotate the routes' order each round (open, hash, auth / auth, hash, open…) over many short
// rounds after a warm-up, so drift on the shared machine hits all alike; figures are medians. Each run also reports the server's CPU time
// per request and its CPU/wall ratio ("server busy"): below ~90 % the server was not the
// bottleneck (the load generator or other load was), and the req/s ratio says little.
//
// Env: BENCH_DURATION seconds per run (3), BENCH_ROUNDS (6), BENCH_CONNECTIONS (32),
// BENCH_STORES (comma list of memory,sqlite+l1; default both).
// Run: pnpm --filter @oauth-cache/koa bench   (after building core, keyv and koa).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const duration = Number(process.env.BENCH_DURATION ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TARGET = 0.9;

if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
  console.error('dist/ missing: run "pnpm --filter @oauth-cache/koa build" first');
  process.exit(1);
}

const child = spawn(process.execPath, [fileURLToPath(new URL('./bench-server.mjs', import.meta.url))], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const { apps, controlUrl, token } = await new Promise((resolve, reject) => {
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    const newline = buffer.indexOf('\n');
    if (newline !== -1) resolve(JSON.parse(buffer.slice(0, newline)));
  });
  child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});
const stores = (process.env.BENCH_STORES ?? Object.keys(apps).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s in apps);

const serverClock = async () => {
  const { user, system, wallMs } = await (await fetch(controlUrl)).json();
  return { cpuUs: user + system, wallMs };
};

const headers = { authorization: `Bearer ${token}` };

/** One autocannon run; adds the server's CPU µs per request and its CPU/wall ratio. */
async function run(base, path, seconds) {
  const before = await serverClock();
  const result = await new Promise((resolve, reject) => {
    autocannon(
      { url: `${base}${path}`, headers, connections, duration: seconds, pipelining: 1 },
      (error, outcome) => (error ? reject(error) : resolve(outcome)),
    );
  });
  const after = await serverClock();
  result.cpuPerRequest = (after.cpuUs - before.cpuUs) / result.requests.total;
  result.busy = (after.cpuUs - before.cpuUs) / 1000 / (after.wallMs - before.wallMs);
  return result;
}

// Sanity: /auth really authorizes (200) and refuses without a token (401); /open answers the same
// bytes as an authorized /auth.
for (const base of Object.values(apps)) {
  const open = await fetch(`${base}/open`, { headers });
  const auth = await fetch(`${base}/auth`, { headers });
  const hash = await fetch(`${base}/hash`, { headers });
  const refused = await fetch(`${base}/auth`);
  const bodies = [await open.text(), await auth.text(), await hash.text()];
  const statuses = [open.status, auth.status, hash.status];
  if (statuses.some((s) => s !== 200) || refused.status !== 401 || new Set(bodies).size !== 1) {
    throw new Error(
      `sanity check failed on ${base}: open/auth/hash ${statuses.join('/')}, no token ${refused.status}, bodies ${bodies.join(' / ')}`,
    );
  }
}

console.log(
  `stores ${stores.join(', ')}; warm-up 2 s per route, then ${rounds} rounds of ${duration} s per route (order reversed every other round), ${connections} connections, pipelining 1`,
);
const ROUTES = ['open', 'hash', 'auth'];
for (const store of stores) for (const side of ROUTES) await run(apps[store], `/${side}`, 2);

const results = Object.fromEntries(stores.map((s) => [s, { open: [], hash: [], auth: [] }]));
const line = (store, side, r, round) =>
  `round ${String(round + 1).padStart(2)} ${store.padEnd(9)} ${side.padEnd(4)} ${r.requests.average.toFixed(0).padStart(7)} req/s  ${r.cpuPerRequest.toFixed(1).padStart(6)} µs CPU/req  busy ${(r.busy * 100).toFixed(0).padStart(3)}%  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms`;
for (let round = 0; round < rounds; round += 1) {
  for (const store of stores) {
    // Open first in even rounds, auth first in odd ones (ABBA over the pair that matters).
    const order = round % 2 === 0 ? ROUTES : [...ROUTES].reverse();
    for (const side of order) {
      const r = await run(apps[store], `/${side}`, duration);
      const bad = r.non2xx + r.errors + r.timeouts;
      if (bad > 0) throw new Error(`${store} ${side}: ${bad} non-2xx responses, errors or timeouts`);
      results[store][side].push(r);
      console.log(line(store, side, r, round));
    }
  }
}
child.stdin.end();

// Medians: a round disturbed by other load on the machine does not move them.
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
console.log('');
let allOk = true;
for (const store of stores) {
  const { open, hash, auth } = results[store];
  const rps = (runs) => median(runs.map((r) => r.requests.average));
  const cpu = (runs) => median(runs.map((r) => r.cpuPerRequest));
  // Per-round ratios (the routes of a round ran back to back) are steadier than ratios of medians.
  const perRound = (runs, base) => median(runs.map((r, i) => r.requests.average / base[i].requests.average));
  const [openRps, hashRps, authRps] = [rps(open), rps(hash), rps(auth)];
  const [openCpu, hashCpu, authCpu] = [cpu(open), cpu(hash), cpu(auth)];
  const pairRatio = perRound(auth, open);
  const busy = median([...open, ...hash, ...auth].map((r) => r.busy));
  const ok = pairRatio >= TARGET;
  allOk &&= ok;
  console.log(`[${store}]`);
  console.log(
    `  GET /open (no auth)  : ${openRps.toFixed(0)} req/s, ${openCpu.toFixed(1)} µs server CPU/req`,
  );
  console.log(
    `  GET /hash (floor)     : ${hashRps.toFixed(0)} req/s, ${hashCpu.toFixed(1)} µs server CPU/req`,
  );
  console.log(
    `  GET /auth (bearerAuth): ${authRps.toFixed(0)} req/s, ${authCpu.toFixed(1)} µs server CPU/req`,
  );
  console.log(
    `  req/s ratio           : ${(pairRatio * 100).toFixed(1)}% median of per-round ratios (${((authRps / openRps) * 100).toFixed(1)}% of medians), target >= ${TARGET * 100}%: ${ok ? 'OK' : 'BELOW TARGET'}`,
  );
  console.log(
    `  floor ratio           : ${(perRound(hash, open) * 100).toFixed(1)}% hash/open req/s (the best any token check could do here); auth/hash ${(perRound(auth, hash) * 100).toFixed(1)}%`,
  );
  console.log(
    `  CPU-cost ratio        : ${((openCpu / authCpu) * 100).toFixed(1)}% open/auth CPU per request (capacity kept when the server is CPU-bound); open/hash ${((openCpu / hashCpu) * 100).toFixed(1)}%`,
  );
  console.log(
    `  server busy           : ${(busy * 100).toFixed(0)}% of one core (median)${busy < 0.9 ? ': NOT saturated (other load or the load generator set the pace): read the CPU-cost ratio too' : ''}`,
  );
}
if (!allOk) console.log('at least one store is below the req/s target');

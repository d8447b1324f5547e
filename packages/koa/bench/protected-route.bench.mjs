// Bench: req/s of GET /protected behind bearerAuth (memory store) vs the same route without auth, in
// the same run, loopback only. The servers run in a child process so autocannon does not steal their CPU.
// Env: BENCH_DURATION seconds per round (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (10).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const duration = Number(process.env.BENCH_DURATION ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const TARGET = 0.9;

if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
  console.error('dist/ missing: run "pnpm --filter @oauth-cache/koa build" first');
  process.exit(1);
}

const child = spawn(process.execPath, [fileURLToPath(new URL('./bench-server.mjs', import.meta.url))], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const { protectedUrl, openUrl, controlUrl, token } = await new Promise((resolve, reject) => {
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    const newline = buffer.indexOf('\n');
    if (newline !== -1) resolve(JSON.parse(buffer.slice(0, newline)));
  });
  child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});

const serverCpu = async () => {
  const { user, system } = await (await fetch(controlUrl)).json();
  return user + system;
};

/** One autocannon run; adds the server's CPU microseconds per request. */
async function run(url, headers, seconds) {
  const before = await serverCpu();
  const result = await new Promise((resolve, reject) => {
    autocannon(
      { url: `${url}/protected`, headers, connections, duration: seconds, pipelining: 1 },
      (error, outcome) => (error ? reject(error) : resolve(outcome)),
    );
  });
  result.cpuPerRequest = ((await serverCpu()) - before) / result.requests.total;
  return result;
}

const authHeaders = { authorization: `Bearer ${token}` };
// Sanity check: the protected route really authorizes (200) and really refuses without a token (401).
for (const [headers, expected] of [
  [authHeaders, 200],
  [{}, 401],
]) {
  const response = await fetch(`${protectedUrl}/protected`, { headers });
  if (response.status !== expected) throw new Error(`expected ${expected}, got ${response.status}`);
}

console.log(
  `warming up (2 s each), then ${rounds} alternating rounds of ${duration} s, ${connections} connections`,
);
await run(openUrl, {}, 2);
await run(protectedUrl, authHeaders, 2);

const open = [];
const guarded = [];
for (let round = 0; round < rounds; round += 1) {
  // Alternate the order so drift (thermal, other load) hits both sides alike.
  const pair = round % 2 === 0 ? ['open', 'auth'] : ['auth', 'open'];
  for (const side of pair) {
    const result =
      side === 'open' ? await run(openUrl, {}, duration) : await run(protectedUrl, authHeaders, duration);
    const non2xx = result.non2xx + result.errors;
    if (non2xx > 0) throw new Error(`${side}: ${non2xx} non-2xx responses or errors`);
    (side === 'open' ? open : guarded).push(result);
    console.log(
      `round ${round + 1} ${side.padEnd(4)} ${result.requests.average.toFixed(0).padStart(7)} req/s  ${result.cpuPerRequest.toFixed(1).padStart(6)} µs CPU/req  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms`,
    );
  }
}
child.stdin.end();

// Medians: one round disturbed by other load on the machine does not move them.
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const openRps = median(open.map((result) => result.requests.average));
const authRps = median(guarded.map((result) => result.requests.average));
const openCpu = median(open.map((result) => result.cpuPerRequest));
const authCpu = median(guarded.map((result) => result.cpuPerRequest));
const ratio = authRps / openRps;
const cpuRatio = openCpu / authCpu;
console.log('');
console.log(
  `GET /protected without auth : ${openRps.toFixed(0)} req/s, ${openCpu.toFixed(1)} µs server CPU/req (median)`,
);
console.log(
  `GET /protected, bearerAuth  : ${authRps.toFixed(0)} req/s, ${authCpu.toFixed(1)} µs server CPU/req (median, memory store)`,
);
console.log(
  `req/s ratio                 : ${(ratio * 100).toFixed(1)}% (target >= ${TARGET * 100}%) ${ratio >= TARGET ? 'OK' : 'BELOW TARGET'}`,
);
console.log(
  `CPU-cost ratio (open/auth)  : ${(cpuRatio * 100).toFixed(1)}% (capacity kept when the server is CPU-bound)`,
);

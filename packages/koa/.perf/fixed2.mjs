import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
const routes = process.argv[2].split(','); const rate = Number(process.argv[3] ?? 3000);
const child = spawn(process.execPath, ['.perf/floor-server.mjs'], { stdio: ['pipe', 'pipe', 'inherit'] });
const info = await new Promise((resolve) => { let b = ''; child.stdout.on('data', (c) => { b += c; const n = b.indexOf('\n'); if (n !== -1) resolve(JSON.parse(b.slice(0, n))); }); });
const clock = async () => (await (await fetch(info.controlUrl)).json());
const headers = { authorization: `Bearer ${info.token}` };
for (let r = 0; r < 3; r++) for (const p of routes) {
  const a = await clock(); const out = await autocannon({ url: info.url + p, headers, connections: 8, duration: 3, overallRate: rate }); const b = await clock();
  console.log(p.padEnd(6), out.requests.total, 'reqs', ((b.user + b.system - a.user - a.system) / out.requests.total).toFixed(1), 'µs/req');
}
child.stdin.end();

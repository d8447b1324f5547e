import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
const rate = Number(process.argv[2] ?? 5000), conns = Number(process.argv[3] ?? 10);
const child = spawn(process.execPath, ['bench/bench-server.mjs'], { stdio: ['pipe', 'pipe', 'inherit'] });
const info = await new Promise((resolve) => { let b = ''; child.stdout.on('data', (c) => { b += c; const n = b.indexOf('\n'); if (n !== -1) resolve(JSON.parse(b.slice(0, n))); }); });
const clock = async () => (await (await fetch(info.controlUrl)).json());
const headers = { authorization: `Bearer ${info.token}` };
for (let r = 0; r < 4; r++) for (const p of r % 2 ? ['/auth', '/open'] : ['/open', '/auth']) {
  const a = await clock();
  const res = await autocannon({ url: info.apps.memory + p, headers, connections: conns, duration: 4, overallRate: rate });
  const b = await clock();
  const cpu = (b.user + b.system - a.user - a.system);
  console.log(p, res.requests.total, 'reqs', (cpu / res.requests.total).toFixed(1), 'µs/req', 'user', ((b.user - a.user) / res.requests.total).toFixed(1), 'sys', ((b.system - a.system) / res.requests.total).toFixed(1), 'busy', (cpu / 1000 / (b.wallMs - a.wallMs) * 100).toFixed(0) + '%');
}
child.stdin.end();

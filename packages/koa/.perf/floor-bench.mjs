import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
const routes = (process.argv[2] ?? '/open,/noop,/sha2,/hmac,/vali,/auth').split(',');
const rounds = Number(process.argv[3] ?? 6), dur = Number(process.argv[4] ?? 2);
const child = spawn(process.execPath, ['.perf/floor-server.mjs'], { stdio: ['pipe', 'pipe', 'inherit'] });
const info = await new Promise((resolve) => { let b = ''; child.stdout.on('data', (c) => { b += c; const n = b.indexOf('\n'); if (n !== -1) resolve(JSON.parse(b.slice(0, n))); }); });
const clock = async () => (await (await fetch(info.controlUrl)).json());
const headers = { authorization: `Bearer ${info.token}` };
for (const p of routes) { const r = await fetch(info.url + p, { headers }); if (r.status !== 200) throw new Error(p + ' ' + r.status); }
for (const p of routes) await autocannon({ url: info.url + p, headers, connections: 32, duration: 1 });
const res = Object.fromEntries(routes.map((p) => [p, { cpu: [], rps: [] }]));
for (let r = 0; r < rounds; r++) for (const p of r % 2 ? [...routes].reverse() : routes) {
  const a = await clock(); const out = await autocannon({ url: info.url + p, headers, connections: 32, duration: dur }); const b = await clock();
  res[p].cpu.push((b.user + b.system - a.user - a.system) / out.requests.total); res[p].rps.push(out.requests.average);
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = med(res['/open'].cpu), baseRps = med(res['/open'].rps);
for (const p of routes) console.log(p.padEnd(6), med(res[p].cpu).toFixed(1).padStart(6), 'µs CPU/req', ('+' + (med(res[p].cpu) - base).toFixed(1)).padStart(6), 'cost ratio', (100 * base / med(res[p].cpu)).toFixed(1) + '%', ' req/s', med(res[p].rps).toFixed(0), (100 * med(res[p].rps) / baseRps).toFixed(1) + '%');
child.stdin.end();

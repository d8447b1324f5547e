import { LRUCache } from 'lru-cache';
const keys = Array.from({ length: 1000 }, (_, i) => `oc:at:${'k'.repeat(40)}${i}`);
const a = new LRUCache({ max: 10000, ttl: 1000000, ttlResolution: 1, updateAgeOnGet: false });
const b = new LRUCache({ max: 10000 });
const m = new Map();
for (const k of keys) { a.set(k, { value: 1, expiresAt: Date.now() + 1e6 }, { ttl: 1e6 }); b.set(k, { value: 1, expiresAt: Date.now() + 1e6 }); m.set(k, 1); }
const cases = { 'lru ttl': (k) => a.get(k), 'lru no ttl': (k) => b.get(k), 'lru no ttl + Date.now': (k) => { const h = b.get(k); return h.expiresAt > Date.now() ? h : undefined; }, 'Map': (k) => m.get(k), 'Date.now': () => Date.now(), 'perf.now': () => performance.now() };
const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < 11; r++) for (const [name, fn] of Object.entries(cases)) {
  const t0 = process.hrtime.bigint(); for (let i = 0; i < 1e6; i++) fn(keys[i % 1000]);
  res[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
}
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(26), v.sort((a, b) => a - b)[5].toFixed(1), 'ns');

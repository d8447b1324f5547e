import { createClient } from '@keyv/redis';
import KeyvRedis from '@keyv/redis';
import { RedisStore } from '../dist/index.js';
import { withDeadline } from '../dist/redis/deadline.js';
import { parseKeyvText } from '../dist/envelope.js';
import { startRedisServer } from '../dist/testing/index.js';
const ROUNDS = 9, N = 5000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function multi(fns) {
  const out = fns.map(() => []);
  for (let r = -1; r < ROUNDS; r++) for (const [j, fn] of fns.entries()) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn(i);
    if (r >= 0) out[j].push(Number(process.hrtime.bigint() - t0) / N);
  }
  return out.map(median);
}
const server = await startRedisServer();
const client = createClient({ url: server.url }); client.on('error', () => {}); await client.connect();
const store = await RedisStore.open({ url: server.url });
const adapter = new KeyvRedis(client, { throwOnErrors: true });
await store.set('oc:at:x', { v: 1, kind: 'access', exp: Date.now() + 1e6, body: { uid: 'u', scp: ['mcp'] } }, 1e6);
const names = ['raw GET', 'raw GET+parse', 'withDeadline(raw GET)', 'adapter.get', 'store.get', 'raw GET miss', 'store.get miss'];
const res = await multi([
  () => client.get('oc:at:x'),
  async () => parseKeyvText(await client.get('oc:at:x')),
  () => withDeadline(client.get('oc:at:x'), 1500),
  () => adapter.get('oc:at:x'),
  () => store.get('oc:at:x'),
  () => client.get('oc:at:nope'),
  () => store.get('oc:at:nope'),
]);
names.forEach((n, i) => console.log(n.padEnd(24), (res[i] / 1000).toFixed(2), 'µs', (res[i] / res[0]).toFixed(2)));
client.destroy(); await store.close(); await server.stop();

import { createClient } from '@keyv/redis';
import { RedisStore } from '../dist/index.js';
import { startRedisServer } from '../dist/testing/index.js';
const which = process.argv[2];
const server = await startRedisServer();
const client = createClient({ url: server.url }); client.on('error', () => {}); await client.connect();
const store = await RedisStore.open({ url: server.url });
await store.set('oc:at:x', { v: 1, kind: 'access', exp: Date.now() + 1e6, body: { uid: 'u', scp: ['mcp'] } }, 1e6);
const fn = which === 'raw' ? () => client.get('oc:at:x') : () => store.get('oc:at:x');
for (let r = 0; r < 5; r++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 40000; i++) await fn();
  console.log(which, Number(process.hrtime.bigint() - t0) / 40000 / 1000);
}
client.destroy(); await store.close(); await server.stop();

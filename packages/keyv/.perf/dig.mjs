import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
const { Digester } = await import('../../core/dist/crypto/digest.js');
const d = new Digester(Buffer.alloc(32, 1));
const TOK = Array.from({ length: 1000 }, (_, i) => `bench-token-${i}-${'x'.repeat(20)}`);
const m = new Map();
const cases = {
  'sha256 createHash': (t) => createHash('sha256').update(t).digest('base64url'),
  'crypto.hash one-shot': (t) => crypto.hash('sha256', t, 'base64url'),
  'Digester (HMAC 2x hash)': (t) => d.digest(t),
  'createHmac': (t) => createHmac('sha256', Buffer.alloc(32, 1)).update(t).digest('base64url'),
  'floor: sha256+Map.get': (t) => m.get(createHash('sha256').update(t).digest('base64url')),
};
for (let r = 0; r < 3; r++) for (const [name, fn] of Object.entries(cases)) {
  const t0 = process.hrtime.bigint(); for (let i = 0; i < 300000; i++) fn(TOK[i % 1000]);
  console.log(name.padEnd(28), (Number(process.hrtime.bigint() - t0) / 300000).toFixed(0), 'ns');
}

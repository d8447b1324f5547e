import * as crypto from 'node:crypto';
const BLOCK = 64;
const secret = Buffer.alloc(32, 1); const key = Buffer.alloc(BLOCK); secret.copy(key);
const ipad = Buffer.alloc(BLOCK), opad = Buffer.alloc(BLOCK + 32);
for (let i = 0; i < BLOCK; i++) { ipad[i] = key[i] ^ 0x36; opad[i] = key[i] ^ 0x5c; }
const innerBase = crypto.createHash('sha256').update(ipad);
const inner = Buffer.alloc(BLOCK + 12288); ipad.copy(inner);
const viaCopy = (t) => { const h = innerBase.copy().update(t, 'utf8').digest('latin1'); opad.write(h, BLOCK, 'latin1'); return crypto.hash('sha256', opad, 'base64url'); };
const viaBuf = (t) => { const n = inner.write(t, BLOCK, 'utf8'); const h = crypto.hash('sha256', inner.subarray(0, BLOCK + n), 'latin1'); opad.write(h, BLOCK, 'latin1'); return crypto.hash('sha256', opad, 'base64url'); };
const TOK = Array.from({ length: 1000 }, (_, i) => `bench-token-${i}-${'x'.repeat(20)}`);
for (const t of TOK.slice(0, 3)) { const ref = crypto.createHmac('sha256', secret).update(t).digest('base64url'); if (viaCopy(t) !== ref || viaBuf(t) !== ref) throw new Error('x'); }
const cases = { viaCopy, viaBuf, floor: (t) => crypto.createHash('sha256').update(t).digest('base64url') };
const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < 15; r++) for (const [name, fn] of Object.entries(cases)) {
  const t0 = process.hrtime.bigint(); for (let i = 0; i < 100000; i++) fn(TOK[i % 1000]);
  res[name].push(Number(process.hrtime.bigint() - t0) / 100000);
}
for (const [k, v] of Object.entries(res)) console.log('median', k.padEnd(26), v.sort((a, b) => a - b)[7].toFixed(0));

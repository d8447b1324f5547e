import * as crypto from 'node:crypto';
const { Digester } = await import('../../core/dist/crypto/digest.js');
const BLOCK = 64, MAX = 4096 * 3;
class Digester2 {
  #inner = Buffer.alloc(BLOCK + MAX); #outer = Buffer.alloc(BLOCK + 32); #secret;
  constructor(secret) { this.#secret = secret; const key = Buffer.alloc(BLOCK); (secret.length > BLOCK ? crypto.createHash('sha256').update(secret).digest() : secret).copy(key);
    for (let i = 0; i < BLOCK; i++) { this.#inner[i] = key[i] ^ 0x36; this.#outer[i] = key[i] ^ 0x5c; } }
  digest(value, enc) {
    const n = this.#inner.write(value, BLOCK, 'utf8');
    const inner = crypto.hash('sha256', this.#inner.subarray(0, BLOCK + n), enc);
    this.#outer.write(inner, BLOCK, enc);
    return crypto.hash('sha256', this.#outer, 'base64url');
  }
}
const secret = Buffer.alloc(32, 1);
const d = new Digester(secret), d2 = new Digester2(secret);
const TOK = Array.from({ length: 1000 }, (_, i) => `bench-token-${i}-${'x'.repeat(20)}`);
for (const t of [...TOK.slice(0, 5), 'ünïcödé-токен-😀', 'x'.repeat(4096)]) {
  const ref = crypto.createHmac('sha256', secret).update(t, 'utf8').digest('base64url');
  for (const enc of ['latin1', 'hex']) if (d2.digest(t, enc) !== ref) throw new Error('mismatch ' + enc);
}
const cases = { 'Digester (now)': (t) => d.digest(t), 'hex intermediate': (t) => d2.digest(t, 'hex'), 'latin1 intermediate': (t) => d2.digest(t, 'latin1'), 'floor sha256 createHash': (t) => crypto.createHash('sha256').update(t).digest('base64url') };
for (let r = 0; r < 3; r++) for (const [name, fn] of Object.entries(cases)) {
  const t0 = process.hrtime.bigint(); for (let i = 0; i < 300000; i++) fn(TOK[i % 1000]);
  console.log(name.padEnd(26), (Number(process.hrtime.bigint() - t0) / 300000).toFixed(0), 'ns');
}
const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < 15; r++) for (const [name, fn] of Object.entries(cases)) {
  const t0 = process.hrtime.bigint(); for (let i = 0; i < 100000; i++) fn(TOK[i % 1000]);
  res[name].push(Number(process.hrtime.bigint() - t0) / 100000);
}
for (const [k, v] of Object.entries(res)) console.log('median', k.padEnd(26), v.sort((a, b) => a - b)[7].toFixed(0));

import * as crypto from 'node:crypto';
const TOK = Array.from({ length: 1000 }, (_, i) => `bench-token-${i}-${'x'.repeat(20)}`);
const big = Buffer.alloc(64 + 12288); const small = Buffer.alloc(64 + 200); const outer = Buffer.alloc(96);
const bstr = 'x'.repeat(110);
const cases = {
  'hash(string)': (t) => crypto.hash('sha256', t, 'base64url'),
  'hash(string 110) buffer out': (t) => crypto.hash('sha256', bstr, 'buffer'),
  'write big': (t) => big.write(t, 64, 'utf8'),
  'subarray': (t) => big.subarray(0, 100),
  'hash(big.subarray) buffer': (t) => crypto.hash('sha256', big.subarray(0, 110), 'buffer'),
  'hash(small.subarray) buffer': (t) => crypto.hash('sha256', small.subarray(0, 110), 'buffer'),
  'hash(outer) b64url': (t) => crypto.hash('sha256', outer, 'base64url'),
  'hash(outer) hex': (t) => crypto.hash('sha256', outer, 'hex'),
  'hash(outer) buffer': (t) => crypto.hash('sha256', outer, 'buffer'),
  'latin1 string hash': (t) => crypto.hash('sha256', bstr, 'base64url'),
};
for (let r = 0; r < 2; r++) for (const [name, fn] of Object.entries(cases)) {
  const t0 = process.hrtime.bigint(); for (let i = 0; i < 300000; i++) fn(TOK[i % 1000]);
  console.log(name.padEnd(30), (Number(process.hrtime.bigint() - t0) / 300000).toFixed(0), 'ns');
}

import { parseKeyvText } from '../dist/envelope.js';
const texts = [
 JSON.stringify({ value: { v: 1, kind: 'access', exp: Date.now() + 1e6, body: { uid: 'bench', fam: 'x'.repeat(43), scp: ['mcp'], typ: 'Bearer', iat: Date.now() } }, expires: Date.now() + 1e6 }),
 JSON.stringify({ value: { v: 1, kind: 'access', exp: Date.now() + 1e6, sealed: 'k1.' + 'A'.repeat(300) }, expires: Date.now() + 1e6 }),
];
const MAYBE = /[:,[\s]":/;
const fast = (t) => { const d = JSON.parse(t); if (!MAYBE.test(t)) return d; return parseKeyvText(t); };
for (const text of texts) for (const [name, fn] of [['JSON.parse', () => JSON.parse(text)], ['parseKeyvText', () => parseKeyvText(text)], ['precheck', () => fast(text)]]) {
  let best = 1e9; for (let k = 0; k < 5; k++) { const t0 = process.hrtime.bigint(); for (let i = 0; i < 3e5; i++) fn(); best = Math.min(best, Number(process.hrtime.bigint() - t0) / 3e5); } console.log(text.length, name, best.toFixed(0), 'ns');
}

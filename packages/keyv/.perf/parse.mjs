import { parseKeyvText } from '../dist/envelope.js';
const text = JSON.stringify({ value: { v: 1, kind: 'access', exp: Date.now() + 1e6, body: { uid: 'u', scp: ['mcp'] } }, expires: Date.now() + 1e6 });
console.log(text);
for (const [name, fn] of [['JSON.parse', () => JSON.parse(text)], ['parseKeyvText', () => parseKeyvText(text)]]) {
  for (let k = 0; k < 3; k++) { const t0 = process.hrtime.bigint(); for (let i = 0; i < 1e6; i++) fn(); console.log(name, Number(process.hrtime.bigint() - t0) / 1e6, 'ns'); }
}

// validate ops/s on the memory store next to the floor measured in the same run:
// sha256 of the token + a Map get (what any digest-keyed in-memory lookup must cost at least).
// Run: pnpm --filter @oauth-cache/core bench   (after pnpm build). Target: ratio <= 3.
import { createHash } from 'node:crypto';
import { createTokenCache, MemoryStore } from '../dist/index.js';

const N = Number(process.env.BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const tokens = Array.from({ length: 1000 }, (_, i) =>
  createHash('sha256').update(`tok${i}`).digest('base64url'),
);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(fn) {
  const results = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn(tokens[i % tokens.length]);
    const ns = Number(process.hrtime.bigint() - t0);
    results.push((N / ns) * 1e9);
  }
  return median(results);
}

function measureSync(fn) {
  const results = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn(tokens[i % tokens.length]);
    const ns = Number(process.hrtime.bigint() - t0);
    results.push((N / ns) * 1e9);
  }
  return median(results);
}

const floorMap = new Map(
  tokens.map((t) => [createHash('sha256').update(t).digest('base64url'), { ok: true }]),
);
const floor = () => measureSync((t) => floorMap.get(createHash('sha256').update(t).digest('base64url')));

const rows = [];
for (const level of ['basic', 'enhanced', 'maximum']) {
  const cache = createTokenCache({
    store: new MemoryStore({ max: 10_000 }),
    environment: 'test',
    securityLevel: level,
    secret: Buffer.alloc(32, 1),
    encryptionKeys: [{ kid: 'k1', key: Buffer.alloc(32, 2) }],
    maxTokens: 10_000,
    autoCleanup: false,
  });
  for (const t of tokens)
    await cache.storeToken({
      userId: 'u',
      accessToken: t,
      expiresIn: 3600,
      userData: { login: 'u', password: 'p' },
    });
  // Alternate floor and validate rounds so drift on a shared machine hits both alike.
  const fs = [];
  const vs = [];
  for (let r = 0; r < 3; r++) {
    fs.push(floor());
    vs.push(await measure((t) => cache.validateAccessToken(t)));
  }
  const f = median(fs);
  const v = median(vs);
  rows.push({
    store: 'memory',
    level,
    'validate ops/s': Math.round(v),
    'floor ops/s (sha256+Map)': Math.round(f),
    ratio: +(f / v).toFixed(2),
  });
  await cache.close();
}
console.table(rows);
const worst = Math.max(...rows.filter((r) => r.level !== 'basic').map((r) => r.ratio));
console.log(`validate cost / floor cost (enhanced, maximum): worst ratio ${worst} (target <= 3)`);

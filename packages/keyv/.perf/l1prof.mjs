import { createHash } from 'node:crypto';
import { createTokenCache } from '@oauth-cache/core';
import { L1Store, SqliteStore } from '../dist/index.js';
import { mkdtemp } from 'node:fs/promises'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
const dir = await mkdtemp(join(tmpdir(), 'l1p-'));
const store = await L1Store.wrap(await SqliteStore.open({ path: join(dir, 'x.db') }), { max: 10000, maxStaleMs: 3600000 });
const cache = createTokenCache({ store, environment: 'test', securityLevel: 'enhanced', secret: Buffer.alloc(32, 1), encryptionKeys: [{ kid: 'k1', key: Buffer.alloc(32, 2) }], autoCleanup: false, maxTokens: 100000 });
const TOKENS = Array.from({ length: 1000 }, (_, i) => `bench-token-${i}-${'x'.repeat(20)}`);
for (const t of TOKENS) await cache.storeToken({ userId: 'bench', accessToken: t, expiresIn: 3600 });
const digest = (t) => createHash('sha256').update(t).digest('base64url');
const m = new Map(TOKENS.map((t) => [digest(t), {}]));
for (let r = 0; r < 8; r++) {
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < 200000; i++) await cache.validateAccessToken(TOKENS[i % 1000]);
  const v = Number(process.hrtime.bigint() - t0) / 200000;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 200000; i++) m.get(digest(TOKENS[i % 1000]));
  const f = Number(process.hrtime.bigint() - t0) / 200000;
  console.log('validate', v.toFixed(0), 'floor', f.toFixed(0), (v / f).toFixed(2));
}
await cache.close();

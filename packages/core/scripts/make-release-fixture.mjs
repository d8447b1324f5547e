#!/usr/bin/env node
// Write a store snapshot as a given build of @oauth-cache/core writes it, for the upgrade test:
//   node packages/core/scripts/make-release-fixture.mjs <core dist folder> <out folder>
// e.g. the previous release's core built from its tag in a git worktree:
//   git worktree add /tmp/old 3861f46 && (cd /tmp/old/packages/core && ln -s "$PWD/../../../main/packages/core/node_modules" . && npx tsc -p tsconfig.build.json)
//   node packages/core/scripts/make-release-fixture.mjs /tmp/old/packages/core/dist packages/core/test/fixtures/release-0.1.0
// The `before-grants` fixture (self-contained token records sealed per token, no grant records)
// is main at 8a60f53 built the same way, written to packages/core/test/fixtures/before-grants.
// Per security level it writes <level>.jsonl (the exported records, sealed parts sealed) and
// <level>.json (the secrets and the raw tokens the test presents). Tokens expire in 2099.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distDir, outDir] = process.argv.slice(2);
if (!distDir || !outDir) {
  console.error('usage: make-release-fixture.mjs <core dist folder> <out folder>');
  process.exit(2);
}
const core = await import(pathToFileURL(join(resolve(distDir), 'index.js')).href);
const EXPIRES = Date.parse('2099-01-01T00:00:00Z');
const users = [
  { login: 'ivanov', password: 'Пароль-1' },
  { login: 'petrova', password: 'secret: "two"' },
];

for (const level of ['enhanced', 'maximum']) {
  const secret = Buffer.alloc(32, level.length).toString('base64');
  const encryptionKeys = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
  const cache = core.createTokenCache({
    config: core.configFromEnv(
      {
        ENVIRONMENT: 'production',
        SECURITY_LEVEL: level,
        OAUTH_CACHE_SECRET: secret,
        OAUTH_CACHE_ENCRYPTION_KEYS: encryptionKeys,
      },
      { cleanupInterval: 0 },
    ),
    autoCleanup: false,
  });
  const tokens = [];
  for (const [i, user] of users.entries()) {
    const accessToken = `fixture-${level}-access-${i}-0123456789abcdef0123456789`;
    const refreshToken = `fixture-${level}-refresh-${i}-0123456789abcdef0123456789`;
    await cache.storeToken({
      userId: user.login,
      accessToken,
      refreshToken,
      expiresAt: EXPIRES,
      refreshExpiresAt: EXPIRES,
      clientId: 'fixture-client-0123456789',
      resource: 'https://mcp.example.com/mcp',
      scopes: ['mcp'],
      userData: { login: user.login, password: user.password },
    });
    tokens.push({ ...user, accessToken, refreshToken });
  }
  const lines = [];
  for await (const record of cache.exportRecords()) lines.push(JSON.stringify(record));
  await cache.close();
  writeFileSync(join(outDir, `${level}.jsonl`), `${lines.join('\n')}\n`);
  writeFileSync(
    join(outDir, `${level}.json`),
    `${JSON.stringify({ securityLevel: level, secret, encryptionKeys, tokens }, null, 2)}\n`,
  );
}

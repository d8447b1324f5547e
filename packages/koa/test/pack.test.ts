import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

it('installs from its packed tarball outside the workspace and serves the README example', () => {
  const script = resolve(import.meta.dirname, '../../../scripts/pack-check.mjs');
  const result = spawnSync(
    process.execPath,
    [script, 'packages/koa', '--probe', 'http://127.0.0.1:3000/mcp'],
    {
      encoding: 'utf8',
      timeout: 240_000,
    },
  );
  expect(result.status).toBe(0);
  // The protected route answers an anonymous request with the MCP challenge, not a crash.
  expect(result.stdout).toContain('probe 401');
  expect(result.stdout).toContain('invalid_token');
}, 300_000);

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

it('installs from its packed tarball outside the workspace and runs the README example', () => {
  const script = resolve(import.meta.dirname, '../../../scripts/pack-check.mjs');
  const result = spawnSync(process.execPath, [script, 'packages/authorization-server'], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('redirect to http://127.0.0.1:33418/callback state xyz');
  expect(result.stdout).toContain('access token for demo audience https://mcp.example.com/mcp');
  expect(result.stdout).toContain('rotated: true');
  expect(result.stdout).toContain('code replay: 400 invalid_grant');
  expect(result.stdout).toContain('rotated token after replay: revoked');
}, 300_000);

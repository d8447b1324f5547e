import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

it('installs from its packed tarball outside the workspace and runs the README example', () => {
  const script = resolve(import.meta.dirname, '../../../scripts/pack-check.mjs');
  const result = spawnSync(process.execPath, [script, 'packages/core'], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('valid: true user: ivanov family: true');
  expect(result.stdout).toContain('rotated; new access token validates: true');
}, 300_000);

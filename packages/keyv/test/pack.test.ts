import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

it('installs from its packed tarball (with @oauth-cache/core) outside the workspace and runs the README example', () => {
  const script = resolve(import.meta.dirname, '../../../scripts/pack-check.mjs');
  const result = spawnSync(process.execPath, [script, 'packages/keyv'], {
    encoding: 'utf8',
    timeout: 400_000,
  });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toContain("userId: 'ivanov'");
  expect(result.stdout).toContain('valid: true');
}, 420_000);

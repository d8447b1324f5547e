/**
 * A SQLite store on a read-only file system: a tmpfs remounted read-only in a private mount
 * namespace of a child process (`unshare --mount`, so nothing stays mounted if the test dies).
 * Root ignores file modes but not a read-only mount, so this is the one fault root also gets. The
 * message must say "read-only file system", not only SQLITE_CANTOPEN or mkdir's ENOENT.
 *
 * Mounting needs root (CAP_SYS_ADMIN) and `unshare`: without them the block does not run and says
 * why on the console (the non-root permission cases are in fault.sqlite.test.ts). Under CI (`CI`
 * set: .ci/run runs as root) it is never skipped: a runner that cannot mount fails a test naming why.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { cleanupTempDirs, tempDir } from './support/temp.js';

const run = promisify(execFile);
const openStoreScript = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
afterAll(cleanupTempDirs);

async function probeMounts(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root: mounting a tmpfs needs CAP_SYS_ADMIN';
  const dir = await tempDir('oc-keyv-probe-');
  try {
    await run('unshare', [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t tmpfs -o size=64k tmpfs "${dir}"`,
    ]);
    return undefined;
  } catch (error) {
    return `unshare + mount -t tmpfs failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

const cannotMount = await probeMounts();
if (cannotMount) console.warn(`read-only file system checks not run: ${cannotMount}`);

if (cannotMount && process.env.CI) {
  it('CI can run the read-only file system checks (root, unshare, mount)', () => {
    expect.fail(`read-only file system checks cannot run in CI: ${cannotMount}`);
  });
}

/**
 * Mount a tmpfs on `mount`, run `setup` (shell), remount it read-only, then open `url` with the
 * package's own `createStore` in that namespace; resolves the fixture's JSON outcome.
 */
async function openOnReadOnlyFs(
  mount: string,
  setup: string,
  url: string,
): Promise<{ ok: boolean; name?: string; message?: string; ms: number }> {
  const script = [
    `mount -t tmpfs -o size=1m tmpfs "${mount}"`,
    setup || 'true',
    `mount -o remount,ro "${mount}"`,
    `exec "${process.execPath}" "${openStoreScript}" "${url}"`,
  ].join(' && ');
  const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

describe.runIf(cannotMount === undefined)('SQLite on a read-only file system (as root)', () => {
  it('an existing store file: refused, naming the read-only file system', async () => {
    const source = await tempDir();
    const template = join(source, 'cache.sqlite');
    const store = await SqliteStore.open({ path: template });
    await store.set('oc:k', 1, 60_000);
    await store.close();
    const mount = await tempDir();
    const file = join(mount, 'cache.sqlite');
    const result = await openOnReadOnlyFs(mount, `cp "${template}" "${file}"`, `sqlite://${file}`);
    expect(result.ok).toBe(false);
    expect(result.name).toBe('StoreUnavailableError');
    expect(result.message).toContain(`cannot open the SQLite database ${file}`);
    expect(result.message).toMatch(/SQLITE_CANTOPEN|SQLITE_READONLY/);
    expect(result.message).toContain(`${mount} is on a read-only file system; SQLite needs to write`);
    expect(result.message).toContain('-wal and -shm');
    expect(result.ms).toBeLessThan(10_000);
  });

  it('a new file, and a folder to create: mkdir says ENOENT, the message says read-only', async () => {
    const mount = await tempDir();
    const direct = await openOnReadOnlyFs(mount, '', `sqlite://${join(mount, 'new.sqlite')}`);
    expect(direct.ok).toBe(false);
    expect(direct.message).toMatch(/SQLITE_CANTOPEN|SQLITE_READONLY/);
    expect(direct.message).toContain(`${mount} is on a read-only file system`);

    const nested = await openOnReadOnlyFs(
      mount,
      '',
      `sqlite://${join(mount, 'sub', 'deeper', 'new.sqlite')}`,
    );
    expect(nested.ok).toBe(false);
    expect(nested.message).toContain(`creating the folder ${join(mount, 'sub', 'deeper')} failed`);
    expect(nested.message).toMatch(/ENOENT|EROFS/);
    expect(nested.message).toContain(`(${mount} is on a read-only file system)`);
  });
});

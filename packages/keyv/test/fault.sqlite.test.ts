import { execFile, spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StoreUnavailableError } from '@oauth-cache/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/create-store.js';
import { SqliteStore } from '../src/sqlite/sqlite-store.js';
import { cleanupTempDirs, sleep, tempDir } from './support/temp.js';

const run = promisify(execFile);
const openStoreScript = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
afterAll(cleanupTempDirs);

/** setpriv flags that take CAP_DAC_OVERRIDE away from a root child for good (see openWithFileModes). */
const dropDacOverride = ['--inh-caps=-dac_override', '--bounding-set=-dac_override'];

/**
 * Open a store in a child process that file modes apply to. Root ignores them through
 * CAP_DAC_OVERRIDE, so as root the child runs as root with only that capability dropped (from its
 * bounding and inheritable sets, so the kernel cannot give it back on exec): a 0555 folder or a
 * 0444 file then refuses its writes through the owner bits, as for any user. Switching to another
 * user (nobody) instead would need that user to reach the checkout, which fails under a 0700
 * folder such as a `mktemp -d` or /root; CAP_DAC_READ_SEARCH is kept, so the child reads the
 * checkout from any folder whoever owns it.
 */
async function openWithFileModes(
  url: string,
): Promise<{ ok: boolean; name?: string; message?: string; ms: number }> {
  const child = [openStoreScript, url];
  const { stdout } =
    process.getuid?.() === 0
      ? await run('setpriv', [...dropDacOverride, process.execPath, ...child], { timeout: 30_000 })
      : await run(process.execPath, child, { timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('SQLite start-up faults: a clear error, never a hang', () => {
  it('read-only database file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ro.db');
    const store = await SqliteStore.open({ path });
    await store.set('oc:k', 1, 60_000);
    await store.close();
    await chmod(path, 0o444);
    await chmod(dir, 0o555);
    try {
      const result = await openWithFileModes(`sqlite://${path}`);
      expect(result.ok).toBe(false);
      expect(result.name).toBe('StoreUnavailableError');
      expect(result.message).toContain(`sqlite://${path}`);
      expect(result.message).toMatch(/SQLITE_READONLY|SQLITE_CANTOPEN|read-only/);
      expect(result.ms).toBeLessThan(10_000);
    } finally {
      await chmod(dir, 0o755);
    }
  });

  it('folder that cannot be created or written', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o555);
    try {
      const nested = await openWithFileModes(`sqlite://${join(dir, 'sub', 'x.db')}`);
      expect(nested.ok).toBe(false);
      expect(nested.message).toMatch(/creating the folder .*EACCES/);
      expect(nested.message).toContain(`may not write in ${dir})`);
      const direct = await openWithFileModes(`sqlite://${join(dir, 'x.db')}`);
      expect(direct.ok).toBe(false);
      expect(direct.message).toMatch(/cannot open the SQLite database .*SQLITE_CANTOPEN/);
      expect(direct.message).toContain(`may not write in ${dir})`);
    } finally {
      await chmod(dir, 0o755);
    }
  });

  it('a path under a regular file, and a file that is not a database', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'plain.txt'), 'hello');
    await expect(createStore(`sqlite://${join(dir, 'plain.txt', 'x.db')}`)).rejects.toThrow(
      /creating the folder .*(ENOTDIR|EEXIST).*plain\.txt is a file, not a folder/,
    );
    await writeFile(join(dir, 'garbage.db'), 'this is not a sqlite file at all, just text '.repeat(100));
    const error = await createStore(`sqlite://${join(dir, 'garbage.db')}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/SQLITE_NOTADB|not a database/);
  });

  it('a write lock held by another process longer than the busy timeout: StoreUnavailableError, then recovery', async () => {
    const path = join(await tempDir(), 'locked.db');
    const store = await SqliteStore.open({ path, busyTimeoutMs: 300 });
    const holder = spawn('/usr/bin/sqlite3', [path], { stdio: ['pipe', 'pipe', 'pipe'] });
    holder.stdin.write(
      "BEGIN IMMEDIATE;\nINSERT INTO oc_meta(k, v) VALUES('held', '1');\nSELECT 'locked';\n",
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const started = performance.now();
    const error = await store.set('oc:k', 1, 60_000).catch((e: unknown) => e);
    const ms = performance.now() - started;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/SQLITE_BUSY/);
    expect(ms).toBeLessThan(5000);
    const now = Date.now();
    await expect(store.indexAdd('oc:ix', 'm', now + 1000, { now })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    holder.stdin.end('COMMIT;\n');
    await new Promise((r) => holder.once('exit', r));
    await sleep(50);
    await store.set('oc:k', 1, 60_000);
    expect(await store.get('oc:k')).toBe(1);
    expect(await store.indexAdd('oc:ix', 'm', now + 60_000, { now })).toEqual([]);
    await store.close();
  });
});

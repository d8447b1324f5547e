/**
 * File-system faults for the store: read-only files and folders, a read-only file system, and a
 * full disk (a tiny tmpfs). Root ignores permission bits, so "read-only for this user" runs the
 * server as `nobody` when the tests run as root (or behind a read-only bind mount when `nobody`
 * cannot read the checkout); mounts happen in a private mount namespace of the server process only
 * (`unshare --mount`), so nothing stays mounted if a test dies.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `nobody`/`nogroup` ids used to drop root for permission tests. */
export const NOBODY = { uid: 65534, gid: 65534 } as const;

/** True when this process runs as root (permission bits do not apply to it). */
export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Whether `nobody` can read `path` (e.g. the server's code in a checkout under /root). */
function nobodyCanRead(path: string): boolean {
  const probe = spawnSync(process.execPath, ['-e', 'require("fs").accessSync(process.argv[1], 4)', path], {
    ...NOBODY,
    stdio: 'ignore',
  });
  return probe.status === 0;
}

/** How to run the server so that a file or folder the tests make read-only really is. */
export type ReadOnlyRunner =
  | { kind: 'self' }
  | { kind: 'nobody'; uid: number; gid: number }
  | { kind: 'read-only bind mount' };

/**
 * Non-root: ourselves (permission bits apply). Root: as `nobody` when it can read the server's
 * code, else (a checkout only root can read) behind a read-only bind mount of the folder in a
 * private mount namespace, where even root gets EROFS.
 */
export function readOnlyRunner(serverCode: string): ReadOnlyRunner {
  if (!runningAsRoot()) return { kind: 'self' };
  return nobodyCanRead(serverCode) ? { kind: 'nobody', ...NOBODY } : { kind: 'read-only bind mount' };
}

/** Spawn options for `runner`, making `folder` read-only for the server it starts. */
export function readOnlySpawnOptions(
  runner: ReadOnlyRunner,
  folder: string,
): { uid?: number; gid?: number; wrap?: string[] } {
  if (runner.kind === 'nobody') return { uid: runner.uid, gid: runner.gid };
  if (runner.kind === 'self') return {};
  const script = `mount --bind "${folder}" "${folder}" && mount -o remount,bind,ro "${folder}" && exec "$0" "$@"`;
  return { wrap: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script] };
}

/** Whether tmpfs faults can be simulated here, and why not. */
export type TmpfsSupport = { ok: true } | { ok: false; reason: string };

/**
 * Probe once: root, `unshare`, and a 64 KiB tmpfs mount in a private mount namespace. Needs root
 * (CAP_SYS_ADMIN); without it the full-disk checks cannot run.
 */
export async function probeTmpfs(): Promise<TmpfsSupport> {
  if (!runningAsRoot()) return { ok: false, reason: 'not root: mounting a tmpfs needs CAP_SYS_ADMIN' };
  const dir = await mkdtemp(join(tmpdir(), 'oc-rel-probe-'));
  try {
    await run('unshare', [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t tmpfs -o size=64k tmpfs "${dir}"`,
    ]);
    return { ok: true };
  } catch (error) {
    return {
      ok: false,
      reason: `unshare + mount -t tmpfs failed: ${(error as Error).message.split('\n')[0]}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A command prefix that mounts a tmpfs of `size` (e.g. `64k`) on `dir` in a new mount namespace,
 * runs `setup` (shell, may be empty) and then execs the wrapped command (same pid).
 */
export function tmpfsWrap(dir: string, size: string, setup = ''): string[] {
  const script = `mount -t tmpfs -o size=${size} tmpfs "${dir}" ${setup ? `&& ${setup} ` : ''}&& exec "$0" "$@"`;
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script];
}

/** Run `command` inside the mount namespace of process `pid` (e.g. to free space on its tmpfs). */
export async function inMountNamespaceOf(pid: number, command: string[]): Promise<void> {
  await run('nsenter', ['-t', String(pid), '-m', ...command]);
}

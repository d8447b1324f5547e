/**
 * Messages for a SQLite store that cannot be opened: the driver says SQLITE_CANTOPEN or Node says
 * ENOENT, the operator needs to hear "read-only file system" or "no permission on /srv/data".
 * Only used on the failure path: it probes the folder to name what stops the write.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Why a folder cannot be written: a read-only mount, this user's permissions, or not a folder. */
type WriteBlocker =
  | { kind: 'read-only file system'; at: string }
  | { kind: 'permission'; at: string }
  | { kind: 'not a folder'; at: string };

/** The nearest existing ancestor of `path` (itself included), or undefined at the root. */
async function nearestExisting(path: string): Promise<string | undefined> {
  let current = path;
  for (;;) {
    try {
      await stat(current);
      return current;
    } catch {
      const parent = dirname(current);
      if (parent === current) return undefined;
      current = parent;
    }
  }
}

/** What stops this process from creating entries in `folder` (or in its nearest existing ancestor). */
async function writeBlocker(folder: string): Promise<WriteBlocker | undefined> {
  const at = await nearestExisting(folder);
  if (at === undefined) return undefined;
  try {
    if (!(await stat(at)).isDirectory()) return { kind: 'not a folder', at };
    await access(at, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return { kind: 'read-only file system', at };
    if (code === 'EACCES' || code === 'EPERM') return { kind: 'permission', at };
    return undefined;
  }
}

function describe(blocker: WriteBlocker): string {
  switch (blocker.kind) {
    case 'read-only file system':
      return `${blocker.at} is on a read-only file system`;
    case 'permission':
      return `this user (uid ${process.getuid?.() ?? '?'}) may not write in ${blocker.at}`;
    case 'not a folder':
      return `${blocker.at} is a file, not a folder`;
  }
}

/**
 * The hint appended when the store's folder cannot be created. Node's recursive `mkdir` reports
 * ENOENT, not EROFS, under a read-only mount: the hint names the real reason.
 */
export async function folderCreationHint(folder: string): Promise<string> {
  const blocker = await writeBlocker(folder);
  return blocker ? ` (${describe(blocker)})` : '';
}

/** The hint appended when SQLite cannot open or write the file, by SQLite error code. */
export async function openFailureHint(path: string, code: string | undefined): Promise<string> {
  if (code === 'SQLITE_NOTADB') return ' (the file is not a SQLite database)';
  if (code !== 'SQLITE_READONLY' && code !== 'SQLITE_CANTOPEN') return '';
  const blocker = await writeBlocker(dirname(path));
  if (blocker?.kind === 'read-only file system') {
    // SQLite in WAL mode must write the file and create -wal/-shm next to it, even to read.
    return ` (${describe(blocker)}; SQLite needs to write the file and create its -wal and -shm files next to it)`;
  }
  if (blocker) return ` (${describe(blocker)})`;
  return code === 'SQLITE_READONLY'
    ? ' (the file or its folder is read-only for this user, or the file system is mounted read-only)'
    : ' (cannot open the file: missing permission, the path is a directory, or a read-only file system)';
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Rows read with the `sqlite3` command-line shell, not through the store: what really is in the
 * file. `-readonly` so the check cannot change what it looks at.
 */
export async function sqliteRows(path: string, sql: string): Promise<string[]> {
  const { stdout } = await run('/usr/bin/sqlite3', ['-readonly', '-separator', '|', path, sql]);
  return stdout.split('\n').filter((l) => l !== '');
}

/** Every record and index row of the store file as text (the conformance suite's rawDump). */
export async function sqliteRawDump(path: string): Promise<string> {
  const kv = await sqliteRows(path, 'SELECT key, value FROM oc_kv ORDER BY key');
  const ix = await sqliteRows(path, 'SELECT ikey, member, score FROM oc_index ORDER BY ikey, score');
  return [...kv, ...ix].join('\n');
}

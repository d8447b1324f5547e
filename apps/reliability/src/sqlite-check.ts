/** Open an SQLite file read-only (the `sqlite3` driver, as `@keyv/sqlite` uses) and check it. */
import sqlite3 from 'sqlite3';

/** What `PRAGMA integrity_check` said, and the journal mode the file is in. */
export interface IntegrityReport {
  /** `['ok']` for a sound file; otherwise SQLite's list of problems. */
  integrity: string[];
  journalMode: string;
  /** Rows of the store's key/value table (`oc_kv`), when it exists. */
  kvRows: number | undefined;
}

function all(db: sqlite3.Database, sql: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    db.all(sql, (error: Error | null, rows: Record<string, unknown>[]) =>
      error ? reject(error) : resolve(rows),
    );
  });
}

/** Run `PRAGMA integrity_check` on `path`, opened read-only. */
export async function checkSqliteFile(path: string): Promise<IntegrityReport> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(path, sqlite3.OPEN_READONLY, (error) =>
      error ? reject(error) : resolve(handle),
    );
  });
  try {
    const integrity = (await all(db, 'PRAGMA integrity_check')).map((row) => String(Object.values(row)[0]));
    const journalMode = String(Object.values((await all(db, 'PRAGMA journal_mode'))[0] ?? {})[0]);
    const tables = await all(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'oc_kv'");
    const kvRows =
      tables.length > 0 ? Number((await all(db, 'SELECT count(*) AS n FROM oc_kv'))[0]?.n ?? 0) : undefined;
    return { integrity, journalMode, kvRows };
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

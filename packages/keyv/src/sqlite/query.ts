/** A result row of `@keyv/sqlite`'s `query`. */
export type Row = Record<string, unknown>;

/** `@keyv/sqlite`'s `query`: one statement and its parameters, resolving the rows. */
export type Query = (sql: string, ...params: unknown[]) => Promise<Row[]>;

/** SQLite's "another connection holds the lock" errors. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

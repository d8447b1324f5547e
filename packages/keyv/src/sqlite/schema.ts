/**
 * SQL of the SQLite store. Three tables per store (names from `tablePrefix`, default `oc`):
 *
 * - `<p>_kv(key PRIMARY KEY, value TEXT)`: created and written by `@keyv/sqlite`; `value` is Keyv's
 *   JSON envelope `{"value":…,"expires":<epoch ms>}`. An expression index on
 *   `json_extract(value, '$.expires')` keeps `sweep` an index range scan instead of a table scan.
 * - `<p>_index(ikey, member, score, PRIMARY KEY(ikey, member)) WITHOUT ROWID`: the sorted sets of the
 *   contract (`score` = member expiry, epoch ms), indexed by `(ikey, score)` for ranges and caps and
 *   by `score` for the sweep.
 * - `<p>_meta(k PRIMARY KEY, v)`: schema version; writing it at open proves the file is writable.
 */
export interface SqliteSql {
  kvTable: string;
  schema: string[];
  probeWrite: string;
  add: string;
  take: string;
  deleteMany: string;
  entriesFirst: string;
  entriesNext: string;
  sweepRecords: string;
  sweepIndexes: string;
  changes: string;
  indexUpsert: string;
  indexUpsertGreater: string;
  indexDropDead: string;
  indexEvict: string;
  indexRemove: string;
  indexRange: string;
  indexCount: string;
  indexDelete: string;
  upsertRecord: string;
  /** Batch forms: one statement for many rows, given as a JSON array of row arrays. */
  upsertRecordsJson: string;
  indexUpsertJson: string;
  indexUpsertGreaterJson: string;
  releaseLock: string;
}

/** Batch size of one sweep DELETE: short write locks, so other processes never wait long. */
export const SWEEP_BATCH = 1000;
/** Rows per bulk (`writeBatch`) statement: a JSON array SQLite parses in a few MB of memory. */
export const BULK_ROWS_PER_STATEMENT = 2000;
/** Rows per `entries` page. */
export const ENTRIES_PAGE = 500;

const EXPIRES = `json_extract(value, '$.expires')`;

/** All statements for tables named `<prefix>_kv`, `<prefix>_index`, `<prefix>_meta`. */
export function sqliteSql(tablePrefix: string): SqliteSql {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(tablePrefix)) {
    throw new TypeError('tablePrefix must be a letter followed by letters, digits or _ (max 41 chars)');
  }
  const kv = `${tablePrefix}_kv`;
  const ix = `${tablePrefix}_index`;
  const meta = `${tablePrefix}_meta`;
  return {
    kvTable: kv,
    schema: [
      `CREATE TABLE IF NOT EXISTS ${kv}(key VARCHAR(255) PRIMARY KEY, value TEXT)`,
      `CREATE INDEX IF NOT EXISTS ${kv}_expires ON ${kv}(${EXPIRES})`,
      `CREATE TABLE IF NOT EXISTS ${ix}(ikey TEXT NOT NULL, member TEXT NOT NULL, score INTEGER NOT NULL, PRIMARY KEY(ikey, member)) WITHOUT ROWID`,
      `CREATE INDEX IF NOT EXISTS ${ix}_by_score ON ${ix}(ikey, score)`,
      `CREATE INDEX IF NOT EXISTS ${ix}_expiry ON ${ix}(score)`,
      `CREATE TABLE IF NOT EXISTS ${meta}(k TEXT PRIMARY KEY, v TEXT)`,
    ],
    probeWrite: `INSERT INTO ${meta}(k, v) VALUES('schema', '1') ON CONFLICT(k) DO UPDATE SET v = excluded.v`,
    // Insert, or replace only a row whose envelope has expired: one statement, so atomic across
    // processes. RETURNING yields a row only when this call wrote.
    add: `INSERT INTO ${kv}(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE json_extract(${kv}.value, '$.expires') <= ?3 RETURNING key`,
    take: `DELETE FROM ${kv} WHERE key = ? RETURNING value`,
    deleteMany: `DELETE FROM ${kv} WHERE key IN (SELECT value FROM json_each(?)) RETURNING ${EXPIRES} AS expires`,
    entriesFirst: `SELECT key, value FROM ${kv} WHERE key >= ? ORDER BY key LIMIT ${ENTRIES_PAGE}`,
    entriesNext: `SELECT key, value FROM ${kv} WHERE key > ? ORDER BY key LIMIT ${ENTRIES_PAGE}`,
    sweepRecords: `DELETE FROM ${kv} WHERE key IN (SELECT key FROM ${kv} WHERE ${EXPIRES} <= ? LIMIT ${SWEEP_BATCH})`,
    // WITHOUT ROWID table: batch on the primary key (row values need SQLite >= 3.15).
    sweepIndexes: `DELETE FROM ${ix} WHERE (ikey, member) IN (SELECT ikey, member FROM ${ix} WHERE score <= ? LIMIT ${SWEEP_BATCH})`,
    changes: 'SELECT changes() AS n',
    indexUpsert: `INSERT INTO ${ix}(ikey, member, score) VALUES(?, ?, ?) ON CONFLICT(ikey, member) DO UPDATE SET score = excluded.score`,
    // Bulk writes (migrations): a whole batch per statement instead of one driver round trip per
    // row. `WHERE true` is SQLite's required disambiguation for an upsert over a SELECT.
    upsertRecordsJson: `INSERT INTO ${kv}(key, value) SELECT value ->> 0, value ->> 1 FROM json_each(?) WHERE true ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    indexUpsertJson: `INSERT INTO ${ix}(ikey, member, score) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true ON CONFLICT(ikey, member) DO UPDATE SET score = excluded.score`,
    indexUpsertGreaterJson: `INSERT INTO ${ix}(ikey, member, score) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true ON CONFLICT(ikey, member) DO UPDATE SET score = max(score, excluded.score)`,
    // keepGreater (Redis ZADD GT): an existing member's score only ever rises.
    indexUpsertGreater: `INSERT INTO ${ix}(ikey, member, score) VALUES(?, ?, ?) ON CONFLICT(ikey, member) DO UPDATE SET score = max(score, excluded.score)`,
    indexDropDead: `DELETE FROM ${ix} WHERE ikey = ? AND score <= ?`,
    // Lowest scores first; the member just added goes last so it is only evicted when cap is 0.
    indexEvict: `DELETE FROM ${ix} WHERE ikey = ?1 AND member IN (SELECT member FROM ${ix} WHERE ikey = ?1 ORDER BY (member = ?2) ASC, score ASC, member ASC LIMIT max(0, (SELECT count(*) FROM ${ix} WHERE ikey = ?1) - ?3)) RETURNING member, score`,
    indexRemove: `DELETE FROM ${ix} WHERE ikey = ? AND member IN (SELECT value FROM json_each(?))`,
    indexRange: `SELECT member, score FROM ${ix} WHERE ikey = ? AND score > ? ORDER BY score ASC, member ASC`,
    indexCount: `SELECT count(*) AS n FROM ${ix} WHERE ikey = ? AND score > ?`,
    indexDelete: `DELETE FROM ${ix} WHERE ikey = ?`,
    upsertRecord: `INSERT INTO ${kv}(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    // Compare-and-delete on the exact stored text: only the holder (who knows it) releases.
    releaseLock: `DELETE FROM ${kv} WHERE key = ? AND value = ?`,
  };
}

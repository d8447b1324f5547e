/**
 * SQL of the SQLite store. Four tables per store, named by a prefix (the store uses `oc`):
 *
 * - `<p>_kv(key PRIMARY KEY, value TEXT)`: created and written by `@keyv/sqlite`; `value` is Keyv's
 *   JSON envelope `{"value":…,"expires":<epoch ms>}`. An expression index on
 *   `json_extract(value, '$.expires')` keeps `sweep` an index range scan instead of a table scan.
 * - `<p>_index(ikey, member, score, PRIMARY KEY(ikey, member)) WITHOUT ROWID`: the sorted sets of the
 *   contract (`score` = member expiry, epoch ms), indexed by `(ikey, score)` for ranges and caps and
 *   by `score` for the sweep.
 * - `<p>_index_size(ikey PRIMARY KEY, n)`: member counts of the capped sets only (registered by the
 *   first capped `indexAdd` of a set), kept exact by two triggers on `<p>_index`. A cap check reads
 *   one row instead of counting the whole set (`count(*)` walks every member: a 1M-member set made
 *   each capped add read ~100 MB of index pages).
 * - `<p>_meta(k PRIMARY KEY, v)`: schema version; writing it at open proves the file is writable.
 *
 * Files created before `<p>_index_size` existed get it (with its triggers) at open, in the same
 * transaction as the rest of the schema: `IF NOT EXISTS` everywhere, so opening is idempotent and
 * several processes may open the same file at once.
 */
export interface SqliteSql {
  kvTable: string;
  /** Persistent schema, run in one transaction at open. */
  schema: string[];
  /** Per-connection objects (the bulk-write view and its trigger), created by the first `bulkWrite`. */
  connectionSchema: string[];
  probeWrite: string;
  /** Insert a record, or replace one that has expired; yields a row only when it wrote (`lock`). */
  insertIfAbsent: string;
  /** Insert or overwrite one record (a commit's `set`). */
  put: string;
  /** Key and stored text of each of a JSON array of keys that has a row. */
  readMany: string;
  /** A record and the grant its `value.g` names (see `readWithGrant` below). */
  readWithGrant: string;
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
  /** First page of `indexPage`: ?1 ikey, ?2 now, ?3 limit. */
  indexPageFirst: string;
  /** Next page of `indexPage`, strictly after the cursor: ?1 ikey, ?2 now, ?3 limit, ?4 score, ?5 member. */
  indexPageAfter: string;
  indexCount: string;
  indexDelete: string;
  indexTrackSize: string;
  /** A whole `writeBatch` as one statement: a JSON array of {@link BulkRow}s. */
  bulkWrite: string;
  /** Staged bulk load (see `bulk-stage.ts`). */
  staging: StagingSql;
  releaseLock: string;
}

/** Statements of a staged bulk load. */
export interface StagingSql {
  /** One row when neither the record table nor the index table holds anything. */
  targetEmpty: string;
  /** The connection's TEMP heap of staged {@link BulkRow}s (rowid = arrival order). */
  create: string;
  /** Append a JSON array of {@link BulkRow}s to the heap. */
  append: string;
  /** Indexes dropped by a load's first merge, rebuilt (`rebuild`) by its last. */
  dropIndexes: string[];
  rebuild: string[];
  /** Records in key order, a key's rows in arrival order (the last one wins). */
  mergeRecords: string;
  /**
   * Index rows, one upsert per member with the score its staged adds give in arrival order: first
   * the members with a plain add among them, then those with only keepGreater adds.
   */
  mergeIndexes: string[];
  clear: string;
  drop: string;
}

/** Batch size of one sweep DELETE: short write locks, so other processes never wait long. */
export const SWEEP_BATCH = 1000;
/**
 * One row of {@link SqliteSql.bulkWrite}: `[BULK_SET, key, envelope text, null]`,
 * `[BULK_INDEX, ikey, member, score]` or `[BULK_INDEX_GREATER, ikey, member, score]`.
 */
export type BulkRow = [number, string, string, number | null];
export const BULK_SET = 0;
export const BULK_INDEX = 1;
export const BULK_INDEX_GREATER = 2;
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
  const size = `${tablePrefix}_index_size`;
  const bulk = `${tablePrefix}_bulk_in`;
  const stage = `temp.${tablePrefix}_bulk_stage`;
  // The columns of a JSON array of BulkRows, for an INSERT … SELECT.
  const bulkRowsIn = `SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`;
  // Secondary indexes: only reads and sweeps need them, so a staged bulk load drops them at its
  // first merge and rebuilds them (one sort each) at its last, instead of updating them row by row.
  const secondary = [
    { name: `${kv}_expires`, create: `CREATE INDEX IF NOT EXISTS ${kv}_expires ON ${kv}(${EXPIRES})` },
    { name: `${ix}_by_score`, create: `CREATE INDEX IF NOT EXISTS ${ix}_by_score ON ${ix}(ikey, score)` },
    { name: `${ix}_expiry`, create: `CREATE INDEX IF NOT EXISTS ${ix}_expiry ON ${ix}(score)` },
  ];
  return {
    kvTable: kv,
    schema: [
      `CREATE TABLE IF NOT EXISTS ${kv}(key VARCHAR(255) PRIMARY KEY, value TEXT)`,
      `CREATE TABLE IF NOT EXISTS ${ix}(ikey TEXT NOT NULL, member TEXT NOT NULL, score INTEGER NOT NULL, PRIMARY KEY(ikey, member)) WITHOUT ROWID`,
      ...secondary.map((index) => index.create),
      `CREATE TABLE IF NOT EXISTS ${meta}(k TEXT PRIMARY KEY, v TEXT)`,
      `CREATE TABLE IF NOT EXISTS ${size}(ikey TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID`,
      // An UPDATE of a set that is not tracked matches no row: one lookup in a small table.
      `CREATE TRIGGER IF NOT EXISTS ${size}_add AFTER INSERT ON ${ix} BEGIN UPDATE ${size} SET n = n + 1 WHERE ikey = new.ikey; END`,
      `CREATE TRIGGER IF NOT EXISTS ${size}_remove AFTER DELETE ON ${ix} BEGIN UPDATE ${size} SET n = n - 1 WHERE ikey = old.ikey; END`,
    ],
    // Bulk writes: rows are inserted into a TEMP view whose INSTEAD OF trigger upserts each row
    // into its table, so a whole batch is ONE statement run outside BEGIN…COMMIT. One statement
    // is atomic on its own, and SQLite only keeps a statement journal (a copy of every page the
    // statement touches, written to a temp file) for statements inside an explicit transaction:
    // that copy was a third of the time of a large import. Row order is kept (a key set twice in
    // one batch ends with its last value).
    connectionSchema: [
      `CREATE TEMP VIEW IF NOT EXISTS ${bulk}(t, a, b, c) AS SELECT NULL, NULL, NULL, NULL WHERE 0`,
      `CREATE TEMP TRIGGER IF NOT EXISTS ${bulk}_write INSTEAD OF INSERT ON ${bulk} BEGIN
        INSERT INTO ${kv}(key, value) SELECT new.a, new.b WHERE new.t = ${BULK_SET}
          ON CONFLICT(key) DO UPDATE SET value = excluded.value;
        INSERT INTO ${ix}(ikey, member, score) SELECT new.a, new.b, new.c WHERE new.t = ${BULK_INDEX}
          ON CONFLICT(ikey, member) DO UPDATE SET score = excluded.score;
        INSERT INTO ${ix}(ikey, member, score) SELECT new.a, new.b, new.c WHERE new.t = ${BULK_INDEX_GREATER}
          ON CONFLICT(ikey, member) DO UPDATE SET score = max(score, excluded.score);
      END`,
    ],
    probeWrite: `INSERT INTO ${meta}(k, v) VALUES('schema', '1') ON CONFLICT(k) DO UPDATE SET v = excluded.v`,
    // Insert, or replace only a row whose envelope has expired: one statement, so atomic across
    // processes. RETURNING yields a row only when this call wrote.
    insertIfAbsent: `INSERT INTO ${kv}(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE json_extract(${kv}.value, '$.expires') <= ?3 RETURNING key`,
    put: `INSERT INTO ${kv}(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
    readMany: `SELECT key, value FROM ${kv} WHERE key IN (SELECT value FROM json_each(?))`,
    // A record and the grant its envelope's `value.g` names (?2 is the grant key prefix): one
    // statement. The caller checks the grant row's key against the id it parses itself.
    readWithGrant: `SELECT key, value FROM ${kv} WHERE key = ?1
      UNION ALL SELECT key, value FROM ${kv} WHERE key = ?2 || (
        SELECT CASE WHEN json_valid(value) THEN value ->> '$.value.g' END FROM ${kv} WHERE key = ?1)`,
    deleteMany: `DELETE FROM ${kv} WHERE key IN (SELECT value FROM json_each(?)) RETURNING ${EXPIRES} AS expires`,
    entriesFirst: `SELECT key, value FROM ${kv} WHERE key >= ? ORDER BY key LIMIT ${ENTRIES_PAGE}`,
    entriesNext: `SELECT key, value FROM ${kv} WHERE key > ? ORDER BY key LIMIT ${ENTRIES_PAGE}`,
    sweepRecords: `DELETE FROM ${kv} WHERE key IN (SELECT key FROM ${kv} WHERE ${EXPIRES} <= ? LIMIT ${SWEEP_BATCH})`,
    // WITHOUT ROWID table: batch on the primary key (row values need SQLite >= 3.15).
    sweepIndexes: `DELETE FROM ${ix} WHERE (ikey, member) IN (SELECT ikey, member FROM ${ix} WHERE score <= ? LIMIT ${SWEEP_BATCH})`,
    changes: 'SELECT changes() AS n',
    indexUpsert: `INSERT INTO ${ix}(ikey, member, score) VALUES(?, ?, ?) ON CONFLICT(ikey, member) DO UPDATE SET score = excluded.score`,
    bulkWrite: `INSERT INTO ${bulk}(t, a, b, c) ${bulkRowsIn}`,
    staging: {
      targetEmpty: `SELECT 1 AS empty WHERE NOT EXISTS (SELECT 1 FROM ${kv}) AND NOT EXISTS (SELECT 1 FROM ${ix})`,
      create: `CREATE TEMP TABLE IF NOT EXISTS ${tablePrefix}_bulk_stage(t INTEGER NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, c INTEGER)`,
      append: `INSERT INTO ${stage}(t, a, b, c) ${bulkRowsIn}`,
      dropIndexes: secondary.map((index) => `DROP INDEX IF EXISTS ${index.name}`),
      rebuild: secondary.map((index) => index.create),
      mergeRecords: `INSERT INTO ${kv}(key, value) SELECT a, b FROM ${stage} WHERE t = ${BULK_SET} ORDER BY a, rowid
        ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      // A member's staged adds fold, in arrival order, to the max of its last plain add and the
      // keepGreater adds after it (whatever the table held), or with no plain add to the max of the
      // table's score and its keepGreater adds. One sort and plain upserts: running each row
      // through the bulk view's trigger cost twice as much.
      mergeIndexes: [
        `INSERT INTO ${ix}(ikey, member, score)
          SELECT a, b, m FROM (
            SELECT a, b, t, max(c) OVER newest AS m, count(iif(t = ${BULK_INDEX}, 1, NULL)) OVER newest AS plains
            FROM ${stage} WHERE t <> ${BULK_SET}
            WINDOW newest AS (PARTITION BY a, b ORDER BY rowid DESC ROWS UNBOUNDED PRECEDING)
          ) WHERE t = ${BULK_INDEX} AND plains = 1
          ON CONFLICT(ikey, member) DO UPDATE SET score = excluded.score`,
        `INSERT INTO ${ix}(ikey, member, score)
          SELECT a, b, max(c) FROM ${stage}
          WHERE t <> ${BULK_SET} AND a IN (SELECT a FROM ${stage} WHERE t = ${BULK_INDEX_GREATER})
          GROUP BY a, b HAVING count(iif(t = ${BULK_INDEX}, 1, NULL)) = 0
          ON CONFLICT(ikey, member) DO UPDATE SET score = max(score, excluded.score)`,
      ],
      clear: `DELETE FROM ${stage}`,
      drop: `DROP TABLE IF EXISTS ${stage}`,
    },
    // keepGreater (Redis ZADD GT): an existing member's score only ever rises.
    indexUpsertGreater: `INSERT INTO ${ix}(ikey, member, score) VALUES(?, ?, ?) ON CONFLICT(ikey, member) DO UPDATE SET score = max(score, excluded.score)`,
    indexDropDead: `DELETE FROM ${ix} WHERE ikey = ? AND score <= ?`,
    // Start counting a capped set (once per set and file; the scalar subquery only runs when the
    // set is not tracked yet). Run before the upsert: the trigger then counts the new member.
    indexTrackSize: `INSERT INTO ${size}(ikey, n) SELECT ?1, (SELECT count(*) FROM ${ix} WHERE ikey = ?1) WHERE NOT EXISTS (SELECT 1 FROM ${size} WHERE ikey = ?1)`,
    // Lowest scores first; the member just added goes last so it is only evicted when cap is 0.
    indexEvict: `DELETE FROM ${ix} WHERE ikey = ?1 AND member IN (SELECT member FROM ${ix} WHERE ikey = ?1 ORDER BY (member = ?2) ASC, score ASC, member ASC LIMIT max(0, (SELECT n FROM ${size} WHERE ikey = ?1) - ?3)) RETURNING member, score`,
    indexRemove: `DELETE FROM ${ix} WHERE ikey = ? AND member IN (SELECT value FROM json_each(?))`,
    indexRange: `SELECT member, score FROM ${ix} WHERE ikey = ? AND score > ? ORDER BY score ASC, member ASC`,
    // Pages walk the (ikey, score) index backwards (it carries the primary key's member after the
    // score): no sort, and a keyset cursor seeks into it instead of counting an offset.
    indexPageFirst: `SELECT member, score FROM ${ix} WHERE ikey = ?1 AND score > ?2 ORDER BY score DESC, member DESC LIMIT ?3`,
    indexPageAfter: `SELECT member, score FROM ${ix} WHERE ikey = ?1 AND score > ?2 AND (score, member) < (?4, ?5) ORDER BY score DESC, member DESC LIMIT ?3`,
    indexCount: `SELECT count(*) AS n FROM ${ix} WHERE ikey = ? AND score > ?`,
    indexDelete: `DELETE FROM ${ix} WHERE ikey = ?`,
    // Compare-and-delete on the exact stored text: only the holder (who knows it) releases.
    releaseLock: `DELETE FROM ${kv} WHERE key = ? AND value = ?`,
  };
}

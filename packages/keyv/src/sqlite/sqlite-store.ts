import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import KeyvSqlite from '@keyv/sqlite';
import {
  type BatchOp,
  type BulkLoadInfo,
  type CacheStore,
  type IndexAddOptions,
  type IndexEntry,
  type StoreEntry,
  type StoreLock,
  StoreUnavailableError,
} from '@oauth-cache/core';
import Keyv from 'keyv';
import { EnvelopeCodec, isLive } from '../envelope.js';
import { assertTtl, storeUnavailable } from '../errors.js';
import type { ExpiringValue, ExpiryAwareReads } from '../expiring.js';
import { ConnectionGate } from '../gate.js';
import { bulkRows } from './bulk-rows.js';
import { BulkStage } from './bulk-stage.js';
import { folderCreationHint, openFailureHint } from './open-errors.js';
import {
  BULK_INDEX,
  BULK_INDEX_GREATER,
  type BulkRow,
  type SqliteSql,
  SWEEP_BATCH,
  sqliteSql,
} from './schema.js';

/**
 * `wal_autocheckpoint` (pages) while a `writeBatch` commits. Random token digests make every
 * batch dirty pages all over the B-trees; checkpointing after each batch (the default threshold,
 * 1000 pages, is below one batch) copies each page back to the database file once per batch. A
 * larger write-ahead log lets one checkpoint copy a page that several batches changed once. The
 * log file keeps its size (up to 256 MiB with 4 KiB pages) until the next checkpoint resets it.
 */
const BULK_WAL_AUTOCHECKPOINT = 65_536;

/** Pause between two tries to switch a file held by another connection to WAL. */
const WAL_RETRY_MS = 25;

/** Page cache of the connection (KiB): see `open`. */
const PAGE_CACHE_KIB = 49_152;
/**
 * Page cache (KiB) while a staged bulk load runs. Its merges insert in key order and rebuild
 * indexes by sorting, which need few cached pages; SQLite sizes each sort's memory by the cache
 * size, so the 48 MiB cache plus a 48 MiB sort put a 1M-token import at ~420 MB of RSS.
 */
const BULK_PAGE_CACHE_KIB = 16_384;

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Database file (absolute, or relative to the working directory), or `:memory:`. Its folder is created. */
  path: string;
  /** How long a statement waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Table name prefix: tables `<p>_kv`, `<p>_index`, `<p>_meta`. Default `oc`. */
  tablePrefix?: string;
  /** How the store is named in error messages (the store URL). Default `sqlite://<path>`. */
  label?: string;
}

type Row = Record<string, unknown>;
type Query = (sql: string, ...params: unknown[]) => Promise<Row[]>;

/**
 * {@link CacheStore} on a SQLite file through `@keyv/sqlite`, safe for several processes sharing
 * the file.
 *
 * - Plain writes go through a `Keyv` instance (Keyv's envelope `{"value","expires"}`, no key
 *   prefix: the row key IS the cache key, e.g. `oc:at:<digest>`); reads go through the same
 *   adapter and Keyv's deserializer, with the expiry checked here (Keyv's own `get` deletes expired
 *   rows in a second statement, which could delete a row another process has just re-added).
 * - Atomic operations are single statements (`DELETE … RETURNING`, upsert `… WHERE expired`) or
 *   `BEGIN IMMEDIATE` transactions (index add + cap), serialized per connection by a
 *   {@link ConnectionGate}, and across processes by SQLite's write lock (WAL + busy timeout).
 * - Every driver failure becomes {@link StoreUnavailableError}; a missing row is the only `undefined`.
 */
export class SqliteStore implements CacheStore, ExpiryAwareReads {
  readonly kind = 'sqlite';
  /** Database file path (or `:memory:`). */
  readonly path: string;
  readonly #label: string;
  readonly #keyv: Keyv;
  readonly #adapter: KeyvSqlite;
  readonly #query: Query;
  readonly #sql: SqliteSql;
  readonly #codec: EnvelopeCodec;
  readonly #gate = new ConnectionGate();
  #closed = false;
  #lastError: unknown;
  /** The connection's `synchronous` and `wal_autocheckpoint`, restored after each bulk write. */
  #durability = { synchronous: 2, walAutocheckpoint: 1000 };
  readonly #busyTimeoutMs: number;
  /** Set while a staged {@link bulkLoad} runs: `writeBatch` appends to the stage. */
  #stage: BulkStage | undefined;

  private constructor(
    path: string,
    label: string,
    adapter: KeyvSqlite,
    keyv: Keyv,
    sql: SqliteSql,
    busyTimeoutMs: number,
  ) {
    this.path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#label = label;
    this.#adapter = adapter;
    this.#keyv = keyv;
    this.#sql = sql;
    this.#query = adapter.query as Query;
    this.#codec = new EnvelopeCodec(keyv);
    // Keyv swallows some failures and reports them as events; the throws below carry them too.
    keyv.on('error', (error: unknown) => {
      this.#lastError = error;
    });
  }

  /**
   * Open (creating folder, file and tables), switch to WAL, and prove the file is writable. Throws
   * {@link StoreUnavailableError} naming the file on any failure: unwritable folder, read-only file,
   * not a database, locked beyond the busy timeout.
   */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const path = options.path;
    const label = options.label ?? `sqlite://${path}`;
    const sql = sqliteSql(options.tablePrefix ?? 'oc');
    const busyTimeout = options.busyTimeoutMs ?? 5000;
    if (path !== ':memory:') {
      try {
        await mkdir(dirname(path), { recursive: true });
      } catch (error) {
        const failure = storeUnavailable(label, `creating the folder ${dirname(path)}`, error);
        const hint = await folderCreationHint(dirname(path));
        throw hint ? new StoreUnavailableError(`${failure.message}${hint}`, { cause: error }) : failure;
      }
    }
    const adapter = new KeyvSqlite({ uri: `sqlite://${path}`, table: sql.kvTable, busyTimeout });
    const keyv = new Keyv({ store: adapter, namespace: '', useKeyPrefix: false, throwOnErrors: true });
    const store = new SqliteStore(path, label, adapter, keyv, sql, busyTimeout);
    try {
      // Issued synchronously after construction: the adapter's connect promise gets a handler at once.
      await store.#enterWal();
      // Token digests are random, so inserts land all over the B-trees: a 48 MiB page cache keeps
      // them in memory instead of re-reading pages through syscalls (SQLite's default is 2 MiB).
      // 64 MiB was no faster for a large import and put a 1M-entry CLI run over 300 MB of RSS.
      await store.#query(`PRAGMA cache_size=-${PAGE_CACHE_KIB}`);
      store.#durability = {
        synchronous: Number((await store.#query('PRAGMA synchronous'))[0]?.synchronous ?? 2),
        walAutocheckpoint: Number(
          (await store.#query('PRAGMA wal_autocheckpoint'))[0]?.wal_autocheckpoint ?? 1000,
        ),
      };
      // One transaction: a file created by an older version gets the new tables and triggers
      // whole or not at all, and a concurrent opener waits (busy timeout) instead of interleaving.
      await store.#query('BEGIN IMMEDIATE');
      try {
        for (const statement of sql.schema) await store.#query(statement);
        await store.#query(sql.probeWrite);
        await store.#query('COMMIT');
      } catch (error) {
        await store.#query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      for (const statement of sql.connectionSchema) await store.#query(statement);
    } catch (error) {
      await adapter.close().catch(() => undefined);
      const hint = await openFailureHint(path, (error as { code?: string }).code);
      throw new StoreUnavailableError(
        `${label}: cannot open the SQLite database ${path}: ${(error as Error).message ?? String(error)}${hint}`,
        { cause: error },
      );
    }
    return store;
  }

  /** The last error Keyv reported as an event (diagnostics only). */
  get lastError(): unknown {
    return this.#lastError;
  }

  async get(key: string): Promise<unknown> {
    const raw = await this.#shared('get', () => this.#adapter.get<string>(key));
    return this.#codec.liveValue(raw, Date.now());
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const rows = await this.#shared('getMany', () => this.#adapter.getMany<string>(keys));
    const now = Date.now();
    return rows.map((raw) => this.#codec.liveValue(raw, now));
  }

  /** `get` with the record's expiry (used by the L1 so it never outlives the record). */
  async getWithExpiry(key: string): Promise<ExpiringValue | undefined> {
    const raw = await this.#shared('get', () => this.#adapter.get<string>(key));
    return this.#codec.live(raw, Date.now());
  }

  /** `getMany` with each record's expiry. */
  async getManyWithExpiry(keys: string[]): Promise<Array<ExpiringValue | undefined>> {
    if (keys.length === 0) return [];
    const rows = await this.#shared('getMany', () => this.#adapter.getMany<string>(keys));
    const now = Date.now();
    return rows.map((raw) => this.#codec.live(raw, now));
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    if (ttlMs <= 0) {
      // Keyv reads a TTL of 0 as "never expires": an already-expired write is a delete.
      await this.delete(key);
      return;
    }
    const written = await this.#shared('set', () => this.#keyv.set(key, value, Math.ceil(ttlMs)));
    if (written !== true)
      throw storeUnavailable(this.#label, 'set', this.#lastError ?? 'write not acknowledged');
  }

  async add(key: string, value: unknown, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const now = Date.now();
    if (ttlMs <= 0) return (await this.get(key)) === undefined;
    const text = await this.#codec.encode(value, now + Math.ceil(ttlMs));
    const rows = await this.#shared('add', () => this.#query(this.#sql.add, key, text, now));
    return rows.length === 1;
  }

  async take(key: string): Promise<unknown> {
    const rows = await this.#shared('take', () => this.#query(this.#sql.take, key));
    return this.#codec.liveValue(rows[0]?.value, Date.now());
  }

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const rows = await this.#shared('delete', () => this.#query(this.#sql.deleteMany, JSON.stringify(keys)));
    const now = Date.now();
    return rows.filter((r) => typeof r.expires !== 'number' || r.expires > now).length;
  }

  async indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    const stage = this.#stage;
    if (stage !== undefined && options.cap !== undefined) {
      // During a staged bulk load the tables lack the staged members, so a cap cannot be judged;
      // and written now, the member would point at a record that a kill could still lose. Staged
      // with the batches instead; the next capped add after the load evicts what is over.
      const row: BulkRow = [options.keepGreater ? BULK_INDEX_GREATER : BULK_INDEX, key, member, score];
      await this.#exclusive('indexAdd', () => this.#query(this.#sql.staging.append, JSON.stringify([row])));
      stage.appended(1);
      return [];
    }
    return this.#transaction('indexAdd', async (q) => {
      if (options.cap !== undefined) await q(this.#sql.indexTrackSize, key);
      await q(options.keepGreater ? this.#sql.indexUpsertGreater : this.#sql.indexUpsert, key, member, score);
      await q(this.#sql.indexDropDead, key, options.now);
      if (options.cap === undefined) return [];
      const evicted = await q(this.#sql.indexEvict, key, member, Math.max(0, options.cap));
      return evicted
        .map((r) => ({ member: String(r.member), score: Number(r.score) }))
        .sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : 1))
        .map((e) => e.member);
    });
  }

  async indexRemove(key: string, members: string[]): Promise<void> {
    if (members.length === 0) return;
    await this.#shared('indexRemove', () => this.#query(this.#sql.indexRemove, key, JSON.stringify(members)));
  }

  async indexRange(key: string, now: number): Promise<IndexEntry[]> {
    const rows = await this.#shared('indexRange', () => this.#query(this.#sql.indexRange, key, now));
    return rows.map((r) => ({ member: String(r.member), score: Number(r.score) }));
  }

  async indexCount(key: string, now: number): Promise<number> {
    const rows = await this.#shared('indexCount', () => this.#query(this.#sql.indexCount, key, now));
    return Number(rows[0]?.n ?? 0);
  }

  async indexDelete(key: string): Promise<void> {
    await this.#shared('indexDelete', () => this.#query(this.#sql.indexDelete, key));
  }

  async *entries(prefix: string): AsyncIterable<StoreEntry> {
    // Keyset pagination over the primary key: keys sharing a prefix are contiguous in key order.
    let cursor = prefix;
    let statement = this.#sql.entriesFirst;
    for (;;) {
      const page = await this.#shared('entries', () => this.#query(statement, cursor));
      if (page.length === 0) return;
      const now = Date.now();
      for (const row of page) {
        const key = String(row.key);
        if (!key.startsWith(prefix)) return;
        const envelope = this.#codec.decode(row.value);
        if (envelope && isLive(envelope, now)) {
          yield envelope.expires === undefined
            ? { key, value: envelope.value }
            : { key, value: envelope.value, expiresAt: envelope.expires };
        }
        cursor = key;
      }
      statement = this.#sql.entriesNext;
    }
  }

  /**
   * Delete expired records and dead index members, in batches of {@link SWEEP_BATCH} rows so the
   * write lock is held briefly (other processes keep writing during a large sweep). Uses the
   * expression index on the envelope's `expires`: cost follows what is expired, not the table size.
   */
  async sweep(now: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const n = await this.#exclusive('sweep', async () => {
        await this.#query(this.#sql.sweepRecords, now);
        return Number((await this.#query(this.#sql.changes))[0]?.n ?? 0);
      });
      removed += n;
      if (n < SWEEP_BATCH) break;
    }
    for (;;) {
      const n = await this.#exclusive('sweep', async () => {
        await this.#query(this.#sql.sweepIndexes, now);
        return Number((await this.#query(this.#sql.changes))[0]?.n ?? 0);
      });
      if (n < SWEEP_BATCH) break;
    }
    return removed;
  }

  /** Cross-process mutex: insert-if-absent-or-expired, released by compare-and-delete. */
  async lock(name: string, ttlMs: number): Promise<StoreLock | null> {
    assertTtl(ttlMs);
    const fencingToken = randomBytes(18).toString('base64url');
    const now = Date.now();
    const text = await this.#codec.encode(fencingToken, now + Math.max(1, Math.ceil(ttlMs)));
    const rows = await this.#shared('lock', () => this.#query(this.#sql.add, name, text, now));
    if (rows.length !== 1) return null;
    return {
      fencingToken,
      release: async () => {
        // Best effort: if the database cannot be reached the lock still expires after ttlMs, and a
        // failing release must not turn the guarded work's success into an error.
        await this.#shared('unlock', () => this.#query(this.#sql.releaseLock, name, text)).catch(
          () => undefined,
        );
      },
    };
  }

  /**
   * Bulk write (import): the batch lands whole or not at all, and is visible once this resolves
   * (inside a staged {@link bulkLoad}: once its next merge commits). Index adds here carry no cap.
   *
   * The whole batch is ONE statement (a JSON array into a TEMP view whose trigger upserts each
   * row, see `schema.ts`): atomic by itself, and outside BEGIN…COMMIT SQLite keeps no statement
   * journal. It commits with `synchronous=NORMAL` and a larger checkpoint threshold (restored
   * afterwards): in WAL mode that is durable against a crash of the process; a power loss can
   * drop the latest bulk batches until the next checkpoint or `synchronous=FULL` commit (the
   * next ordinary write, or SQLite's checkpoint when the last connection closes), after which
   * everything is on disk.
   */
  async writeBatch(ops: BatchOp[]): Promise<void> {
    if (ops.length === 0) return;
    const planned = bulkRows(ops, this.#codec, Date.now());
    // Plain records give their rows synchronously: the batch then queues on the connection before
    // `writeBatch` returns, ahead of anything its caller issues next (core's cap check).
    const rows = Array.isArray(planned) ? planned : await planned;
    if (rows.length === 0) return;
    const json = JSON.stringify(rows);
    await this.#exclusive('writeBatch', async () => {
      const stage = this.#stage;
      if (stage === undefined) {
        await this.#bulkDurability(() => this.#query(this.#sql.bulkWrite, json));
        return;
      }
      await this.#query(this.#sql.staging.append, json);
      stage.appended(rows.length);
      if (stage.due) await this.#mergeStage(stage, { last: false });
    });
  }

  /**
   * Run a bulk import (`run` makes the `writeBatch` calls). On a store whose tables are empty when
   * it starts, batches are staged and merged in key order, with the secondary indexes dropped by
   * the first merge and rebuilt by the last (see `bulk-stage.ts` for why; a 300k-token import
   * spends ~4x less time in SQLite). Between those merges, lookups by key, user or family stay
   * indexed; sweeps and cap checks scan. On a store that already holds data, `run` just runs:
   * batches are written as they come.
   *
   * While staged, a batch is not readable until the next merge, which happens whenever the stage
   * holds three times the rows merged before (so at least a quarter of a killed run's work has
   * landed) and when `run` settles, even by throwing (a failed merge is what then rejects). A
   * merge is one transaction: it lands whole or not at all, and other processes' writes wait for
   * it (their busy timeout may run out on a large one). Capped `indexAdd`s are staged too, with no
   * cap judged. One load at a time per store: a `bulkLoad` called while one runs (nested or not)
   * just runs `run`, its batches joining the running load's stage.
   */
  async bulkLoad<T>(run: (load: BulkLoadInfo) => Promise<T>): Promise<T> {
    if (this.#stage !== undefined) return run({ deferred: true });
    const stage = await this.#exclusive('bulkLoad', async () => {
      if ((await this.#query(this.#sql.staging.targetEmpty)).length === 0) return undefined;
      await this.#query(this.#sql.staging.create);
      await this.#query(this.#sql.staging.clear);
      await this.#query(`PRAGMA cache_size=-${BULK_PAGE_CACHE_KIB}`);
      return new BulkStage(await this.#useRollbackJournal());
    });
    if (stage === undefined) return run({ deferred: false });
    this.#stage = stage;
    let result: T;
    try {
      result = await run({ deferred: true });
    } finally {
      this.#stage = undefined;
      await this.#exclusive('bulkLoad', async () => {
        try {
          if (stage.staged > 0 || stage.indexesDropped) await this.#mergeStage(stage, { last: true });
        } finally {
          await this.#query(this.#sql.staging.drop);
          await this.#query(`PRAGMA cache_size=-${PAGE_CACHE_KIB}`);
          if (stage.rollbackJournal) await this.#backToWal();
        }
      });
    }
    return result;
  }

  /**
   * Merge the stage into the tables in one transaction and empty it. Runs under the gate. The
   * secondary indexes go with the first merge and come back with the last (`last`), in the same
   * transactions: the tables always hold whole merges, and a process killed in between leaves
   * them without those indexes until the next `open`, whose schema step rebuilds them.
   */
  async #mergeStage(stage: BulkStage, { last }: { last: boolean }): Promise<void> {
    const staging = this.#sql.staging;
    const merge = () =>
      this.#immediate(async (q) => {
        if (!stage.indexesDropped) for (const statement of staging.dropIndexes) await q(statement);
        await q(staging.mergeRecords);
        for (const statement of staging.mergeIndexes) await q(statement);
        if (last) for (const statement of staging.rebuild) await q(statement);
      });
    // A rollback journal keeps the connection's own `synchronous` (FULL unless set): a load has a
    // handful of merges, so their syncs cost nothing next to the pages they write.
    await (stage.rollbackJournal ? merge() : this.#bulkDurability(merge));
    await this.#query(staging.clear);
    stage.mergedAll();
  }

  /**
   * Switch the file from WAL to a rollback journal for a staged load, if no other connection has it
   * open (SQLite refuses with SQLITE_BUSY otherwise, and the load keeps WAL). Returns whether it did.
   *
   * Why: in WAL mode a merge writes every page it changes to the log, and the checkpoint that
   * follows copies them all into the file again; the last merge of a 1M-token load wrote ~1.4 GB
   * twice, and its commit alone took 5 s. A rollback journal keeps only the original content of the
   * pages a merge changes, and the pages a load appends to the file have none (1M legacy entries
   * into an empty file: 60.6 s → 52–54 s). A merge stays one transaction either way: a killed
   * process leaves a journal that the next opener rolls back.
   *
   * The cost: while a merge runs, a process opening the file waits for it (busy timeout), where WAL
   * let it read. The load only stages into an empty file, which nothing serves from yet.
   */
  async #useRollbackJournal(): Promise<boolean> {
    if (this.path === ':memory:') return false;
    try {
      const rows = await this.#query('PRAGMA journal_mode=DELETE');
      return (rows[0] as { journal_mode?: string } | undefined)?.journal_mode === 'delete';
    } catch (error) {
      if (isBusy(error)) return false;
      throw error;
    }
  }

  /**
   * Back to WAL after a load that left it. A process that opened the file meanwhile may hold it
   * (SQLITE_BUSY): then it stays as it is until the next open, which switches it to WAL.
   */
  async #backToWal(): Promise<void> {
    try {
      await this.#enterWal();
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
  }

  /**
   * `PRAGMA journal_mode=WAL`, tried again until the busy timeout while SQLITE_BUSY: leaving a
   * rollback journal (a staged load's, see {@link bulkLoad}) needs the file to itself, and SQLite
   * answers at once instead of waiting as it does for a lock.
   */
  async #enterWal(): Promise<void> {
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (;;) {
      try {
        await this.#query('PRAGMA journal_mode=WAL');
        return;
      } catch (error) {
        if (!isBusy(error) || Date.now() >= deadline) throw error;
      }
      await sleep(WAL_RETRY_MS);
    }
  }

  /** Run bulk statements with `synchronous=NORMAL` and a large checkpoint threshold, then restore. */
  async #bulkDurability(body: () => Promise<unknown>): Promise<void> {
    const { synchronous, walAutocheckpoint } = this.#durability;
    // PRAGMA synchronous cannot change inside a transaction: set around it.
    await this.#query('PRAGMA synchronous=NORMAL');
    await this.#query(`PRAGMA wal_autocheckpoint=${BULK_WAL_AUTOCHECKPOINT}`);
    try {
      await body();
    } finally {
      await this.#query(`PRAGMA synchronous=${synchronous}`);
      await this.#query(`PRAGMA wal_autocheckpoint=${walAutocheckpoint}`);
    }
  }

  async ping(): Promise<void> {
    await this.#shared('ping', () => this.#query('SELECT 1 AS ok'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let queued transactions finish first: closing under them would fail them half-way.
    await this.#gate.exclusive(async () => {
      this.#closed = true;
    });
    try {
      await this.#keyv.disconnect();
    } catch (error) {
      throw storeUnavailable(this.#label, 'close', error);
    }
  }

  async #shared<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    this.#assertOpen(operation);
    try {
      return await this.#gate.shared(fn);
    } catch (error) {
      throw storeUnavailable(this.#label, operation, error);
    }
  }

  async #exclusive<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    this.#assertOpen(operation);
    try {
      return await this.#gate.exclusive(fn);
    } catch (error) {
      throw storeUnavailable(this.#label, operation, error);
    }
  }

  /**
   * `BEGIN IMMEDIATE` takes the write lock up front (waiting up to the busy timeout): a deferred
   * transaction that reads then writes can fail with SQLITE_BUSY at once in WAL mode, whatever the
   * busy timeout.
   */
  async #transaction<T>(operation: string, body: (q: Query) => Promise<T>): Promise<T> {
    return this.#exclusive(operation, () => this.#immediate(body));
  }

  /** `body` in a `BEGIN IMMEDIATE` transaction, rolled back if it throws. The caller holds the gate. */
  async #immediate<T>(body: (q: Query) => Promise<T>): Promise<T> {
    await this.#query('BEGIN IMMEDIATE');
    try {
      const result = await body(this.#query);
      await this.#query('COMMIT');
      return result;
    } catch (error) {
      await this.#query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new StoreUnavailableError(`${this.#label}: ${operation} after close()`);
  }
}

/** SQLite's "another connection holds the lock" errors. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

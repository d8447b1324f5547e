import type { BatchOp, BulkLoadInfo } from '@oauth-cache/core';
import type { EnvelopeCodec } from '../envelope.js';
import { bulkRows } from './bulk-rows.js';
import { BulkStage } from './bulk-stage.js';
import { isBusy, type Query } from './query.js';
import { BULK_INDEX, BULK_INDEX_GREATER, type BulkRow, type SqliteSql } from './schema.js';

/**
 * `wal_autocheckpoint` (pages) while a `writeBatch` commits. Random token digests make every
 * batch dirty pages all over the B-trees; checkpointing after each batch (the default threshold,
 * 1000 pages, is below one batch) copies each page back to the database file once per batch. A
 * larger write-ahead log lets one checkpoint copy a page that several batches changed once. The
 * log file keeps its size (up to 256 MiB with 4 KiB pages) until the next checkpoint resets it.
 */
const BULK_WAL_AUTOCHECKPOINT = 65_536;

/**
 * Page cache (KiB) while a staged bulk load runs. Its merges insert in key order and rebuild
 * indexes by sorting, which need few cached pages; SQLite sizes each sort's memory by the cache
 * size, so the store's 48 MiB cache plus a 48 MiB sort put a 1M-token import at ~420 MB of RSS.
 */
const BULK_PAGE_CACHE_KIB = 16_384;

/**
 * What the loader uses of a {@link SqliteStore}'s connection: the store lends these, so the two
 * share one connection, one gate and one error mapping.
 */
export interface BulkConnection {
  /** Database file path (or `:memory:`). */
  readonly path: string;
  readonly sql: SqliteSql;
  readonly codec: EnvelopeCodec;
  /** One statement on the connection (the caller holds the gate). */
  readonly query: Query;
  /** Run `fn` alone on the connection; failures become `StoreUnavailableError` naming `operation`. */
  exclusive<T>(operation: string, fn: () => Promise<T>): Promise<T>;
  /** `body` in a `BEGIN IMMEDIATE` transaction, rolled back if it throws (the caller holds the gate). */
  immediate<T>(body: (q: Query) => Promise<T>): Promise<T>;
  /** `PRAGMA journal_mode=WAL`, retried while another connection holds the file (busy timeout). */
  enterWal(): Promise<void>;
}

/** The connection's `synchronous` and `wal_autocheckpoint`, restored after each bulk write. */
interface Durability {
  synchronous: number;
  walAutocheckpoint: number;
}

/**
 * The import side of the SQLite store: `writeBatch` (one statement per batch, committed with
 * bulk durability settings) and the staged `bulkLoad` (staging table, merges in key order,
 * secondary indexes dropped and rebuilt, rollback journal instead of WAL while it runs). Serving
 * never goes through here; `SqliteStore` delegates its `writeBatch` and `bulkLoad` to it, and a
 * capped `indexAdd` while {@link staging}.
 */
export class SqliteBulkLoader {
  readonly #db: BulkConnection;
  /** Read at the first bulk write (the connection's own values: each bulk write restores them). */
  #durability: Durability | undefined;
  /** Set while a staged {@link load} runs: `writeBatch` appends to the stage. */
  #stage: BulkStage | undefined;
  /** The connection has the TEMP view `bulkWrite` inserts into (created by the first one). */
  #bulkView = false;

  constructor(db: BulkConnection) {
    this.#db = db;
  }

  /** A staged load is running: its batches (and capped index adds) go to the stage. */
  get staging(): boolean {
    return this.#stage !== undefined;
  }

  /**
   * A capped `indexAdd` during a staged load. The tables lack the staged members, so a cap cannot
   * be judged; and written now, the member would point at a record that a kill could still lose.
   * Staged with the batches instead; the next capped add after the load evicts what is over.
   * Resolves no evictions.
   */
  async stageIndexAdd(key: string, member: string, score: number, keepGreater: boolean): Promise<string[]> {
    const stage = this.#stage;
    if (stage === undefined) throw new Error('stageIndexAdd outside a staged bulk load');
    const row: BulkRow = [keepGreater ? BULK_INDEX_GREATER : BULK_INDEX, key, member, score];
    await this.#db.exclusive('indexAdd', () =>
      this.#db.query(this.#db.sql.staging.append, JSON.stringify([row])),
    );
    stage.appended(1);
    return [];
  }

  /**
   * Bulk write (import): the batch lands whole or not at all, and is visible once this resolves
   * (inside a staged {@link load}: once its next merge commits). Index adds here carry no cap.
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
    const planned = bulkRows(ops, this.#db.codec, Date.now());
    // Plain records give their rows synchronously: the batch then queues on the connection before
    // `writeBatch` returns, ahead of anything its caller issues next (core's cap check).
    const rows = Array.isArray(planned) ? planned : await planned;
    if (rows.length === 0) return;
    const json = JSON.stringify(rows);
    await this.#db.exclusive('writeBatch', async () => {
      const stage = this.#stage;
      if (stage === undefined) {
        if (!this.#bulkView) {
          for (const statement of this.#db.sql.connectionSchema) await this.#db.query(statement);
          this.#bulkView = true;
        }
        await this.#bulkDurability(() => this.#db.query(this.#db.sql.bulkWrite, json));
        return;
      }
      await this.#db.query(this.#db.sql.staging.append, json);
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
   * cap judged. One load at a time per store: a load started while one runs (nested or not) just
   * runs `run`, its batches joining the running load's stage.
   */
  async load<T>(run: (load: BulkLoadInfo) => Promise<T>): Promise<T> {
    if (this.#stage !== undefined) return run({ deferred: true });
    const { query, sql } = this.#db;
    /** The store's page cache (`PRAGMA cache_size`), given back when the load ends. */
    let servingCache: number | undefined;
    const stage = await this.#db.exclusive('bulkLoad', async () => {
      if ((await query(sql.staging.targetEmpty)).length === 0) return undefined;
      await query(sql.staging.create);
      await query(sql.staging.clear);
      servingCache = Number((await query('PRAGMA cache_size'))[0]?.cache_size);
      await query(`PRAGMA cache_size=-${BULK_PAGE_CACHE_KIB}`);
      return new BulkStage(await this.#useRollbackJournal());
    });
    if (stage === undefined) return run({ deferred: false });
    this.#stage = stage;
    let result: T;
    try {
      result = await run({ deferred: true });
    } finally {
      this.#stage = undefined;
      await this.#db.exclusive('bulkLoad', async () => {
        try {
          if (stage.staged > 0 || stage.indexesDropped) await this.#mergeStage(stage, { last: true });
        } finally {
          await query(sql.staging.drop);
          if (Number.isSafeInteger(servingCache)) await query(`PRAGMA cache_size=${servingCache}`);
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
    const staging = this.#db.sql.staging;
    const merge = () =>
      this.#db.immediate(async (q) => {
        if (!stage.indexesDropped) for (const statement of staging.dropIndexes) await q(statement);
        await q(staging.mergeRecords);
        for (const statement of staging.mergeIndexes) await q(statement);
        if (last) for (const statement of staging.rebuild) await q(statement);
      });
    // A rollback journal keeps the connection's own `synchronous` (FULL unless set): a load has a
    // handful of merges, so their syncs cost nothing next to the pages they write.
    await (stage.rollbackJournal ? merge() : this.#bulkDurability(merge));
    await this.#db.query(staging.clear);
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
    if (this.#db.path === ':memory:') return false;
    try {
      const rows = await this.#db.query('PRAGMA journal_mode=DELETE');
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
      await this.#db.enterWal();
    } catch (error) {
      if (!isBusy(error)) throw error;
    }
  }

  /** Run bulk statements with `synchronous=NORMAL` and a large checkpoint threshold, then restore. */
  async #bulkDurability(body: () => Promise<unknown>): Promise<void> {
    const query = this.#db.query;
    this.#durability ??= {
      synchronous: Number((await query('PRAGMA synchronous'))[0]?.synchronous ?? 2),
      walAutocheckpoint: Number((await query('PRAGMA wal_autocheckpoint'))[0]?.wal_autocheckpoint ?? 1000),
    };
    const { synchronous, walAutocheckpoint } = this.#durability;
    // PRAGMA synchronous cannot change inside a transaction: set around it.
    await query('PRAGMA synchronous=NORMAL');
    await query(`PRAGMA wal_autocheckpoint=${BULK_WAL_AUTOCHECKPOINT}`);
    try {
      await body();
    } finally {
      await query(`PRAGMA synchronous=${synchronous}`);
      await query(`PRAGMA wal_autocheckpoint=${walAutocheckpoint}`);
    }
  }
}

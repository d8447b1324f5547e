import { randomBytes } from 'node:crypto';
import { mkdir, open as openFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import KeyvSqlite from '@keyv/sqlite';
import {
  type BatchOp,
  type BulkLoadInfo,
  type CacheStore,
  type CommitResult,
  type IndexAddOptions,
  type IndexEntry,
  type IndexPageOptions,
  type StoreEntry,
  type StoreLock,
  StoreUnavailableError,
  type Transaction,
} from '@oauth-cache/core';
import Keyv from 'keyv';
import type { ChangeWatch, ChangeWatcher } from '../change-watch.js';
import { EnvelopeCodec, isLive } from '../envelope.js';
import { assertTtl, storeUnavailable } from '../errors.js';
import type { ExpiringValue, ExpiryAwareReads } from '../expiring.js';
import { ConnectionGate } from '../gate.js';
import { type GrantAwareReads, grantIdOf, type RecordWithGrant } from '../grant-link.js';
import { SqliteBulkLoader } from './bulk-loader.js';
import { prepareCommit } from './commit.js';
import { watchDataVersion } from './data-version-watch.js';
import { folderCreationHint, openFailureHint } from './open-errors.js';
import { isBusy, type Query } from './query.js';
import { type SqliteSql, SWEEP_BATCH, sqliteSql } from './schema.js';

/** Pause between two tries to switch a file held by another connection to WAL. */
const WAL_RETRY_MS = 25;

/** The tables are `oc_kv`, `oc_index`, `oc_index_size`, `oc_meta` (see `schema.ts`). */
const TABLE_PREFIX = 'oc';

/** Page cache of the connection (KiB): see `open`. */
const PAGE_CACHE_KIB = 49_152;

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Database file (absolute, or relative to the working directory), or `:memory:`. Its folder is created. */
  path: string;
  /** How long a statement waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** How the store is named in error messages (the store URL). Default `sqlite://<path>`. */
  label?: string;
}

/**
 * {@link CacheStore} on a SQLite file through `@keyv/sqlite`, safe for several processes sharing
 * the file.
 *
 * - Plain writes go through a `Keyv` instance (Keyv's envelope `{"value","expires"}`, no key
 *   prefix: the row key IS the cache key, e.g. `oc:at:<digest>`); reads go through the same
 *   adapter and Keyv's deserializer, with the expiry checked here (Keyv's own `get` deletes expired
 *   rows in a second statement, which could delete a row another process has just re-added).
 * - Atomic operations are single statements (`lock`: upsert `… WHERE expired`) or
 *   `BEGIN IMMEDIATE` transactions (index add + cap, `commit`), serialized per connection by a
 *   {@link ConnectionGate}, and across processes by SQLite's write lock (WAL + busy timeout).
 * - Every driver failure becomes {@link StoreUnavailableError}; a missing row is the only `undefined`.
 * - Imports (`writeBatch`, the staged `bulkLoad`) are the {@link SqliteBulkLoader}'s, on this
 *   store's connection and gate.
 */
export class SqliteStore implements CacheStore, ExpiryAwareReads, GrantAwareReads, ChangeWatch {
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
  readonly #busyTimeoutMs: number;
  readonly #bulk: SqliteBulkLoader;

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
    this.#bulk = new SqliteBulkLoader({
      path,
      sql,
      codec: this.#codec,
      query: this.#query,
      exclusive: (operation, fn) => this.#exclusive(operation, fn),
      immediate: (body) => this.#immediate(body),
      enterWal: () => this.#enterWal(),
    });
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
    const sql = sqliteSql(TABLE_PREFIX);
    const busyTimeout = options.busyTimeoutMs ?? 5000;
    if (path !== ':memory:') {
      try {
        // Owner only: the file holds sealed 1C passwords and token digests (folders created here).
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      } catch (error) {
        const failure = storeUnavailable(label, `creating the folder ${dirname(path)}`, error);
        const hint = await folderCreationHint(dirname(path));
        throw hint ? new StoreUnavailableError(`${failure.message}${hint}`, { cause: error }) : failure;
      }
      // Created 0600 before SQLite opens it (SQLite would create it 0644, and gives its -wal and
      // -shm files the database file's mode). An existing file keeps its mode; a failure here is
      // left for SQLite to report with its hints.
      await openFile(path, 'a', 0o600).then(
        (handle) => handle.close(),
        () => undefined,
      );
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

  /**
   * The record at `key` and, when it is linked to a grant (`g` a string), the grant at
   * `grantKeyPrefix + g`, in one statement (each query is a hop to sqlite3's thread pool: two
   * cost a token validation ~0.2 ms more), each judged live as `get` does. The grant is
   * `undefined` when the record is missing, expired or not linked.
   */
  async getWithGrant(key: string, grantKeyPrefix: string): Promise<[unknown, unknown]> {
    const [record, grant] = await this.getWithGrantAndExpiry(key, grantKeyPrefix);
    return [record?.value, grant?.value];
  }

  /** `getWithGrant` with each record's expiry (the L1 fills both entries from one call). */
  async getWithGrantAndExpiry(key: string, grantKeyPrefix: string): Promise<RecordWithGrant> {
    const rows = await this.#shared('get', () => this.#query(this.#sql.readWithGrant, key, grantKeyPrefix));
    const now = Date.now();
    const record = this.#codec.live(rows.find((r) => r.key === key)?.value, now);
    const grantId = grantIdOf(record?.value);
    if (grantId === undefined) return [record, undefined];
    const grantKey = grantKeyPrefix + grantId;
    const grantRow = rows.find((r) => r.key === grantKey);
    // SQL followed the id as stored; an id Keyv's serializer escapes (a leading `:`) is read apart.
    if (grantRow === undefined && grantId.startsWith(':'))
      return [record, await this.getWithExpiry(grantKey)];
    return [record, this.#codec.live(grantRow?.value, now)];
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

  async delete(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const rows = await this.#shared('delete', () => this.#query(this.#sql.deleteMany, JSON.stringify(keys)));
    const now = Date.now();
    return rows.filter((r) => typeof r.expires !== 'number' || r.expires > now).length;
  }

  async indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    if (options.cap !== undefined && this.#bulk.staging) {
      // A cap cannot be judged against a stage: see `SqliteBulkLoader.stageIndexAdd`.
      return this.#bulk.stageIndexAdd(key, member, score, options.keepGreater === true);
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

  async indexPage(key: string, now: number, options: IndexPageOptions): Promise<IndexEntry[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (!(limit > 0)) return [];
    const after = options.after;
    const rows = await this.#shared('indexPage', () =>
      after === undefined
        ? this.#query(this.#sql.indexPageFirst, key, now, limit)
        : this.#query(this.#sql.indexPageAfter, key, now, limit, after.score, after.member),
    );
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
    const rows = await this.#shared('lock', () => this.#query(this.#sql.insertIfAbsent, name, text, now));
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
   * Apply `tx` as one `BEGIN IMMEDIATE` transaction (see `commit.ts`): preconditions read and
   * judged, then every op written, under SQLite's write lock, so other processes sharing the file
   * see all of it or none, and cannot change what was checked before the writes land. A bad TTL
   * throws a `TypeError` before anything is written.
   */
  async commit(tx: Transaction): Promise<CommitResult> {
    const body = await prepareCommit(tx, this.#sql, this.#codec);
    return this.#transaction('commit', body);
  }

  /** Bulk write (import): see {@link SqliteBulkLoader.writeBatch}. */
  writeBatch(ops: BatchOp[]): Promise<void> {
    return this.#bulk.writeBatch(ops);
  }

  /** Run a bulk import, staged into an empty store: see {@link SqliteBulkLoader.load}. */
  bulkLoad<T>(run: (load: BulkLoadInfo) => Promise<T>): Promise<T> {
    return this.#bulk.load(run);
  }

  /**
   * `PRAGMA journal_mode=WAL`, tried again until the busy timeout while SQLITE_BUSY: leaving a
   * rollback journal (a staged load's, see {@link SqliteBulkLoader}) needs the file to itself, and
   * SQLite answers at once instead of waiting as it does for a lock.
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

  async ping(): Promise<void> {
    await this.#shared('ping', () => this.#query('SELECT 1 AS ok'));
  }

  /** Tell `watcher` about commits of other connections: see `data-version-watch.ts`. */
  watchChanges(watcher: ChangeWatcher, intervalMs: number): Promise<() => Promise<void>> {
    return watchDataVersion(
      async () => {
        const rows = await this.#shared('data_version', () => this.#query('PRAGMA data_version'));
        return Number(rows[0]?.data_version);
      },
      watcher,
      intervalMs,
    );
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

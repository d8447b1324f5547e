import { randomBytes } from 'node:crypto';
import KeyvRedis from '@keyv/redis';
import {
  type BatchOp,
  type CacheStore,
  type CommitResult,
  compareIndexEntriesDesc,
  type IndexAddOptions,
  type IndexEntry,
  type IndexPageOptions,
  type StoreEntry,
  type StoreLock,
  StoreUnavailableError,
  type Transaction,
} from '@oauth-cache/core';
import { createClient } from '@redis/client';
import Keyv from 'keyv';
import type { ChangeWatch, ChangeWatcher } from '../change-watch.js';
import { DigestSet } from '../digest-set.js';
import { EnvelopeCodec, isLive } from '../envelope.js';
import { assertTtl, storeUnavailable } from '../errors.js';
import type { ExpiringValue, ExpiryAwareReads } from '../expiring.js';
import { type GrantAwareReads, grantIdOf, type RecordWithGrant } from '../grant-link.js';
import { maskUrl } from '../url.js';
import { MAX_OPS_PER_SCRIPT, planScriptCall, type ScriptPayload } from './batch-plan.js';
import { ChannelHeartbeat } from './channel-heartbeat.js';
import {
  type RedisTimings,
  type RedisTlsOptions,
  type ResolvedTimings,
  redisClientOptions,
  resolveTimings,
} from './client-options.js';
import { planCommit } from './commit-plan.js';
import { CommandDeadlines, withDeadline } from './deadline.js';
import { STORE_SCRIPTS } from './scripts.js';

/** Options of {@link RedisStore.open}. */
export interface RedisStoreOptions extends RedisTimings {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /**
   * The cache's key prefix (default `oc:`): names the invalidation channel (`<prefix>invalidate`)
   * and bounds the sweep to `<prefix>*` keys. Use the same prefix as the cache.
   */
  prefix?: string;
  /** For `rediss://`: trust settings (a private CA, client certificate). */
  tls?: RedisTlsOptions;
}

/** The node-redis client with the store's Lua scripts as methods (see `scripts.ts`). */
type RedisClient = ReturnType<typeof openClient>;
type RemoteDeleteListener = (keys: string[]) => void;

const DELETE_CHUNK = 500;
const SCAN_COUNT = 500;
/** Keys examined per `sweep()` call (the sweep is incremental). */
const SWEEP_SCAN_BUDGET = 10_000;

/** One page of `entries`: the SCAN cursor after it, its new keys and their raw values. */
interface ListedPage {
  cursor: string;
  keys: string[];
  raws: unknown[];
}

/** A client of `url` that fails fast (see `client-options.ts`), with the store's scripts. */
function openClient(url: string, timings: ResolvedTimings, tls: RedisTlsOptions | undefined) {
  return createClient({
    ...redisClientOptions(url, timings, tls),
    scripts: STORE_SCRIPTS,
  });
}

/** `[member, score, member, score, ...]` as index entries. */
function pairs(reply: unknown[]): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    out.push({ member: String(reply[i]), score: Number(reply[i + 1]) });
  }
  return out;
}

/** Escape glob metacharacters for SCAN MATCH. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * {@link CacheStore} on Redis through `@keyv/redis`, shared by any number of processes.
 *
 * - Values: Keyv's envelope `{"value","expires"}` (Keyv's serializer) as a Redis string with a
 *   native PTTL; no Keyv namespace (the Redis key IS the cache key, e.g. `oc:at:<digest>`). What
 *   `@keyv/redis` would send with these settings is sent on the raw node-redis client: `get` = one
 *   GET, `getMany` = one MGET, `set` = one SET PX (the adapter added a connect check, a key-prefix
 *   step, two promise layers and an async deserializer per read: ~25 % over a raw GET).
 *   `getWithGrant` is one script call: a token record and its grant in one round trip.
 * - Atomic parts on the raw node-redis client: `commit` = one Lua script call (`commit-script.ts`),
 *   `indexAdd` = one Lua script, `lock` = SET NX PX; indexes are sorted sets (score = expiry) that
 *   expire with their highest member.
 * - `delete` publishes the deleted keys on `<prefix>invalidate` in the same script; see
 *   {@link RedisStore.onRemoteDelete}. `commit` publishes the keys it deleted or overwrote the
 *   same way.
 * - Fail fast: no offline queue, a deadline on every command ({@link CommandDeadlines}: one timer
 *   for all pending commands, not one per call), bounded reconnect backoff: with Redis down every
 *   call rejects with {@link StoreUnavailableError} well under 2 s, and the same store works again
 *   once Redis is back.
 */
export class RedisStore implements CacheStore, ExpiryAwareReads, GrantAwareReads, ChangeWatch {
  readonly kind = 'redis';
  /** The URL with its password masked. */
  readonly label: string;
  /** Pub/sub channel carrying deleted keys. */
  readonly channel: string;
  readonly #client: RedisClient;
  readonly #codec: EnvelopeCodec;
  readonly #timings: ResolvedTimings;
  readonly #deadlines: CommandDeadlines;
  readonly #prefix: string;
  readonly #listeners = new Set<RemoteDeleteListener>();
  readonly #heartbeat: ChannelHeartbeat;
  #subscriber: Promise<RedisClient> | undefined;
  #sweepCursor = '0';
  #closed = false;
  #lastError: unknown;

  private constructor(client: RedisClient, options: RedisStoreOptions, timings: ResolvedTimings) {
    this.#client = client;
    this.#timings = timings;
    this.label = maskUrl(options.url);
    this.#prefix = options.prefix ?? 'oc:';
    this.channel = `${this.#prefix}invalidate`;
    this.#heartbeat = new ChannelHeartbeat((message) => this.#client.publish(this.channel, message));
    // The Keyv instance only lends its serializer: every command goes out on the raw client.
    const adapter = new KeyvRedis<string>(client, { throwOnErrors: true, throwOnConnectError: true });
    const keyv = new Keyv({ store: adapter, namespace: '', useKeyPrefix: false, throwOnErrors: true });
    this.#codec = new EnvelopeCodec(keyv);
    this.#deadlines = new CommandDeadlines(timings.commandTimeoutMs, (operation, error) =>
      storeUnavailable(this.label, operation, error),
    );
    // node-redis emits 'error' on every failed reconnect; an EventEmitter without a listener would crash.
    client.on('error', (error: unknown) => {
      this.#lastError = error;
    });
    keyv.on('error', (error: unknown) => {
      this.#lastError = error;
    });
  }

  /**
   * Connect and PING. Throws {@link StoreUnavailableError} naming the URL (password masked) when the
   * server cannot be reached within the connect deadline (2 s).
   */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const timings = resolveTimings(options);
    const client = openClient(options.url, timings, options.tls);
    const store = new RedisStore(client, options, timings);
    try {
      await withDeadline(client.connect(), timings.connectTimeoutMs);
      await withDeadline(client.ping(), timings.commandTimeoutMs);
    } catch (error) {
      try {
        client.destroy(); // stop the reconnect loop of a client that never got through
      } catch {
        // already closed
      }
      const reason = store.#lastError instanceof Error ? store.#lastError.message : '';
      throw new StoreUnavailableError(
        `${store.label}: cannot connect to Redis: ${(error as Error).message}${reason ? ` (${reason})` : ''}`,
        { cause: error },
      );
    }
    return store;
  }

  /** The last error reported by the client or Keyv as an event (diagnostics only). */
  get lastError(): unknown {
    return this.#lastError;
  }

  // Reads: the hot path of every validation. One command, one tracked promise, a synchronous decode.
  async get(key: string): Promise<unknown> {
    this.#assertOpen('get');
    const raw = await this.#deadlines.track('get', this.#client.get(key));
    return raw === null ? undefined : this.#codec.liveValue(raw, Date.now());
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    if (keys.length === 0) return [];
    this.#assertOpen('getMany');
    const raws = await this.#deadlines.track('getMany', this.#client.mGet(keys));
    const now = Date.now();
    return raws.map((raw) => this.#codec.liveValue(raw, now));
  }

  /** `get` with the record's expiry (used by the L1 so it never outlives the record). */
  async getWithExpiry(key: string): Promise<ExpiringValue | undefined> {
    this.#assertOpen('get');
    const raw = await this.#deadlines.track('get', this.#client.get(key));
    return raw === null ? undefined : this.#codec.live(raw, Date.now());
  }

  /** `getMany` with each record's expiry. */
  async getManyWithExpiry(keys: string[]): Promise<Array<ExpiringValue | undefined>> {
    if (keys.length === 0) return [];
    this.#assertOpen('getMany');
    const raws = await this.#deadlines.track('getMany', this.#client.mGet(keys));
    const now = Date.now();
    return raws.map((raw) => this.#codec.live(raw, now));
  }

  /**
   * The record at `key` and, when it is linked to a grant (`g` a string), the grant at
   * `grantKeyPrefix + g`, in ONE script call (one round trip; `GET_WITH_GRANT` in `scripts.ts`).
   * Each is decoded and judged live as `get` does; the grant is `undefined` when the record is
   * missing, expired or not linked.
   */
  async getWithGrant(key: string, grantKeyPrefix: string): Promise<[unknown, unknown]> {
    const [record, grant] = await this.getWithGrantAndExpiry(key, grantKeyPrefix);
    return [record?.value, grant?.value];
  }

  /** `getWithGrant` with each record's expiry (the L1 fills both entries from one call). */
  async getWithGrantAndExpiry(key: string, grantKeyPrefix: string): Promise<RecordWithGrant> {
    const reply = await this.#run('getWithGrant', () => this.#client.getWithGrant(key, grantKeyPrefix));
    const now = Date.now();
    const record = this.#codec.live(reply[0], now);
    const grantId = grantIdOf(record?.value);
    if (grantId === undefined) return [record, undefined];
    // The script followed `g` as cjson read it; where that is not the id JSON.parse reads (a text
    // cjson refused, a lone surrogate), the grant is read on its own rather than reported missing.
    if (reply[2] !== grantId) return [record, await this.getWithExpiry(grantKeyPrefix + grantId)];
    return [record, this.#codec.live(reply[1], now)];
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    if (ttlMs <= 0) {
      // Keyv reads a TTL of 0 as "never expires": an already-expired write is a delete.
      await this.delete(key);
      return;
    }
    if (typeof value === 'symbol') throw new TypeError('a symbol cannot be stored');
    // What Keyv.set writes (envelope with `expires` = now + ttl, SET PX ttl), without its layers.
    const ttl = Math.ceil(ttlMs);
    const text = await this.#codec.encode(value, Date.now() + ttl);
    this.#assertOpen('set');
    const reply = await this.#deadlines.track(
      'set',
      this.#client.set(key, text, { expiration: { type: 'PX', value: ttl } }),
    );
    if (reply !== 'OK') throw storeUnavailable(this.label, 'set', 'write not acknowledged');
  }

  async delete(...keys: string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += DELETE_CHUNK) {
      const chunk = keys.slice(i, i + DELETE_CHUNK);
      deleted += await this.#run('delete', () =>
        this.#client.deleteAndPublish(chunk, this.channel, JSON.stringify(chunk)),
      );
    }
    return deleted;
  }

  async indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    const cap = options.cap === undefined ? -1 : Math.max(0, Math.floor(options.cap));
    const reply = await this.#run('indexAdd', () =>
      this.#client.indexAdd(key, member, score, options.now, cap, options.keepGreater === true),
    );
    return Array.isArray(reply) ? reply.map(String) : [];
  }

  async indexRemove(key: string, members: string[]): Promise<void> {
    if (members.length === 0) return;
    await this.#run('indexRemove', () => this.#client.zRem(key, members));
  }

  async indexRange(key: string, now: number): Promise<IndexEntry[]> {
    const rows = await this.#run('indexRange', () =>
      this.#client.zRangeWithScores(key, `(${now}`, '+inf', { BY: 'SCORE' }),
    );
    return rows.map((r) => ({ member: String(r.value), score: Number(r.score) }));
  }

  /**
   * One script call (`INDEX_PAGE` in `scripts.ts`) when the cursor member is still in place; when it
   * left or was re-scored, the page is read by score from the cursor's score down, skipping the
   * ties that sort before it (a few reads when ties are many).
   */
  async indexPage(key: string, now: number, options: IndexPageOptions): Promise<IndexEntry[]> {
    const limit = Math.max(0, Math.floor(options.limit));
    if (!(limit > 0)) return [];
    const after = options.after;
    const reply = await this.#run('indexPage', () => this.#client.indexPageFrom(key, now, limit, after));
    if (Array.isArray(reply)) return pairs(reply);
    // The cursor member is gone or moved: page by score, from the cursor's score down.
    const cursor = after!;
    const out: IndexEntry[] = [];
    let offset = 0;
    let chunk = Math.max(limit + 1, 64);
    for (;;) {
      const rows = await this.#run('indexPage', () =>
        this.#client.zRangeWithScores(key, String(cursor.score), `(${now}`, {
          BY: 'SCORE',
          REV: true,
          LIMIT: { offset, count: chunk },
        }),
      );
      for (const row of rows) {
        const entry = { member: String(row.value), score: Number(row.score) };
        if (compareIndexEntriesDesc(entry, cursor) <= 0) continue;
        out.push(entry);
        if (out.length === limit) return out;
      }
      if (rows.length < chunk) return out;
      offset += chunk;
      chunk = Math.min(chunk * 2, 4096);
    }
  }

  async indexCount(key: string, now: number): Promise<number> {
    return Number(await this.#run('indexCount', () => this.#client.zCount(key, `(${now}`, '+inf')));
  }

  async indexDelete(key: string): Promise<void> {
    await this.#run('indexDelete', () => this.#client.unlink(key));
  }

  async *entries(prefix: string): AsyncIterable<StoreEntry> {
    const match = `${globEscape(prefix)}*`;
    // SCAN may return a key twice. Hashes, not the keys: a Set of millions of key strings outgrew
    // the CLI's heap (export of 2.5M keys).
    const seen = new DigestSet();
    const fetchPage = async (cursor: string): Promise<ListedPage> => {
      const page = await this.#run('entries', () =>
        this.#client.scan(cursor, { MATCH: match, COUNT: SCAN_COUNT, TYPE: 'string' }),
      );
      const keys = page.keys.map(String).filter((k) => seen.add(k));
      const raws = keys.length > 0 ? await this.#run('entries', () => this.#client.mGet(keys)) : [];
      return { cursor: String(page.cursor), keys, raws };
    };
    // One page ahead: the next SCAN + MGET travel while the caller handles this page (an export
    // otherwise waits for two round trips per page).
    let next: Promise<ListedPage> | undefined = fetchPage('0');
    try {
      while (next) {
        const page: ListedPage = await next;
        next = page.cursor === '0' ? undefined : fetchPage(page.cursor);
        const { keys, raws } = page;
        const now = Date.now();
        for (let i = 0; i < keys.length; i++) {
          const envelope = this.#codec.decode(raws[i]);
          if (envelope && isLive(envelope, now)) {
            const key = keys[i]!;
            yield envelope.expires === undefined
              ? { key, value: envelope.value }
              : { key, value: envelope.value, expiresAt: envelope.expires };
          }
        }
      }
    } finally {
      // A caller that stops early leaves a page in flight: its failure is nobody's to handle.
      next?.catch(() => undefined);
    }
  }

  /**
   * Records expire natively (PTTL), so this resolves 0. Dead index members are dropped by every
   * `indexAdd` on that index and ignored by reads; this sweep also trims them incrementally: each
   * call continues a SCAN of `<prefix>*` sorted sets for at most `SWEEP_SCAN_BUDGET` (10 000) keys.
   */
  async sweep(now: number): Promise<number> {
    let examined = 0;
    const match = `${globEscape(this.#prefix)}*`;
    do {
      const cursor = this.#sweepCursor;
      const page = await this.#run('sweep', () =>
        this.#client.scan(cursor, { MATCH: match, COUNT: SCAN_COUNT, TYPE: 'zset' }),
      );
      this.#sweepCursor = String(page.cursor);
      examined += SCAN_COUNT;
      const keys = page.keys.map(String);
      for (let i = 0; i < keys.length; i += 100) {
        const chunk = keys.slice(i, i + 100);
        await this.#run('sweep', () => this.#client.sweepIndexes(chunk, now));
      }
    } while (this.#sweepCursor !== '0' && examined < SWEEP_SCAN_BUDGET);
    return 0;
  }

  /** Cross-process mutex: SET NX PX of a random token, released by a compare-and-delete script. */
  async lock(name: string, ttlMs: number): Promise<StoreLock | null> {
    assertTtl(ttlMs);
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const fencingToken = randomBytes(18).toString('base64url');
    const text = await this.#codec.encode(fencingToken, Date.now() + ttl);
    const reply = await this.#run('lock', () =>
      this.#client.set(name, text, { expiration: { type: 'PX', value: ttl }, condition: 'NX' }),
    );
    if (reply !== 'OK') return null;
    return {
      fencingToken,
      release: async () => {
        // Best effort: if Redis cannot be reached the lock still expires after ttlMs, and a failing
        // release must not turn the guarded work's success into an error.
        await this.#run('unlock', () => this.#client.releaseLock(name, text)).catch(() => undefined);
      },
    };
  }

  /**
   * Bulk write (import): one `writeBatch` script call (EVALSHA) per {@link MAX_OPS_PER_SCRIPT} ops,
   * so a batch within that bound is atomic; a larger one is written as several atomic slices in op
   * order. The end state is what the ops run one by one would give: a record is SET PX ttl (ttl <= 0:
   * skipped), index adds carry no cap (ZADD, or ZADD GT for keepGreater) and each index key expires
   * at its highest score. A slice travels as one JSON string (grouped per index key in JS), and
   * Redis runs one script instead of ~3 commands per index add.
   */
  async writeBatch(ops: BatchOp[]): Promise<void> {
    if (ops.length === 0) return;
    const now = Date.now();
    const encode = (value: unknown, expires: number) => this.#codec.encode(value, expires);
    // Plan every slice before sending any: bad input (a non-finite ttl, a value the serializer
    // refuses) rejects the whole batch with nothing written.
    const planned: Array<ScriptPayload | Promise<ScriptPayload>> = [];
    for (let i = 0; i < ops.length; i += MAX_OPS_PER_SCRIPT) {
      const slice = ops.length <= MAX_OPS_PER_SCRIPT ? ops : ops.slice(i, i + MAX_OPS_PER_SCRIPT);
      planned.push(planScriptCall(slice, now, encode));
    }
    // Plain records plan synchronously: then the calls are sent before `writeBatch` returns, ahead
    // of anything its caller issues next (core judges a batch's cap with the batch in).
    const payloads = planned.some((p) => p instanceof Promise) ? await Promise.all(planned) : planned;
    // Only already-expired records: nothing to send.
    const texts = (payloads as ScriptPayload[])
      .filter((payload) => payload.length > 1)
      .map((payload) => Buffer.from(JSON.stringify(payload), 'utf8'));
    // One slice after the other, each atomic on its own. Sent together, the last slice's command
    // deadline also covered the time Redis spent on the slices before it: a 20000-token batch
    // (six slices of sealed records) outlived the 1.5 s deadline on a loaded 2-core machine. The
    // first slice is still sent before `writeBatch` returns; the default batch is one slice.
    for (const bytes of texts) await this.#run('writeBatch', () => this.#client.writeBatch(bytes));
  }

  /**
   * Apply `tx` atomically in ONE script call (EVALSHA; see `commit-script.ts`): preconditions,
   * then the ops in order, then one PUBLISH of the keys it deleted or overwrote. Records are encoded
   * and written as `set` writes them; a bad argument (non-finite ttl or `now`, NaN score) throws a
   * TypeError before anything is sent. A transaction with neither preconditions nor ops costs nothing.
   */
  async commit(tx: Transaction): Promise<CommitResult> {
    this.#assertOpen('commit');
    if ((tx.require?.length ?? 0) === 0 && tx.ops.length === 0) return { ok: true };
    const planned = planCommit(tx, (value, expires) => this.#codec.encode(value, expires));
    const { keys, args } = planned instanceof Promise ? await planned : planned;
    const failed = await this.#run('commit', () => this.#client.commitTransaction(keys, this.channel, args));
    return failed === 0 ? { ok: true } : { ok: false, failed: failed - 1 };
  }

  async ping(): Promise<void> {
    await this.#run('ping', () => this.#client.ping());
  }

  /**
   * Subscribe to keys deleted (`delete`, `commit`; a `commit` also names the keys it
   * overwrote) by any process sharing this Redis, this one included. One subscriber connection
   * (a duplicate of the main client) serves all listeners; node-redis re-subscribes after a
   * reconnect. Messages lost during an outage are not replayed:
   * callers must bound staleness on their own (the L1 does, with `maxStaleMs`).
   */
  async onRemoteDelete(listener: RemoteDeleteListener): Promise<() => Promise<void>> {
    this.#assertOpen('onRemoteDelete');
    this.#listeners.add(listener);
    if (!this.#subscriber) this.#subscriber = this.#startSubscriber();
    try {
      await this.#subscriber;
    } catch (error) {
      this.#listeners.delete(listener);
      this.#subscriber = undefined;
      throw storeUnavailable(this.label, 'subscribe', error);
    }
    return async () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && !this.#heartbeat.watching) await this.#stopSubscriber();
    };
  }

  /**
   * Prove `watcher` current about every `intervalMs` (see {@link ChannelHeartbeat}): the L1 keeps
   * entries past its staleness bound only while these proofs arrive.
   */
  async watchChanges(watcher: ChangeWatcher, intervalMs: number): Promise<() => Promise<void>> {
    this.#assertOpen('watchChanges');
    if (!this.#subscriber) this.#subscriber = this.#startSubscriber();
    try {
      await this.#subscriber;
    } catch (error) {
      this.#subscriber = undefined;
      throw storeUnavailable(this.label, 'subscribe', error);
    }
    this.#heartbeat.add(watcher, intervalMs);
    return async () => {
      this.#heartbeat.remove(watcher);
      if (this.#listeners.size === 0 && !this.#heartbeat.watching) await this.#stopSubscriber();
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#heartbeat.stop();
    await this.#stopSubscriber();
    // close() lets in-flight replies arrive; when Redis is down it would wait: destroy then.
    if (this.#client.isReady) {
      await withDeadline(this.#client.close(), this.#timings.commandTimeoutMs).catch(() =>
        this.#client.destroy(),
      );
    } else if (this.#client.isOpen) {
      this.#client.destroy();
    }
  }

  async #startSubscriber(): Promise<RedisClient> {
    const subscriber = this.#client.duplicate();
    subscriber.on('error', (error: unknown) => {
      this.#lastError = error;
      this.#heartbeat.interrupted();
    });
    // Messages published while the connection is down are lost: no proof across a reconnect.
    for (const event of ['connect', 'ready', 'reconnecting', 'end']) {
      subscriber.on(event, () => this.#heartbeat.interrupted());
    }
    try {
      await withDeadline(subscriber.connect(), this.#timings.connectTimeoutMs);
      await withDeadline(
        subscriber.subscribe(this.channel, (message: string) => this.#deliver(message)),
        this.#timings.commandTimeoutMs,
      );
      this.#heartbeat.subscribed();
    } catch (error) {
      try {
        subscriber.destroy();
      } catch {
        // already closed
      }
      throw error;
    }
    return subscriber;
  }

  async #stopSubscriber(): Promise<void> {
    const pending = this.#subscriber;
    this.#subscriber = undefined;
    if (!pending) return;
    const subscriber = await pending.catch(() => undefined);
    if (subscriber?.isOpen) subscriber.destroy();
  }

  #deliver(message: string): void {
    let keys: unknown;
    try {
      keys = JSON.parse(message);
    } catch {
      return; // not ours
    }
    if (!Array.isArray(keys)) {
      this.#heartbeat.heard(keys);
      return;
    }
    const list = keys.filter((k): k is string => typeof k === 'string');
    for (const listener of this.#listeners) {
      try {
        listener(list);
      } catch {
        // A listener's bug must not stop the others from hearing about the delete.
      }
    }
  }

  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    this.#assertOpen(operation);
    let pending: Promise<T>;
    try {
      pending = fn();
    } catch (error) {
      throw storeUnavailable(this.label, operation, error);
    }
    return this.#deadlines.track(operation, pending);
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new StoreUnavailableError(`${this.label}: ${operation} after close()`);
  }
}

import { OAuthCacheError, StoreUnavailableError } from '../errors.js';
import type {
  CacheStore,
  CommitResult,
  IndexAddOptions,
  IndexEntry,
  IndexPageOptions,
  KeyValueStore,
  StoreEntry,
  Transaction,
} from './contract.js';
import { grantIdOf } from './contract.js';
import { indexPageOf } from './index-page.js';
import { KeyedLock } from './keyed-lock.js';
import { failedPrecondition } from './transaction.js';

/** A key-value store that may also list its entries (Keyv's `iterator`). */
type IterableKeyValueStore = KeyValueStore & {
  iterator?: () => AsyncIterable<[string, unknown]>;
  disconnect?: () => Promise<void>;
};

interface IndexRecord {
  ix: Array<[string, number]>;
}

interface Envelope {
  /** Absolute expiry, epoch ms: kept next to the value since a plain store may not report TTLs. */
  e: number;
  v: unknown;
}

/** True when `store` already implements the full {@link CacheStore} contract. */
export function isCacheStore(store: KeyValueStore | CacheStore): store is CacheStore {
  const s = store as Partial<CacheStore>;
  return (
    typeof s.commit === 'function' && typeof s.indexAdd === 'function' && typeof s.entries === 'function'
  );
}

/**
 * Build the full contract over a plain get/set/delete store (a `Keyv` instance, say). The atomic
 * operations hold an in-process lock per key: correct for ONE process. Stores shared by several
 * processes must implement {@link CacheStore} natively (see `@oauth-cache/keyv`).
 */
export function adaptKeyValueStore(kv: KeyValueStore, kind = 'keyvalue'): CacheStore {
  return new KeyValueCacheStore(kv as IterableKeyValueStore, kind);
}

class KeyValueCacheStore implements CacheStore {
  readonly #kv: IterableKeyValueStore;
  readonly #lock = new KeyedLock();
  readonly kind: string;

  constructor(kv: IterableKeyValueStore, kind: string) {
    this.#kv = kv;
    this.kind = kind;
  }

  async get(key: string): Promise<unknown> {
    return unwrap(await this.#call(() => this.#kv.get(key)));
  }

  /** Two reads: a plain key-value store has nothing to read both with. */
  async getWithGrant(key: string, grantKeyPrefix: string): Promise<[unknown, unknown]> {
    const value = await this.get(key);
    const grantId = grantIdOf(value);
    return [value, grantId === undefined ? undefined : await this.get(grantKeyPrefix + grantId)];
  }

  async getMany(keys: string[]): Promise<unknown[]> {
    if (this.#kv.getMany) {
      const values = await this.#call(() => this.#kv.getMany!(keys));
      return values.map(unwrap);
    }
    return Promise.all(keys.map((k) => this.get(k)));
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.#write(key, { e: Date.now() + ttlMs, v: value }, ttlMs);
  }

  async delete(...keys: string[]): Promise<number> {
    let n = 0;
    for (const key of keys) if (await this.#call(() => this.#kv.delete(key))) n++;
    return n;
  }

  indexAdd(key: string, member: string, score: number, options: IndexAddOptions): Promise<string[]> {
    return this.#lock.run(key, async () => {
      const entries = new Map((await this.#readIndex(key)).filter(([, s]) => s > options.now));
      const previous = entries.get(member);
      entries.set(member, options.keepGreater && previous !== undefined ? Math.max(previous, score) : score);
      let evicted: string[] = [];
      if (options.cap !== undefined && entries.size > options.cap) {
        const cap = options.cap;
        evicted = [...entries]
          .filter(([m]) => cap === 0 || m !== member)
          .sort((a, b) => a[1] - b[1])
          .slice(0, entries.size - options.cap)
          .map(([m]) => m);
        for (const m of evicted) entries.delete(m);
      }
      await this.#writeIndex(key, [...entries]);
      return evicted;
    });
  }

  indexRemove(key: string, members: string[]): Promise<void> {
    return this.#lock.run(key, async () => {
      const drop = new Set(members);
      await this.#writeIndex(
        key,
        (await this.#readIndex(key)).filter(([m]) => !drop.has(m)),
      );
    });
  }

  async indexRange(key: string, now: number): Promise<IndexEntry[]> {
    return (await this.#readIndex(key))
      .filter(([, s]) => s > now)
      .sort((a, b) => a[1] - b[1])
      .map(([member, score]) => ({ member, score }));
  }

  async indexPage(key: string, now: number, options: IndexPageOptions): Promise<IndexEntry[]> {
    return indexPageOf(await this.#readIndex(key), now, options);
  }

  async indexCount(key: string, now: number): Promise<number> {
    return (await this.#readIndex(key)).filter(([, s]) => s > now).length;
  }

  async indexDelete(key: string): Promise<void> {
    await this.#call(() => this.#kv.delete(key));
  }

  async *entries(prefix: string): AsyncIterable<StoreEntry> {
    if (!this.#kv.iterator) {
      throw new OAuthCacheError('unsupported', `the ${this.kind} store cannot list its entries`);
    }
    const now = Date.now();
    for await (const [key, raw] of this.#kv.iterator()) {
      if (!key.startsWith(prefix) || !isEnvelope(raw) || raw.e <= now) continue;
      if (isIndexRecord(raw.v)) continue;
      yield { key, value: raw.v, expiresAt: raw.e };
    }
  }

  /**
   * Holds the lock of every key the transaction reads or writes (taken in sorted order, so two
   * commits cannot deadlock), reads what its preconditions need, then writes. Atomic within this
   * process only, like every operation of this adapter; a crash midway can leave part of it.
   */
  commit(tx: Transaction): Promise<CommitResult> {
    const keys = [...transactionKeys(tx)].sort();
    const locked = keys.reduceRight<() => Promise<CommitResult>>(
      (inner, key) => () => this.#lock.run(key, inner),
      () => this.#commitHeld(tx),
    );
    return locked();
  }

  async #commitHeld(tx: Transaction): Promise<CommitResult> {
    const present = new Map<string, boolean>();
    const counts = new Map<string, number>();
    for (const p of tx.require ?? []) {
      if (p.if === 'present' || p.if === 'absent') present.set(p.key, (await this.get(p.key)) !== undefined);
      else counts.set(p.index, (await this.#readIndex(p.index)).filter(([, s]) => s > tx.now).length);
    }
    const failed = failedPrecondition(tx, {
      present: (key) => present.get(key) ?? false,
      liveCount: (index) => counts.get(index) ?? 0,
    });
    if (failed !== undefined) return { ok: false, failed };
    for (const op of tx.ops) {
      switch (op.op) {
        case 'set':
          await this.set(op.key, op.value, op.ttlMs);
          break;
        case 'delete':
          for (const key of op.keys) await this.#call(() => this.#kv.delete(key));
          break;
        case 'indexAdd': {
          const entries = new Map((await this.#readIndex(op.key)).filter(([, s]) => s > tx.now));
          const previous = entries.get(op.member);
          entries.set(
            op.member,
            op.keepGreater && previous !== undefined ? Math.max(previous, op.score) : op.score,
          );
          await this.#writeIndex(op.key, [...entries]);
          break;
        }
        case 'indexRemove': {
          const drop = new Set(op.members);
          await this.#writeIndex(
            op.key,
            (await this.#readIndex(op.key)).filter(([m]) => !drop.has(m)),
          );
          break;
        }
        case 'indexDelete':
          await this.#call(() => this.#kv.delete(op.key));
          break;
      }
    }
    return { ok: true };
  }

  async sweep(): Promise<number> {
    // A plain key-value store expires entries itself (Keyv on read); nothing to sweep here.
    return 0;
  }

  async ping(): Promise<void> {
    await this.get('__ping__');
  }

  async close(): Promise<void> {
    await this.#kv.disconnect?.();
  }

  async #readIndex(key: string): Promise<Array<[string, number]>> {
    const value = await this.get(key);
    return isIndexRecord(value) ? value.ix : [];
  }

  async #writeIndex(key: string, entries: Array<[string, number]>): Promise<void> {
    if (entries.length === 0) {
      await this.#call(() => this.#kv.delete(key));
      return;
    }
    const maxScore = Math.max(...entries.map(([, s]) => s));
    const ttl = Math.max(1, maxScore - Date.now());
    await this.#write(key, { e: maxScore, v: { ix: entries } satisfies IndexRecord }, ttl);
  }

  async #write(key: string, envelope: Envelope, ttlMs: number): Promise<void> {
    const ok = await this.#call(() => this.#kv.set(key, envelope, ttlMs));
    if (ok === false) throw new StoreUnavailableError(`the ${this.kind} store did not acknowledge a write`);
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof OAuthCacheError) throw error;
      throw new StoreUnavailableError(`the ${this.kind} store failed`, { cause: error });
    }
  }
}

function isEnvelope(value: unknown): value is Envelope {
  return (
    typeof value === 'object' && value !== null && typeof (value as Envelope).e === 'number' && 'v' in value
  );
}

function isIndexRecord(value: unknown): value is IndexRecord {
  return typeof value === 'object' && value !== null && Array.isArray((value as IndexRecord).ix);
}

function unwrap(raw: unknown): unknown {
  if (!isEnvelope(raw)) return undefined;
  return raw.e > Date.now() ? raw.v : undefined;
}

/** Every key a transaction checks or writes. */
function transactionKeys(tx: Transaction): Set<string> {
  const keys = new Set<string>();
  for (const p of tx.require ?? []) keys.add(p.if === 'present' || p.if === 'absent' ? p.key : p.index);
  for (const op of tx.ops) {
    if (op.op === 'delete') for (const key of op.keys) keys.add(key);
    else keys.add(op.key);
  }
  return keys;
}

import { LRUCache } from 'lru-cache';
import type { CacheContext } from './context.js';
import { InvalidInputError } from './errors.js';
import {
  grantMembership,
  Keys,
  type Membership,
  sessionMemberships,
  tokenMemberships,
  usersMembership,
} from './records/keys.js';
import type { BatchOp, RecordBody, StoredRecord } from './store/contract.js';
import type { ExportedRecord, ImportOptions } from './types.js';

/** Grant records' key prefix (`Keys.grant`). */
const GRANTS = Keys.grant('');
/**
 * Record key prefixes that are exported and imported (indexes are not: they are rebuilt on
 * import). Grants come first: importing a token record rebuilds its indexes from its grant.
 */
export const EXPORTED_RECORD_PREFIXES: readonly string[] = [GRANTS, 'at:', 'rt:', 'rc:', 'fr:', 's:', 'x:'];
const EXPORTED = EXPORTED_RECORD_PREFIXES;

/**
 * Grants an importer keeps in memory (about 100 bytes each: about 10 MB), so that their tokens,
 * which come later in an export, find them without a read. Unbounded, a 10M-grant import would hold
 * about 1 GB. The bound is safe: a batch learns its grants before any await ({@link
 * RecordTransfer.importMany}), so only grants of batches still in flight may be missing from the
 * target, and the CLI keeps a few batches of about 1000 records in flight, far below the bound. A
 * grant pushed out was written by an earlier batch, and is read back from the target when a token
 * names it.
 */
export const GRANT_MEMORY = 100_000;

/** What a token's indexes need of its grant. */
interface GrantIndexing {
  uh: string | undefined;
  sid: string | undefined;
}

/** What importing one record did. */
export type ImportOutcome = 'written' | 'kept' | 'expired';

type IndexOp = Extract<BatchOp, { op: 'indexAdd' }>;

/**
 * Export and import of records between stores (CLI `export`, `migrate` store-to-store). Records
 * move as stored: sealed parts stay sealed, so source and target need the same secret and keys.
 * Indexes are rebuilt from each record on import, and written before the record, so a record that
 * landed is always reachable from its user and family even if a run is killed half way.
 */
export class RecordTransfer {
  readonly #ctx: CacheContext;
  /**
   * The grants imported (or read) most recently, by id: their tokens come later in an export. At
   * most `grantMemory` of them (see {@link GRANT_MEMORY}); a grant not here is read from the target.
   */
  readonly #grants: LRUCache<string, GrantIndexing>;

  /** `grantMemory`: how many grants to keep in memory (default {@link GRANT_MEMORY}; tests lower it). */
  constructor(ctx: CacheContext, grantMemory: number = GRANT_MEMORY) {
    this.#ctx = ctx;
    this.#grants = new LRUCache<string, GrantIndexing>({ max: Math.max(1, grantMemory) });
  }

  /** Every live record, grants first (see {@link EXPORTED}). */
  async *export(): AsyncIterable<ExportedRecord> {
    yield* this.#exportFrom(GRANTS);
    yield* this.#exportFrom('');
  }

  async *#exportFrom(under: string): AsyncIterable<ExportedRecord> {
    const prefix = this.#ctx.config.prefix;
    for await (const entry of this.#ctx.store.entries(prefix + under)) {
      const key = entry.key.slice(prefix.length);
      if (!EXPORTED.some((p) => key.startsWith(p))) continue;
      if (under === '' && key.startsWith(GRANTS)) continue;
      const record = entry.value as Partial<StoredRecord>;
      const expiresAt = typeof record?.exp === 'number' ? record.exp : entry.expiresAt;
      if (expiresAt === undefined || expiresAt <= Date.now()) continue;
      yield { key, value: entry.value, expiresAt };
    }
  }

  async import(record: ExportedRecord): Promise<ImportOutcome> {
    const [outcome] = await this.importMany([record]);
    return outcome!;
  }

  /**
   * Import a batch: one read of what is already there (none with `assumeAbsent`), then one
   * `writeBatch` where the store has it. A record already present with a later or equal expiry is
   * `kept` (re-runs change nothing).
   */
  async importMany(records: ExportedRecord[], options: ImportOptions = {}): Promise<ImportOutcome[]> {
    const ctx = this.#ctx;
    const now = ctx.now();
    for (const record of records) assertExported(record);
    const keys = records.map((r) => ctx.key(r.key));
    // Before any await: batches imported concurrently learn grants in the order they were given.
    const learned = this.#learnGrants(records, keys);
    const existing = keys.length > 0 && options.assumeAbsent !== true ? await ctx.store.getMany(keys) : [];
    const outcomes: ImportOutcome[] = [];
    const ops: BatchOp[] = [];
    const grants = await this.#grantsNamedBy(records, learned);
    records.forEach((record, i) => {
      const present = existing[i] as Partial<StoredRecord> | undefined;
      if (record.expiresAt <= now) {
        outcomes.push('expired');
      } else if (
        present !== undefined &&
        (typeof present?.exp !== 'number' || present.exp >= record.expiresAt)
      ) {
        outcomes.push('kept');
      } else {
        ops.push(...this.#indexOps(keys[i]!, record, grants));
        ops.push({ op: 'set', key: keys[i]!, value: record.value, ttlMs: record.expiresAt - now });
        outcomes.push('written');
      }
    });
    if (ops.length === 0) return outcomes;
    if (ctx.store.writeBatch) {
      await ctx.store.writeBatch(ops);
    } else {
      for (const op of ops) {
        if (op.op === 'set') await ctx.store.set(op.key, op.value, op.ttlMs);
        else await ctx.store.indexAdd(op.key, op.member, op.score, { now, keepGreater: op.keepGreater });
      }
    }
    return outcomes;
  }

  /**
   * Remember what the grants among `records` give their tokens' indexes. Returns them too: a batch
   * may hold more grants than memory keeps, and its own are not in the target yet.
   */
  #learnGrants(records: ExportedRecord[], keys: string[]): Map<string, GrantIndexing> {
    const learned = new Map<string, GrantIndexing>();
    records.forEach((record, i) => {
      if (!record.key.startsWith(GRANTS)) return;
      const grant = this.#ctx.codec.decode(keys[i]!, record.value);
      if (grant?.kind !== 'grant') throw new InvalidInputError('record g:… is not an oauth-cache grant');
      const id = record.key.slice(GRANTS.length);
      const indexing = indexingOf(this.#ctx, grant.body);
      learned.set(id, indexing);
      this.#grants.set(id, indexing);
    });
    return learned;
  }

  /**
   * The grants the linked token records among `records` name, by id: from this batch (`learned`),
   * from memory, or read from the target when this importer has not seen them or no longer keeps
   * them. Returned for the batch rather than looked up in memory again, which a batch naming more
   * grants than memory keeps could push out before its tokens' indexes are built.
   */
  async #grantsNamedBy(
    records: ExportedRecord[],
    learned: Map<string, GrantIndexing>,
  ): Promise<Map<string, GrantIndexing>> {
    const ctx = this.#ctx;
    const grants = new Map<string, GrantIndexing>();
    const unknown = new Set<string>();
    for (const record of records) {
      const link = (record.value as Partial<StoredRecord> | undefined)?.g;
      if (typeof link !== 'string' || grants.has(link) || unknown.has(link)) continue;
      const known = learned.get(link) ?? this.#grants.get(link);
      if (known !== undefined) grants.set(link, known);
      else unknown.add(link);
    }
    if (unknown.size === 0) return grants;
    const ids = [...unknown];
    const stored = await ctx.store.getMany(ids.map((id) => ctx.key(Keys.grant(id))));
    ids.forEach((id, i) => {
      const grant = ctx.codec.decode(ctx.key(Keys.grant(id)), stored[i]);
      if (grant?.kind !== 'grant') return;
      const indexing = indexingOf(ctx, grant.body);
      this.#grants.set(id, indexing);
      grants.set(id, indexing);
    });
    return grants;
  }

  /**
   * The index entries a record belongs to (see the key table in `store/contract.ts`); `grants`
   * holds the grants the batch's linked records name.
   */
  #indexOps(storeKey: string, record: ExportedRecord, grants: Map<string, GrantIndexing>): IndexOp[] {
    const ctx = this.#ctx;
    const relative = record.key;
    if (['x:', 'rc:', 'fr:', GRANTS].some((p) => relative.startsWith(p))) return [];
    const decoded = ctx.codec.decode(storeKey, record.value, undefined, linkedStub);
    if (decoded === undefined) {
      throw new InvalidInputError(
        `record ${relative.slice(0, relative.indexOf(':') + 1)}… is not an oauth-cache record`,
      );
    }
    const { uid, fam } = decoded.body;
    const link = (record.value as Partial<StoredRecord>).g;
    const grant = typeof link === 'string' ? grants.get(link) : undefined;
    if (typeof link === 'string' && grant === undefined) {
      throw new InvalidInputError(
        `record ${relative.slice(0, relative.indexOf(':') + 1)}… links to a grant not imported`,
      );
    }
    const sid = grant !== undefined ? grant.sid : decoded.body.sid;
    // `uh` is readable without the token (at `maximum` the user id is not).
    const userHash = grant?.uh ?? decoded.body.uh ?? (uid ? ctx.userHash(uid) : undefined);
    const exp = record.expiresAt;
    const id = relative.slice(relative.indexOf(':') + 1);
    const add = (m: Membership): IndexOp => ({
      op: 'indexAdd',
      key: ctx.key(m.key),
      member: m.member,
      score: exp,
      ...(m.keepGreater ? { keepGreater: true } : {}),
    });
    const ops: IndexOp[] = [];
    if (decoded.kind === 'access' || decoded.kind === 'refresh') {
      const sessionDigest = sid === undefined ? undefined : ctx.digester.digest(sid);
      ops.push(
        ...tokenMemberships({ kind: decoded.kind, id, userHash, familyId: fam, sessionDigest }).map(add),
      );
      if (userHash) ops.push(add(usersMembership(userHash)));
      if (userHash && fam) ops.push(add(grantMembership(userHash, fam)));
    } else if (decoded.kind === 'session' && userHash) {
      ops.push(...sessionMemberships(id, userHash).map(add));
    }
    return ops;
  }
}

/**
 * Decoding a linked token record takes a grant; its indexes come from {@link GrantIndexing}, so
 * the importer joins it with an empty grant (the codec's joins read nothing else of it).
 */
const linkedStub: StoredRecord = { v: 1, kind: 'grant', exp: Number.MAX_SAFE_INTEGER, body: {} };

function indexingOf(ctx: CacheContext, body: RecordBody): GrantIndexing {
  return { uh: body.uh ?? (body.uid ? ctx.userHash(body.uid) : undefined), sid: body.sid };
}

function assertExported(record: ExportedRecord): void {
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.key !== 'string' ||
    !EXPORTED.some((p) => record.key.startsWith(p)) ||
    typeof record.expiresAt !== 'number' ||
    !Number.isFinite(record.expiresAt)
  ) {
    throw new InvalidInputError('record needs a known key, a value and a numeric expiresAt');
  }
}

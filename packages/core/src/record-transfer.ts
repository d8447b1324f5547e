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

const GRANTS = 'g:';
/**
 * Record key prefixes that are exported and imported (indexes are not: they are rebuilt on
 * import). Grants come first: importing a token record rebuilds its indexes from its grant.
 */
export const EXPORTED_RECORD_PREFIXES: readonly string[] = [GRANTS, 'at:', 'rt:', 'rc:', 'fr:', 's:', 'x:'];
const EXPORTED = EXPORTED_RECORD_PREFIXES;

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
   * The grants imported so far (by id): their tokens come later in an export. Kept for the
   * importer's life (about 100 bytes a grant); a grant not here is read from the target.
   */
  readonly #grants = new Map<string, GrantIndexing>();

  constructor(ctx: CacheContext) {
    this.#ctx = ctx;
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
    this.#learnGrants(records, keys);
    const existing = keys.length > 0 && options.assumeAbsent !== true ? await ctx.store.getMany(keys) : [];
    const outcomes: ImportOutcome[] = [];
    const ops: BatchOp[] = [];
    await this.#readUnknownGrants(records);
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
        ops.push(...this.#indexOps(keys[i]!, record));
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

  /** Remember what the grants among `records` give their tokens' indexes. */
  #learnGrants(records: ExportedRecord[], keys: string[]): void {
    records.forEach((record, i) => {
      if (!record.key.startsWith(GRANTS)) return;
      const grant = this.#ctx.codec.decode(keys[i]!, record.value);
      if (grant?.kind !== 'grant') throw new InvalidInputError('record g:… is not an oauth-cache grant');
      this.#grants.set(record.key.slice(GRANTS.length), indexingOf(this.#ctx, grant.body));
    });
  }

  /** Read from the target the grants linked token records name that this importer has not seen. */
  async #readUnknownGrants(records: ExportedRecord[]): Promise<void> {
    const ctx = this.#ctx;
    const unknown = new Set<string>();
    for (const record of records) {
      const link = (record.value as Partial<StoredRecord> | undefined)?.g;
      if (typeof link === 'string' && !this.#grants.has(link)) unknown.add(link);
    }
    if (unknown.size === 0) return;
    const ids = [...unknown];
    const stored = await ctx.store.getMany(ids.map((id) => ctx.key(Keys.grant(id))));
    ids.forEach((id, i) => {
      const grant = ctx.codec.decode(ctx.key(Keys.grant(id)), stored[i]);
      if (grant?.kind === 'grant') this.#grants.set(id, indexingOf(ctx, grant.body));
    });
  }

  /** The index entries a record belongs to (see the key table in `store/contract.ts`). */
  #indexOps(storeKey: string, record: ExportedRecord): IndexOp[] {
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
    const grant = typeof link === 'string' ? this.#grants.get(link) : undefined;
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

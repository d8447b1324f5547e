import type { CacheContext } from './context.js';
import type { DecodedRecord } from './records/codec.js';
import { readFamilyMembers } from './records/family-members.js';
import { grantMembership, Keys, recordKeyOfMember, tokenMemberships } from './records/keys.js';
import type { Precondition, TxOp } from './store/contract.js';

/** Reads token records (prefixed keys) with their grants and decodes them without tokens. */
export type RecordReader = (keys: string[], grantIds?: string[]) => Promise<Array<DecodedRecord | undefined>>;

/** A token record as a revocation found it: its index member, and the record when still there. */
export interface FoundToken {
  /** Index member, `a:<id>` or `r:<id>`. */
  member: string;
  record: DecodedRecord | undefined;
  /** Named by its legacy family's id, not stored in the index (`records/family-members.ts`). */
  implied?: true;
}

/**
 * What revoking a set of tokens writes, built from one read of them: delete the records, take
 * them out of every index they belong to, mark their families revoked. Applied with ONE
 * `commit`, under a `count` precondition on the index the tokens were read from, so a token that
 * joined it meanwhile (a concurrent rotation) makes the commit fail and the caller read again
 * instead of leaving it alive.
 */
export interface Revocation {
  require: Precondition[];
  ops: TxOp[];
  /** Records deleted (live when read). */
  count: number;
  /** Families of the tokens (and the one named, for a family revocation). */
  families: Set<string>;
}

/** The one place that turns "these tokens go" into store writes (token, rotation, session services). */
export class RevocationPlanner {
  readonly #ctx: CacheContext;
  readonly #read: RecordReader;

  /** `read` reads token records with their grants (`TokenService.readRecords`). */
  constructor(ctx: CacheContext, read: RecordReader) {
    this.#ctx = ctx;
    this.#read = read;
  }

  /** Read the live members of the index at `indexKey` (prefixed) and their records: two reads. */
  async read(indexKey: string, now: number): Promise<FoundToken[]> {
    const members = (await this.#ctx.store.indexRange(indexKey, now)).map((e) => e.member);
    return this.#records(members);
  }

  /** {@link read} of a family's tokens index, with the token a legacy family's id names. */
  async readFamily(familyId: string, now: number): Promise<FoundToken[]> {
    const { members, implied } = await readFamilyMembers(this.#ctx, familyId, now);
    // The family's grant is read with its tokens: one batch.
    const found = await this.#records(members, [familyId]);
    if (implied === undefined) return found;
    const last = found.pop()!;
    // Only a record of this very family: the id is a name, not a proof of membership.
    if (last.record?.body.fam === familyId) found.push({ ...last, implied: true });
    return found;
  }

  async #records(members: string[], grantIds?: string[]): Promise<FoundToken[]> {
    if (members.length === 0) return [];
    const ctx = this.#ctx;
    const keys = members.map((m) => ctx.key(recordKeyOfMember(m)));
    const records = await this.#read(keys, grantIds);
    return members.map((member, i) => ({ member, record: records[i] }));
  }

  /**
   * Revoke `found` (read from the index at `indexKey`, whose members they all are). `markFamilies`
   * leaves a `family-revoked` marker for each family (and for `extraFamily`), so what a concurrent
   * rotation writes into it is refused; `dropIndexes` are deleted whole (the family's, the user's).
   */
  plan(
    indexKey: string,
    found: FoundToken[],
    now: number,
    options: { markFamilies: boolean; extraFamily?: string; dropIndexes?: string[] },
  ): Revocation {
    const ctx = this.#ctx;
    const removals = new IndexRemovals();
    const families = new Set<string>();
    if (options.extraFamily !== undefined) families.add(options.extraFamily);
    let count = 0;
    const recordKeys: string[] = [];
    for (const { member, record } of found) {
      recordKeys.push(ctx.key(recordKeyOfMember(member)));
      // Whatever the record says, the member leaves the global index: it counts toward maxTokens.
      removals.add(ctx.key(Keys.tokens), member);
      if (record === undefined || (record.kind !== 'access' && record.kind !== 'refresh')) continue;
      if (record.exp > now) count += 1;
      const fam = record.body.fam;
      const userHash = this.userHashOf(record);
      if (fam !== undefined) families.add(fam);
      for (const m of tokenMemberships({
        kind: record.kind,
        id: member.slice(2),
        userHash,
        familyId: fam,
        sessionDigest: record.body.sid === undefined ? undefined : ctx.digester.digest(record.body.sid),
      })) {
        removals.add(ctx.key(m.key), m.member);
      }
      // Every token of the family is among `found` (a family's tokens share its user and session).
      if (userHash !== undefined && fam !== undefined) {
        const g = grantMembership(userHash, fam);
        removals.add(ctx.key(g.key), g.member);
      }
    }
    const ops: TxOp[] = [];
    if (options.markFamilies) for (const fam of families) ops.push(this.familyMarker(fam, now));
    // A revoked family's grant goes with it (a session's tokens alone leave their grants to expire).
    if (options.markFamilies) for (const fam of families) recordKeys.push(ctx.key(Keys.grant(fam)));
    if (recordKeys.length) ops.push({ op: 'delete', keys: recordKeys });
    const dropped = new Set(options.dropIndexes ?? []);
    ops.push(...removals.ops(dropped));
    for (const key of dropped) ops.push({ op: 'indexDelete', key });
    return {
      require: [{ if: 'count', index: indexKey, equals: found.filter((f) => !f.implied).length }],
      ops,
      count,
      families,
    };
  }

  /** The `family-revoked` marker of `familyId` (lives as long as a refresh token could). */
  familyMarker(familyId: string, now: number): TxOp {
    const ctx = this.#ctx;
    const key = ctx.key(Keys.familyRevoked(familyId));
    const exp = now + ctx.config.refreshTokenTtl * 1000;
    return {
      op: 'set',
      key,
      value: ctx.codec.encode(key, 'family-revoked', exp, { fam: familyId, at: now }),
      ttlMs: exp - now,
    };
  }

  /** Take one token record (already read) out of every index it belongs to. */
  unindexOps(record: DecodedRecord, id: string): TxOp[] {
    const ctx = this.#ctx;
    if (record.kind !== 'access' && record.kind !== 'refresh') return [];
    const { fam, sid } = record.body;
    return tokenMemberships({
      kind: record.kind,
      id,
      userHash: this.userHashOf(record),
      familyId: fam,
      sessionDigest: sid === undefined ? undefined : ctx.digester.digest(sid),
    }).map((m) => ({ op: 'indexRemove', key: ctx.key(m.key), members: [m.member] }));
  }

  /** The user-index digest of a record: stored since `uh` exists, else from its user id. */
  userHashOf(record: DecodedRecord): string | undefined {
    const { uh, uid } = record.body;
    return uh ?? (uid ? this.#ctx.userHash(uid) : undefined);
  }
}

/** Index removals grouped per index: one `indexRemove` op per index however many tokens go. */
class IndexRemovals {
  readonly #byIndex = new Map<string, Set<string>>();

  add(key: string, member: string): void {
    let members = this.#byIndex.get(key);
    if (!members) {
      members = new Set();
      this.#byIndex.set(key, members);
    }
    members.add(member);
  }

  /** The ops, leaving out indexes deleted whole. */
  ops(dropped: Set<string>): TxOp[] {
    const out: TxOp[] = [];
    for (const [key, members] of this.#byIndex) {
      if (!dropped.has(key)) out.push({ op: 'indexRemove', key, members: [...members] });
    }
    return out;
  }
}

import { randomBytes } from 'node:crypto';
import type { CacheContext } from './context.js';
import { InvalidInputError } from './errors.js';
import { type HotToken, HotTokens, heldRecord } from './hot-tokens.js';
import { assertScopes, assertToken, assertUserId, isPlausibleToken, seconds } from './limits.js';
import { grantRefOf, PendingGrant } from './pending-grant.js';
import { type DecodedRecord, type GrantRef, grantBody } from './records/codec.js';
import {
  ACCESS_MEMBER,
  grantMembership,
  Keys,
  recordKeyOfMember,
  tokenMemberships,
  usersMembership,
} from './records/keys.js';
import {
  type BatchOp,
  grantIdOf,
  type Held,
  type Precondition,
  type RecordBody,
  type TxOp,
} from './store/contract.js';
import { oldestBeyond, TokenCaps } from './token-caps.js';
import { RevocationPlanner } from './token-revocation.js';
import type {
  StoredTokenInfo,
  StoreTokenInput,
  StoreTokensOptions,
  TokenListing,
  TokenValidation,
} from './types.js';
import { VALIDATION_MEMO_MAX } from './validation-memo.js';

/** A new random opaque token: 32 bytes, base64url (43 characters). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Storing, validating, listing and revoking tokens. Every token is kept under the keyed digest of
 * its value and belongs to a family (the grant), which is what reuse detection revokes.
 */
export class TokenService {
  readonly #ctx: CacheContext;
  readonly #caps: TokenCaps;
  readonly #revocations: RevocationPlanner;
  /** The access tokens validated lately: their keys and the handles of what they read. */
  readonly #hotTokens: HotTokens;

  constructor(ctx: CacheContext) {
    this.#ctx = ctx;
    this.#hotTokens = new HotTokens(VALIDATION_MEMO_MAX);
    this.#caps = new TokenCaps(ctx, (keys) => this.readRecords(keys));
    this.#revocations = new RevocationPlanner(ctx, (keys, grants) => this.readRecords(keys, grants));
  }

  /** How revocations are written (shared with rotation and sessions). */
  get revocations(): RevocationPlanner {
    return this.#revocations;
  }

  /** The caps (rotation judges room with them). */
  get caps(): TokenCaps {
    return this.#caps;
  }

  /**
   * Store one issuance, as ONE store commit after at most one read (the user's grants). Unless
   * `options.evict` is false, it is judged against the caps (see `TokenCaps`): a new grant beyond
   * `maxGrantsPerUser` revokes the user's own oldest grant in the same commit (which then needs
   * two more reads to find it), and a token that would take the cache above `maxTokens` is refused
   * with `CapacityError`, judged inside the commit so racing issuances cannot overshoot it.
   */
  storeToken(input: StoreTokenInput, options: StoreTokensOptions = {}): Promise<StoredTokenInfo> {
    return this.#store(input, options, 0);
  }

  async #store(
    input: StoreTokenInput,
    options: StoreTokensOptions,
    attempt: number,
    joining = false,
  ): Promise<StoredTokenInfo> {
    const ctx = this.#ctx;
    const started = performance.now();
    const now = ctx.now();
    const ops: TxOp[] = [];
    assertUserId(input.userId);
    const pending = pendingGrantOf(input);
    const familyId = pending?.id ?? input.familyId ?? randomToken();
    const victims =
      options.evict === false
        ? []
        : await this.#caps.admit(
            {
              userId: input.userId,
              familyId,
              explicitFamily: input.familyId !== undefined || pending !== undefined,
            },
            now,
          );
    const carried: Carried = pending ? { grant: pending } : joining ? selfContained : {};
    const info = this.#plan({ ...input, familyId }, carried, now, ops);
    const require: Precondition[] = [];
    // A pending grant's key came with its code; a family of the caller's naming is guarded.
    const guard =
      input.familyId !== undefined && !joining && !pending ? this.newGrantGuard(familyId) : undefined;
    if (guard) require.push(guard);
    let evicted = 0;
    if (options.evict !== false) {
      let freed = 0;
      for (const familyId of victims) {
        const found = await this.#revocations.readFamily(familyId, now);
        const revocation = this.#revocations.plan(ctx.key(Keys.familyTokens(familyId)), found, now, {
          markFamilies: true,
          extraFamily: familyId,
          dropIndexes: [ctx.key(Keys.familyTokens(familyId))],
        });
        // The last attempt goes without: a grant that keeps changing is still revoked, once.
        if (attempt < 2) require.push(...revocation.require);
        ops.unshift(...revocation.ops);
        freed += found.length;
        evicted += revocation.count;
      }
      require.push(this.#caps.room(tokensIn(input) - freed));
    }
    const result = await ctx.store.commit({ now, require, ops });
    if (!result.ok) {
      const failed = require[result.failed]!;
      if (failed.if === 'room') {
        return this.#caps.refuse(tokensIn(input), 'store', { userId: input.userId, familyId: info.familyId });
      }
      if (failed === guard) return this.#store(input, options, attempt, true);
      // A victim grant changed while we read it: judge the issuance again from fresh reads.
      return this.#store(input, options, attempt + 1);
    }
    ctx.counters.tokens.evicted += evicted;
    ctx.counters.tokens.revoked += evicted;
    for (const familyId of victims) {
      ctx.security({ type: 'family_revoked', familyId, reason: 'grant_cap' });
      ctx.operation('token', 'evict', 'ok', started);
    }
    ctx.counters.tokens.stored += 1;
    ctx.operation('token', 'store', 'ok', started);
    return info;
  }

  /**
   * The one rule for tokens issued into a family the caller named without holding its grant's key
   * (`storeToken` with `familyId`, the rotation of a self-contained token): a grant of that family
   * may exist already, whose key only its live tokens unwrap, and a new grant record would take it
   * from them. The issuing commit requires it absent (so a new grant costs no extra read); when the
   * commit fails on this very precondition (`require[failed] === guard`), the issuer writes again
   * with self-contained tokens (`selfContained`), which hold everything themselves. `storeTokens`
   * applies the same rule from one read, a batch having no preconditions.
   */
  newGrantGuard(familyId: string): Precondition {
    return { if: 'absent', key: this.#ctx.key(Keys.grant(familyId)) };
  }

  /**
   * Plan one issuance without writing it: its info and the ops that write it (appended to `ops`).
   * Refresh rotation commits them with the consumption of the presented token. `carried.rot` is
   * the rotation counter of the new refresh token; `carried.grant`, the grant the tokens join
   * (decoded with a token of it, so with its key): its key is wrapped for them and the grant is
   * kept until the longest of them expires. Without it, a new grant record is written, or with
   * `carried.selfContained`, none (the tokens hold everything themselves).
   */
  planIssue(
    input: StoreTokenInput,
    carried: { rot?: number; grant?: GrantRef; selfContained?: true },
    now: number,
    ops: TxOp[],
  ): StoredTokenInfo {
    return this.#plan(input, carried, now, ops);
  }

  /**
   * Store many tokens at once (migrations). Uses the store's `writeBatch` (one transaction or
   * pipeline) when it has one. Unless `options.evict` is false, a batch that would take the cache
   * above `maxTokens` is refused whole (`CapacityError`, nothing written), and afterwards each
   * user of the batch keeps at most `maxGrantsPerUser` grants (their oldest revoked; equal issue
   * times: the batch's own grants count as newer, in input order).
   */
  async storeTokens(inputs: StoreTokenInput[], options: StoreTokensOptions = {}): Promise<StoredTokenInfo[]> {
    const ctx = this.#ctx;
    // A code's grant joins one issuance, judged and written as one.
    if (inputs.some((input) => input.pendingGrant !== undefined)) {
      throw new InvalidInputError('pendingGrant is taken by storeToken only');
    }
    const judged = options.evict !== false;
    const judgeRoom = () =>
      this.#caps.assertRoom(
        inputs.reduce((sum, input) => sum + tokensIn(input), 0),
        ctx.now(),
        'store_batch',
      );
    if (!ctx.store.writeBatch) {
      // One by one, each judged as `storeToken` judges it, after the batch as a whole.
      if (judged) await judgeRoom();
      const out: StoredTokenInfo[] = [];
      for (const input of inputs)
        out.push(await this.#store(input, options, 0, options.selfContained === true));
      return out;
    }
    const started = performance.now();
    const now = ctx.now();
    const ops: BatchOp[] = [];
    const infos: StoredTokenInfo[] = [];
    const joining = options.selfContained === true ? undefined : await this.#familiesWithGrants(inputs);
    // Inputs of one family share the grant the first of them writes.
    const batch = new Map<string, GrantRef>();
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const carried =
        joining === undefined || (input.familyId !== undefined && joining.has(input.familyId))
          ? selfContained
          : { batch };
      infos.push(this.#plan(input, carried, now, ops));
    }
    if (judged) await judgeRoom();
    await ctx.store.writeBatch(ops);
    if (judged) await this.#capGrantsOfBatch(inputs, infos, now);
    ctx.counters.tokens.stored += inputs.length;
    ctx.operation('token', 'store_batch', 'ok', started);
    return infos;
  }

  /**
   * The families a batch names that have a grant already (one read): their tokens are written
   * self-contained ({@link newGrantGuard}'s rule).
   */
  async #familiesWithGrants(inputs: StoreTokenInput[]): Promise<Set<string>> {
    const named = [...new Set(inputs.flatMap((i) => (i.familyId === undefined ? [] : [i.familyId])))];
    if (named.length === 0) return new Set();
    const ctx = this.#ctx;
    const grants = await ctx.store.getMany(named.map((f) => ctx.key(Keys.grant(f))));
    return new Set(named.filter((_, i) => grants[i] !== undefined));
  }

  /** After a batch: each of its users keeps at most `maxGrantsPerUser` grants. */
  async #capGrantsOfBatch(inputs: StoreTokenInput[], infos: StoredTokenInfo[], now: number): Promise<void> {
    const written = new Map<string, string[]>();
    inputs.forEach((input, i) => {
      const families = written.get(input.userId) ?? [];
      families.push(infos[i]!.familyId);
      written.set(input.userId, families);
    });
    for (const [userId, families] of written) {
      const grants = await this.#caps.grantsOf(userId, now);
      if (grants.size <= this.#ctx.config.maxGrantsPerUser) continue;
      const batch = new Set(families);
      const ordered = [
        ...[...grants.values()].filter((g) => !batch.has(g.familyId)),
        ...[...batch].flatMap((f) => grants.get(f) ?? []),
      ];
      for (const grant of oldestBeyond(ordered, this.#ctx.config.maxGrantsPerUser)) {
        await this.#evictGrant(grant.familyId);
      }
    }
  }

  /** Revoke a grant for the per-user grant cap (a `family_revoked` event with reason `grant_cap`). */
  async #evictGrant(familyId: string): Promise<void> {
    const started = performance.now();
    this.#ctx.counters.tokens.evicted += await this.revokeFamily(familyId, 'grant_cap');
    this.#ctx.operation('token', 'evict', 'ok', started);
  }

  /**
   * Validate one input and append every record and index entry it produces to `ops`. No I/O.
   * The ops are the store's batch ops as they are: a bulk import writes millions, so nothing is
   * built twice.
   */
  #plan(
    input: StoreTokenInput,
    carried: Carried,
    now: number,
    ops: { push(op: BatchOp): unknown },
  ): StoredTokenInfo {
    const ctx = this.#ctx;
    assertUserId(input.userId);
    if (input.accessToken === undefined && input.refreshToken === undefined) {
      throw new InvalidInputError('storeToken needs an accessToken or a refreshToken');
    }
    if (input.accessToken !== undefined) assertToken(input.accessToken, 'accessToken');
    if (input.refreshToken !== undefined) assertToken(input.refreshToken, 'refreshToken');
    assertScopes(input.scopes);
    const familyId = input.familyId ?? randomToken();
    const uh = ctx.userHash(input.userId);
    const existing = carried.grant ?? carried.batch?.get(familyId);
    if (existing !== undefined && existing.key === undefined && ctx.config.securityLevel !== 'basic') {
      // Wrapping needs the key, which only a decoding with a token of the grant gives.
      throw new Error('a grant is extended only with its key');
    }
    const grantKey =
      carried.selfContained === true
        ? undefined
        : existing === undefined
          ? ctx.codec.newGrantKey()
          : existing.key;
    // What the grant holds (and a self-contained token, with what is its own).
    const shared = grantBody(input, familyId, uh, now);
    // What a token of an existing grant holds of its own: where it differs from the grant.
    const own: RecordBody = {};
    if (existing !== undefined) {
      own.iat = now;
      if (!sameScopes(existing.body.scp, shared.scp!)) own.scp = shared.scp;
      if ((existing.body.typ ?? 'Bearer') !== shared.typ) own.typ = shared.typ;
    }
    const info: StoredTokenInfo = { familyId };
    // A pending grant's tokens are bound to its session.
    const session = existing?.body.sid ?? input.sessionId;
    const sessionDigest = session === undefined ? undefined : ctx.digester.digest(session);
    const add = (kind: 'access' | 'refresh', id: string, exp: number, mine: RecordBody, token: string) => {
      const key = ctx.key(kind === 'access' ? Keys.access(id) : Keys.refresh(id));
      const value = carried.selfContained
        ? ctx.codec.encode(key, kind, exp, mine === own ? shared : { ...shared, ...mine }, token)
        : ctx.codec.encodeLinked(key, kind, exp, { id: familyId, key: grantKey }, mine, token);
      ops.push({ op: 'set', key, value, ttlMs: exp - now });
      for (const m of tokenMemberships({ kind, id, userHash: uh, familyId, sessionDigest })) {
        ops.push({ op: 'indexAdd', key: ctx.key(m.key), member: m.member, score: exp });
      }
    };

    let maxExp = 0;
    if (input.accessToken !== undefined) {
      const exp = input.expiresAt ?? now + seconds(input.expiresIn, ctx.config.tokenTtl, 'expiresIn') * 1000;
      if (!(exp > now)) throw new InvalidInputError('the access token is already expired');
      const id = ctx.digester.digest(input.accessToken);
      add('access', id, exp, input.retrievable ? { ...own, tok: input.accessToken } : own, input.accessToken);
      info.accessTokenId = id;
      info.expiresAt = exp;
      maxExp = exp;
    }
    if (input.refreshToken !== undefined) {
      const exp =
        input.refreshExpiresAt ??
        now + seconds(input.refreshExpiresIn, ctx.config.refreshTokenTtl, 'refreshExpiresIn') * 1000;
      if (!(exp > now)) throw new InvalidInputError('the refresh token is already expired');
      const id = ctx.digester.digest(input.refreshToken);
      const rot = carried.rot ?? input.rotation ?? 0;
      const mine: RecordBody = rot > 0 ? { ...own, rot } : own;
      add(
        'refresh',
        id,
        exp,
        input.retrievable ? { ...mine, tok: input.refreshToken } : mine,
        input.refreshToken,
      );
      info.refreshTokenId = id;
      info.refreshExpiresAt = exp;
      maxExp = Math.max(maxExp, exp);
    }
    const grantKeyName = ctx.key(Keys.grant(familyId));
    // Self-contained tokens hold what a grant record would: nothing more to write for them.
    if (!carried.selfContained && existing === undefined) {
      const value = ctx.codec.encodeGrant(familyId, maxExp, shared, grantKey);
      ops.push({ op: 'set', key: grantKeyName, value, ttlMs: maxExp - now });
      carried.batch?.set(familyId, {
        id: familyId,
        stored: value,
        body: shared,
        ...(grantKey ? { key: grantKey } : {}),
      });
    } else if (existing !== undefined && maxExp > existing.stored.exp) {
      // The grant lives as long as its longest token: the same record, a later expiry.
      const value = { ...existing.stored, exp: maxExp };
      ops.push({ op: 'set', key: grantKeyName, value, ttlMs: maxExp - now });
      carried.batch?.set(familyId, { ...existing, stored: value });
    }
    // The users index keeps a user while any of their tokens lives; a later, shorter token must
    // not shorten it, hence "greatest" semantics on re-add.
    for (const m of [usersMembership(uh), grantMembership(uh, familyId)]) {
      ops.push({ op: 'indexAdd', key: ctx.key(m.key), member: m.member, score: maxExp, keepGreater: true });
    }
    return info;
  }

  /**
   * The hot path: one digest (remembered for tokens that validated lately), one store read (at
   * once when the store holds the record in this process: `hold`; for a hot token, the handles
   * kept from its last validation, which the store confirms without a lookup), no write.
   */
  async validateAccessToken(token: string): Promise<TokenValidation | null> {
    const ctx = this.#ctx;
    const started = ctx.events.listenerCount('operation') > 0 ? performance.now() : 0;
    ctx.counters.tokens.validations += 1;
    if (!isPlausibleToken(token)) return this.#reject('malformed', started);
    const store = ctx.store;
    const hot = this.#hotTokens.recall(token);
    let record = hot === undefined ? undefined : heldRecord(hot, store);
    let entry: HotToken;
    if (record !== undefined) {
      entry = hot!;
    } else {
      entry = hot ?? this.#coldEntry(token);
      record = await this.#read(entry, token, started);
    }
    const id = entry.id;
    const now = ctx.now();
    if (record === undefined || record.kind !== 'access') {
      ctx.codec.validations.forget(id);
      return this.#reject('miss', started, id);
    }
    if (record.exp <= now) {
      ctx.codec.validations.forget(id);
      ctx.counters.tokens.expired += 1;
      return this.#reject('expired', started, id);
    }
    if (record.body.sid !== undefined && !(await this.#sessionAlive(record.body.sid, now))) {
      return this.#reject('session_ended', started, id);
    }
    ctx.counters.tokens.hits += 1;
    if (hot === undefined) this.#hotTokens.remember(token, entry);
    if (started) ctx.operation('token', 'validate', 'hit', started);
    return toValidation(record, now, ctx.config.refreshThreshold);
  }

  /** The keys of a token not validated lately. */
  #coldEntry(token: string): HotToken {
    const id = this.#ctx.digester.digest(token);
    const key = this.#ctx.key(Keys.access(id));
    return {
      id,
      key,
      grantId: undefined,
      grantKey: undefined,
      record: undefined,
      grant: undefined,
      touchedAt: Date.now(),
    };
  }

  /**
   * Read and open the record of a validation (with its grant), updating `entry` with what was read:
   * the grant's keys, and the store's handles with the opened record on the token record's handle
   * when the store holds both in process (the next validation then only asks `stillHolds`).
   */
  async #read(entry: HotToken, token: string, started: number): Promise<DecodedRecord | undefined> {
    const ctx = this.#ctx;
    const store = ctx.store;
    const held = store.hold?.(entry.key);
    let raw: unknown;
    let grant: unknown;
    let grantHeld: Held | null | undefined;
    try {
      if (held === undefined) [raw, grant] = await this.readWithGrant(entry.key);
      else {
        raw = held.value;
        const link = grantIdOf(raw);
        if (link === undefined) grantHeld = null;
        else {
          if (entry.grantId !== link) {
            entry.grantId = link;
            entry.grantKey = ctx.key(Keys.grant(link));
          }
          grantHeld = store.hold!(entry.grantKey!);
          // A grant held in process comes at once: no promise on the hot path.
          grant = grantHeld === undefined ? await store.get(entry.grantKey!) : grantHeld.value;
        }
      }
    } catch (error) {
      ctx.failure('token', 'validate', error, started);
      throw error;
    }
    // The store was read above whatever the memos hold: they only spare re-opening the same bytes
    // (the same objects from the memory store or the L1, else the same sealed text re-read).
    const memo = ctx.codec.validations;
    let record = ctx.codec.decodedWithToken(raw, grant) ?? memo.recall(entry.id, raw, grant);
    if (record === undefined) {
      record = this.#decode(entry.key, raw, token, grant);
      if (record !== undefined && record.kind === 'access')
        memo.remember(entry.id, raw, record, ctx.now(), grant);
    }
    entry.record = held;
    entry.grant = grantHeld;
    if (held !== undefined && grantHeld !== undefined && record?.kind === 'access') held.derived = record;
    return record;
  }

  /** Metadata of a live refresh token, or `null`. */
  async inspectRefreshToken(token: string): Promise<TokenValidation | null> {
    const ctx = this.#ctx;
    if (!isPlausibleToken(token)) return null;
    const key = ctx.key(Keys.refresh(ctx.digester.digest(token)));
    const record = await this.readRecord(key, token);
    const now = ctx.now();
    if (record === undefined || record.kind !== 'refresh' || record.exp <= now) return null;
    return toValidation(record, now, ctx.config.refreshThreshold);
  }

  async getTokensForUser(userId: string): Promise<TokenListing[]> {
    const ctx = this.#ctx;
    assertUserId(userId);
    const now = ctx.now();
    const indexKey = ctx.key(Keys.userTokens(ctx.userHash(userId)));
    const entries = await ctx.store.indexRange(indexKey, now);
    const keys = entries.map((e) => ctx.key(recordKeyOfMember(e.member)));
    const records = await this.readRecords(keys);
    const listing: TokenListing[] = [];
    const stale: string[] = [];
    entries.forEach((entry, i) => {
      const record = records[i];
      if (!record || record.exp <= now || (record.kind !== 'access' && record.kind !== 'refresh')) {
        stale.push(entry.member);
        return;
      }
      listing.push({
        id: entry.member.slice(2),
        kind: record.kind,
        familyId: record.body.fam ?? '',
        clientId: record.body.cid,
        scopes: record.body.scp ?? [],
        resource: record.body.res,
        issuedAt: record.body.iat ?? 0,
        expiresAt: record.exp,
        sessionId: record.body.sid,
      });
    });
    if (stale.length) await ctx.store.indexRemove(indexKey, stale);
    return listing;
  }

  /**
   * Revoke one token given raw. A refresh token takes its whole family with it (RFC 7009 §2.1:
   * revoking a refresh token should also invalidate the access tokens of the same grant).
   */
  async revokeToken(token: string): Promise<boolean> {
    const ctx = this.#ctx;
    if (!isPlausibleToken(token)) return false;
    const id = ctx.digester.digest(token);
    return this.revokeTokenById(id, token);
  }

  /**
   * Revoke by the id `getTokensForUser` lists (the digest). `token`, when the caller has it, opens
   * the private part (the user id of the security event at `maximum`). An access token goes alone
   * (one read, one commit); a refresh token takes its family.
   */
  async revokeTokenById(id: string, token?: string): Promise<boolean> {
    const ctx = this.#ctx;
    const started = performance.now();
    const accessKey = ctx.key(Keys.access(id));
    const refreshKey = ctx.key(Keys.refresh(id));
    const [accessRead, refreshRead] = await this.readStored([accessKey, refreshKey]);
    const access = this.#decode(accessKey, accessRead!.value, token, accessRead!.grant);
    if (access?.kind === 'access') {
      const result = await ctx.store.commit({
        now: ctx.now(),
        require: [{ if: 'present', key: accessKey }],
        ops: [{ op: 'delete', keys: [accessKey] }, ...this.#revocations.unindexOps(access, id)],
      });
      if (!result.ok) {
        ctx.operation('token', 'revoke', 'miss', started);
        return false;
      }
      // What was opened for it leaves memory now, not when pushed out.
      ctx.codec.validations.forget(id);
      ctx.counters.tokens.revoked += 1;
      ctx.security({
        type: 'token_revoked',
        userId: access.body.uid,
        familyId: access.body.fam,
        tokenId: id,
      });
      ctx.operation('token', 'revoke', 'ok', started);
      return true;
    }
    const refresh = this.#decode(refreshKey, refreshRead!.value, undefined, refreshRead!.grant);
    if (refresh?.body.fam) {
      await this.revokeFamily(refresh.body.fam, 'refresh_token_revoked');
      ctx.operation('token', 'revoke', 'ok', started);
      return true;
    }
    ctx.operation('token', 'revoke', 'miss', started);
    return false;
  }

  /**
   * Revoke every token of a family and leave a marker so tokens a concurrent rotation writes into
   * the family afterwards are refused too. Two reads (the family's tokens), one commit.
   */
  async revokeFamily(familyId: string, reason = 'revoked'): Promise<number> {
    const ctx = this.#ctx;
    if (typeof familyId !== 'string' || familyId.length === 0)
      throw new InvalidInputError('familyId must be a non-empty string');
    const indexKey = ctx.key(Keys.familyTokens(familyId));
    const { count: deleted } = await this.#revokeIndexed(indexKey, {
      family: familyId,
      dropIndexes: [indexKey],
    });
    ctx.counters.tokens.revoked += deleted;
    ctx.security({ type: 'family_revoked', familyId, reason });
    return deleted;
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return (await this.#ctx.store.get(this.#ctx.key(Keys.familyRevoked(familyId)))) !== undefined;
  }

  /** Revoke every token of a user and mark each of their families revoked: two reads, one commit. */
  async revokeUserTokens(userId: string): Promise<number> {
    const ctx = this.#ctx;
    assertUserId(userId);
    const count = await this.revokeUserTokensByHash(ctx.userHash(userId), 'user_revoked');
    ctx.security({ type: 'user_revoked', userId, reason: `${count} tokens` });
    return count;
  }

  /**
   * {@link revokeUserTokens} by the user-index digest (the operator directory has no user id at
   * `maximum`): a `family_revoked` event with `familyReason` per family, no `user_revoked` event.
   * Resolves how many live tokens were deleted.
   */
  async revokeUserTokensByHash(userHash: string, familyReason: string): Promise<number> {
    const ctx = this.#ctx;
    const indexKey = ctx.key(Keys.userTokens(userHash));
    const { count, families } = await this.#revokeIndexed(indexKey, {
      dropIndexes: [indexKey, ctx.key(Keys.userGrants(userHash))],
      dropFamilyIndexes: true,
    });
    ctx.counters.tokens.revoked += count;
    for (const familyId of families) ctx.security({ type: 'family_revoked', familyId, reason: familyReason });
    return count;
  }

  /**
   * Revoke every token of the index at `indexKey` (prefixed) in one commit, read again when a
   * token joined or left it meanwhile (a concurrent rotation); the third attempt commits without
   * that check. Resolves how many live tokens were deleted.
   */
  async #revokeIndexed(
    indexKey: string,
    /** `family`: the index is that family's tokens index (its legacy token is implied; it is marked revoked even when empty). */
    options: { family?: string; dropIndexes: string[]; dropFamilyIndexes?: boolean },
  ): Promise<{ count: number; families: Set<string> }> {
    const ctx = this.#ctx;
    for (let attempt = 0; ; attempt++) {
      const now = ctx.now();
      const found =
        options.family === undefined
          ? await this.#revocations.read(indexKey, now)
          : await this.#revocations.readFamily(options.family, now);
      const families = new Set(found.flatMap((f) => (f.record?.body.fam ? [f.record.body.fam] : [])));
      const dropIndexes = [
        ...options.dropIndexes,
        ...(options.dropFamilyIndexes ? [...families].map((f) => ctx.key(Keys.familyTokens(f))) : []),
      ];
      const revocation = this.#revocations.plan(indexKey, found, now, {
        markFamilies: true,
        ...(options.family !== undefined ? { extraFamily: options.family } : {}),
        dropIndexes,
      });
      const result = await ctx.store.commit({
        now,
        require: attempt < 2 ? revocation.require : [],
        ops: revocation.ops,
      });
      if (result.ok) {
        for (const { member } of found)
          if (member.startsWith(ACCESS_MEMBER)) ctx.codec.validations.forget(member.slice(2));
        return revocation;
      }
    }
  }

  /**
   * Decode a stored value (with `token`, its private part too), reporting (not throwing) records
   * that no configured key opens.
   */
  decodeRecord(key: string, value: unknown, token?: string, grant?: unknown): DecodedRecord | undefined {
    return this.#decode(key, value, token, grant);
  }

  /**
   * Read token records (prefixed keys) with the grants they link to: one batch read, and one more
   * for the grants unless `grantIds` named them all (a family's revocation knows its grant).
   */
  async readStored(keys: string[], grantIds: string[] = []): Promise<StoredRead[]> {
    const ctx = this.#ctx;
    if (keys.length === 0) return [];
    const grantKeys = grantIds.map((g) => ctx.key(Keys.grant(g)));
    const values = await ctx.store.getMany([...keys, ...grantKeys]);
    const grants = new Map<string, unknown>(grantIds.map((g, i) => [g, values[keys.length + i]]));
    const missing = new Set<string>();
    for (let i = 0; i < keys.length; i++) {
      const link = grantIdOf(values[i]);
      if (link !== undefined && !grants.has(link)) missing.add(link);
    }
    if (missing.size > 0) {
      const ids = [...missing];
      const read = await ctx.store.getMany(ids.map((g) => ctx.key(Keys.grant(g))));
      for (let i = 0; i < ids.length; i++) grants.set(ids[i]!, read[i]);
    }
    return keys.map((_, i) => {
      const link = grantIdOf(values[i]);
      return { value: values[i], grant: link === undefined ? undefined : grants.get(link) };
    });
  }

  /** {@link readStored}, decoded without tokens (what the server's keys open). */
  async readRecords(keys: string[], grantIds?: string[]): Promise<Array<DecodedRecord | undefined>> {
    const read = await this.readStored(keys, grantIds);
    return read.map(({ value, grant }, i) => this.#decode(keys[i]!, value, undefined, grant));
  }

  /** One token record with its grant (one store operation where the store has `getWithGrant`). */
  async readRecord(key: string, token?: string): Promise<DecodedRecord | undefined> {
    const [value, grant] = await this.readWithGrant(key);
    return this.#decode(key, value, token, grant);
  }

  /** One stored value and the grant record it links to, as read (one store operation where the store has `getWithGrant`). */
  async readWithGrant(key: string): Promise<[unknown, unknown]> {
    const store = this.#ctx.store;
    if (store.getWithGrant) return store.getWithGrant(key, this.#ctx.key(Keys.grant('')));
    const value = await store.get(key);
    return [value, await this.#grantOf(value)];
  }

  /** The grant record `value` links to (at once when the store holds it in process). */
  #grantOf(value: unknown): unknown {
    const link = grantIdOf(value);
    if (link === undefined) return undefined;
    const key = this.#ctx.key(Keys.grant(link));
    return this.#ctx.store.hold?.(key)?.value ?? this.#ctx.store.get(key);
  }

  /** The user-index digest of a record: stored since `uh` exists, else from its user id. */
  userHashOf(record: DecodedRecord): string | undefined {
    return this.#revocations.userHashOf(record);
  }

  /**
   * Remove a token record (already taken or deleted) from every index it belongs to
   * (`tokenMemberships`), in one commit: the one rule for revocation, rotation and retries.
   */
  async unindexToken(record: DecodedRecord, id: string): Promise<void> {
    const ops = this.#revocations.unindexOps(record, id);
    if (ops.length) await this.#ctx.store.commit({ now: this.#ctx.now(), ops });
  }

  async #sessionAlive(sid: string, now: number): Promise<boolean> {
    const key = this.#ctx.key(Keys.session(this.#ctx.digester.digest(sid)));
    const session = this.#decode(key, await this.#ctx.store.get(key));
    return session !== undefined && session.kind === 'session' && session.exp > now;
  }

  #decode(key: string, value: unknown, token?: string, grant?: unknown): DecodedRecord | undefined {
    if (value === undefined) return undefined;
    try {
      return this.#ctx.codec.decode(key, value, token, grant);
    } catch {
      // A record no configured key opens is unusable: treat it as absent, and say so loudly.
      this.#ctx.security({
        type: 'seal_failed',
        reason: 'a stored record could not be opened with the configured keys',
      });
      return undefined;
    }
  }

  #reject(reason: string, started: number, tokenId?: string): null {
    const ctx = this.#ctx;
    if (reason !== 'expired') ctx.counters.tokens.misses += 1;
    if (started) ctx.operation('token', 'validate', reason, started);
    if (ctx.config.securityLevel === 'maximum') {
      ctx.counters.security.rejected += 1;
      ctx.security({ type: 'token_rejected', reason, tokenId: tokenId?.slice(0, 12) });
    }
    return null;
  }
}

/** Record key (without prefix) of an index member `a:<id>` / `r:<id>`. */

export function toValidation(record: DecodedRecord, now: number, refreshThreshold: number): TokenValidation {
  const b = record.body;
  const expiresIn = Math.max(0, Math.floor((record.exp - now) / 1000));
  return {
    valid: true,
    userId: b.uid ?? '',
    clientId: b.cid,
    scopes: b.scp ?? [],
    resource: b.res,
    tokenType: b.typ ?? 'Bearer',
    expiresAt: record.exp,
    expiresIn,
    sessionId: b.sid,
    familyId: b.fam ?? '',
    userData: b.ud,
    needsRefresh: record.exp - now <= refreshThreshold * 1000,
  };
}

/** What an issuance carries over (see `planIssue`) or shares with the rest of its batch. */
interface Carried {
  rot?: number;
  grant?: GrantRef;
  /** Write self-contained tokens, no grant record (joining a grant whose key we do not hold). */
  selfContained?: true;
  /** The grants written so far by this batch, by family id (written to by the plan). */
  batch?: Map<string, GrantRef>;
}

const selfContained: Carried = { selfContained: true };

/** A token record and the grant it links to, as read. */
export interface StoredRead {
  value: unknown;
  grant: unknown;
}

/**
 * The grant `input.pendingGrant` stands for, once the input agrees with it: the tokens take the
 * grant's user data and session, and their user, client and resource must be the grant's (an
 * input that differs is a caller's mistake, not something to paper over).
 */
function pendingGrantOf(input: StoreTokenInput): GrantRef | undefined {
  const pending = input.pendingGrant;
  if (pending === undefined) return undefined;
  const ref = pending instanceof PendingGrant ? grantRefOf(pending) : undefined;
  if (ref === undefined) throw new InvalidInputError('pendingGrant must come from openPendingGrant');
  if (input.userData !== undefined || input.sessionId !== undefined) {
    throw new InvalidInputError(
      'with pendingGrant, userData and sessionId come from the grant: leave them out',
    );
  }
  for (const field of ['userId', 'clientId', 'resource', 'familyId'] as const) {
    if (input[field] !== undefined && input[field] !== pending[field]) {
      throw new InvalidInputError(`${field} differs from the pending grant's`);
    }
  }
  return ref;
}

/** Same scopes in the same order (a refresh that narrows them gives its tokens their own). */
function sameScopes(a: string[] | undefined, b: string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((s, i) => s === b[i]);
}

/** How many tokens an issuance writes. */
function tokensIn(input: StoreTokenInput): number {
  return (input.accessToken === undefined ? 0 : 1) + (input.refreshToken === undefined ? 0 : 1);
}

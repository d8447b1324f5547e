import { randomBytes } from 'node:crypto';
import type { CacheContext } from './context.js';
import { InvalidInputError } from './errors.js';
import { assertToken, assertUserId, isPlausibleToken } from './limits.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys, recordKeyOfMember, tokenMemberships, usersMembership } from './records/keys.js';
import type { BatchOp, RecordBody } from './store/contract.js';
import { oldestBeyond, TokenCaps } from './token-caps.js';
import type {
  StoredTokenInfo,
  StoreTokenInput,
  StoreTokensOptions,
  TokenListing,
  TokenValidation,
} from './types.js';

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

  constructor(ctx: CacheContext) {
    this.#ctx = ctx;
    this.#caps = new TokenCaps(ctx, (key, value) => this.#decode(key, value));
  }

  /**
   * Store one issuance. Unless `options.evict` is false, it is first judged against the caps (see
   * `TokenCaps`): a new grant beyond `maxGrantsPerUser` revokes the user's own oldest grant, and a
   * token that would take the cache above `maxTokens` is refused with `CapacityError` before
   * anything is written. `carried.rot` is set by refresh rotation only, which judged its room
   * before it consumed the presented token and stays in its family: it is not judged again.
   */
  async storeToken(
    input: StoreTokenInput,
    carried: { rot?: number } = {},
    options: StoreTokensOptions = {},
  ): Promise<StoredTokenInfo> {
    const ctx = this.#ctx;
    const started = performance.now();
    const now = ctx.now();
    const ops: BatchOp[] = [];
    const info = this.#plan(input, carried, now, ops);
    if (options.evict !== false && carried.rot === undefined) {
      const victims = await this.#caps.admit(
        {
          userId: input.userId,
          familyId: info.familyId,
          explicitFamily: input.familyId !== undefined,
          adding: tokensIn(input),
        },
        now,
      );
      for (const grant of victims) await this.#evictGrant(grant.familyId);
    }
    // Indexes first: a record that exists is always findable by user and family (a crash between
    // the two steps leaves at most an index member pointing nowhere, which readers skip).
    for (const op of ops) {
      if (op.op !== 'indexAdd') continue;
      await ctx.store.indexAdd(op.key, op.member, op.score, { now, keepGreater: op.keepGreater });
    }
    for (const op of ops) if (op.op === 'set') await ctx.store.set(op.key, op.value, op.ttlMs);
    ctx.counters.tokens.stored += 1;
    ctx.operation('token', 'store', 'ok', started);
    return info;
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
      for (const input of inputs) out.push(await this.storeToken(input, {}, options));
      return out;
    }
    const started = performance.now();
    const now = ctx.now();
    const ops: BatchOp[] = [];
    const infos: StoredTokenInfo[] = [];
    for (let i = 0; i < inputs.length; i++) infos.push(this.#plan(inputs[i]!, {}, now, ops));
    if (judged) await judgeRoom();
    await ctx.store.writeBatch(ops);
    if (judged) await this.#capGrantsOfBatch(inputs, infos, now);
    ctx.counters.tokens.stored += inputs.length;
    ctx.operation('token', 'store_batch', 'ok', started);
    return infos;
  }

  /**
   * Refuse (`CapacityError`) when `adding` more tokens would take the cache above `maxTokens`.
   * Refresh rotation calls it before it consumes the presented token.
   */
  assertRoom(
    adding: number,
    subject: { userId?: string | undefined; familyId?: string | undefined },
  ): Promise<void> {
    return this.#caps.assertRoom(adding, this.#ctx.now(), 'rotate', subject);
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
  #plan(input: StoreTokenInput, carried: { rot?: number }, now: number, ops: BatchOp[]): StoredTokenInfo {
    const ctx = this.#ctx;
    assertUserId(input.userId);
    if (input.accessToken === undefined && input.refreshToken === undefined) {
      throw new InvalidInputError('storeToken needs an accessToken or a refreshToken');
    }
    if (input.accessToken !== undefined) assertToken(input.accessToken, 'accessToken');
    if (input.refreshToken !== undefined) assertToken(input.refreshToken, 'refreshToken');
    if (
      input.scopes !== undefined &&
      (!Array.isArray(input.scopes) || input.scopes.some((s) => typeof s !== 'string'))
    ) {
      throw new InvalidInputError('scopes must be an array of strings');
    }
    const familyId = input.familyId ?? randomToken();
    const sid = input.sessionId;
    const uh = ctx.userHash(input.userId);
    const common: RecordBody = {
      uid: input.userId,
      uh,
      fam: familyId,
      cid: input.clientId,
      scp: input.scopes ?? [],
      res: input.resource,
      typ: input.tokenType ?? 'Bearer',
      sid,
      iat: now,
      ud: input.userData,
    };
    const info: StoredTokenInfo = { familyId };
    const sessionDigest = sid === undefined ? undefined : ctx.digester.digest(sid);
    const add = (kind: 'access' | 'refresh', id: string, exp: number, body: RecordBody, token: string) => {
      const key = ctx.key(kind === 'access' ? Keys.access(id) : Keys.refresh(id));
      ops.push({ op: 'set', key, value: ctx.codec.encode(key, kind, exp, body, token), ttlMs: exp - now });
      for (const m of tokenMemberships({ kind, id, userHash: uh, familyId, sessionDigest })) {
        ops.push({ op: 'indexAdd', key: ctx.key(m.key), member: m.member, score: exp });
      }
    };

    let maxExp = 0;
    if (input.accessToken !== undefined) {
      const exp = input.expiresAt ?? now + seconds(input.expiresIn, ctx.config.tokenTtl, 'expiresIn') * 1000;
      if (!(exp > now)) throw new InvalidInputError('the access token is already expired');
      const id = ctx.digester.digest(input.accessToken);
      add(
        'access',
        id,
        exp,
        input.retrievable ? { ...common, tok: input.accessToken } : common,
        input.accessToken,
      );
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
      add(
        'refresh',
        id,
        exp,
        {
          ...common,
          rot,
          ...(input.retrievable ? { tok: input.refreshToken } : {}),
        },
        input.refreshToken,
      );
      info.refreshTokenId = id;
      info.refreshExpiresAt = exp;
      maxExp = Math.max(maxExp, exp);
    }
    // The users index keeps a user while any of their tokens lives; a later, shorter token must
    // not shorten it, hence "greatest" semantics on re-add.
    const users = usersMembership(uh);
    ops.push({
      op: 'indexAdd',
      key: ctx.key(users.key),
      member: users.member,
      score: maxExp,
      keepGreater: true,
    });
    return info;
  }

  /** The hot path: one digest, one store read, no write. */
  async validateAccessToken(token: string): Promise<TokenValidation | null> {
    const ctx = this.#ctx;
    const started = ctx.events.listenerCount('operation') > 0 ? performance.now() : 0;
    ctx.counters.tokens.validations += 1;
    if (!isPlausibleToken(token)) return this.#reject('malformed', started);
    const id = ctx.digester.digest(token);
    const key = ctx.key(Keys.access(id));
    let raw: unknown;
    try {
      raw = await ctx.store.get(key);
    } catch (error) {
      ctx.failure('token', 'validate', error, started);
      throw error;
    }
    const record = this.#decode(key, raw, token);
    if (record === undefined || record.kind !== 'access') return this.#reject('miss', started, id);
    const now = ctx.now();
    if (record.exp <= now) {
      ctx.counters.tokens.expired += 1;
      return this.#reject('expired', started, id);
    }
    if (record.body.sid !== undefined && !(await this.#sessionAlive(record.body.sid, now))) {
      return this.#reject('session_ended', started, id);
    }
    ctx.counters.tokens.hits += 1;
    if (started) ctx.operation('token', 'validate', 'hit', started);
    return toValidation(record, now, ctx.config.refreshThreshold);
  }

  /** Metadata of a live refresh token, or `null`. */
  async inspectRefreshToken(token: string): Promise<TokenValidation | null> {
    const ctx = this.#ctx;
    if (!isPlausibleToken(token)) return null;
    const key = ctx.key(Keys.refresh(ctx.digester.digest(token)));
    const record = this.#decode(key, await ctx.store.get(key), token);
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
    const values = keys.length ? await ctx.store.getMany(keys) : [];
    const listing: TokenListing[] = [];
    const stale: string[] = [];
    entries.forEach((entry, i) => {
      const record = this.#decode(keys[i]!, values[i]);
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
   * the private part (the user id of the security event at `maximum`).
   */
  async revokeTokenById(id: string, token?: string): Promise<boolean> {
    const ctx = this.#ctx;
    const started = performance.now();
    const accessKey = ctx.key(Keys.access(id));
    const access = this.#decode(accessKey, await ctx.store.take(accessKey), token);
    if (access) {
      ctx.counters.tokens.revoked += 1;
      await this.unindexToken(access, id);
      ctx.security({
        type: 'token_revoked',
        userId: access.body.uid,
        familyId: access.body.fam,
        tokenId: id,
      });
      ctx.operation('token', 'revoke', 'ok', started);
      return true;
    }
    const refreshKey = ctx.key(Keys.refresh(id));
    const refresh = this.#decode(refreshKey, await ctx.store.get(refreshKey));
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
   * the family afterwards are refused too.
   */
  async revokeFamily(familyId: string, reason = 'revoked'): Promise<number> {
    const ctx = this.#ctx;
    if (typeof familyId !== 'string' || familyId.length === 0)
      throw new InvalidInputError('familyId must be a non-empty string');
    const now = ctx.now();
    const markerKey = ctx.key(Keys.familyRevoked(familyId));
    const markerExp = now + ctx.config.refreshTokenTtl * 1000;
    await ctx.store.set(
      markerKey,
      ctx.codec.encode(markerKey, 'family-revoked', markerExp, { fam: familyId, at: now }),
      markerExp - now,
    );
    const indexKey = ctx.key(Keys.familyTokens(familyId));
    const members = (await ctx.store.indexRange(indexKey, now)).map((e) => e.member);
    const deleted = members.length
      ? await ctx.store.delete(...members.map((m) => ctx.key(recordKeyOfMember(m))))
      : 0;
    await ctx.store.indexDelete(indexKey);
    if (members.length) await ctx.store.indexRemove(ctx.key(Keys.tokens), members);
    ctx.counters.tokens.revoked += deleted;
    ctx.security({ type: 'family_revoked', familyId, reason });
    return deleted;
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return (await this.#ctx.store.get(this.#ctx.key(Keys.familyRevoked(familyId)))) !== undefined;
  }

  async revokeUserTokens(userId: string): Promise<number> {
    const ctx = this.#ctx;
    assertUserId(userId);
    const now = ctx.now();
    const uh = ctx.userHash(userId);
    const indexKey = ctx.key(Keys.userTokens(uh));
    const members = (await ctx.store.indexRange(indexKey, now)).map((e) => e.member);
    const keys = members.map((m) => ctx.key(recordKeyOfMember(m)));
    const values = keys.length ? await ctx.store.getMany(keys) : [];
    const families = new Set<string>();
    values.forEach((v, i) => {
      const fam = this.#decode(keys[i]!, v)?.body.fam;
      if (fam) families.add(fam);
    });
    let count = 0;
    for (const fam of families) count += await this.revokeFamily(fam, 'user_revoked');
    if (keys.length) count += await ctx.store.delete(...keys);
    await ctx.store.indexDelete(indexKey);
    ctx.security({ type: 'user_revoked', userId, reason: `${count} tokens` });
    return count;
  }

  /**
   * Decode a stored value (with `token`, its private part too), reporting (not throwing) records
   * that no configured key opens.
   */
  decodeRecord(key: string, value: unknown, token?: string): DecodedRecord | undefined {
    return this.#decode(key, value, token);
  }

  /** The user-index digest of a record: stored since `uh` exists, else from its user id. */
  userHashOf(record: DecodedRecord): string | undefined {
    const { uh, uid } = record.body;
    return uh ?? (uid ? this.#ctx.userHash(uid) : undefined);
  }

  /**
   * Remove a token record (already taken or deleted) from every index it belongs to
   * (`tokenMemberships`): the one rule for revocation, rotation and retries.
   */
  async unindexToken(record: DecodedRecord, id: string): Promise<void> {
    const ctx = this.#ctx;
    if (record.kind !== 'access' && record.kind !== 'refresh') return;
    const { fam, sid } = record.body;
    const memberships = tokenMemberships({
      kind: record.kind,
      id,
      userHash: this.userHashOf(record),
      familyId: fam,
      sessionDigest: sid === undefined ? undefined : ctx.digester.digest(sid),
    });
    for (const m of memberships) await ctx.store.indexRemove(ctx.key(m.key), [m.member]);
  }

  async #sessionAlive(sid: string, now: number): Promise<boolean> {
    const key = this.#ctx.key(Keys.session(this.#ctx.digester.digest(sid)));
    const session = this.#decode(key, await this.#ctx.store.get(key));
    return session !== undefined && session.kind === 'session' && session.exp > now;
  }

  #decode(key: string, value: unknown, token?: string): DecodedRecord | undefined {
    if (value === undefined) return undefined;
    try {
      return this.#ctx.codec.decode(key, value, token);
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

/** How many tokens an issuance writes. */
function tokensIn(input: StoreTokenInput): number {
  return (input.accessToken === undefined ? 0 : 1) + (input.refreshToken === undefined ? 0 : 1);
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`${name} must be a positive number of seconds`);
  }
  return value;
}

import { randomBytes } from 'node:crypto';
import type { CacheContext } from './context.js';
import { InvalidInputError } from './errors.js';
import { assertToken, assertUserId, isPlausibleToken } from './limits.js';
import type { DecodedRecord } from './records/codec.js';
import type { BatchOp, RecordBody } from './store/contract.js';
import type {
  StoredTokenInfo,
  StoreTokenInput,
  StoreTokensOptions,
  TokenListing,
  TokenValidation,
} from './types.js';

/** Index member prefixes: `a:` access, `r:` refresh. */
const ACCESS = 'a:';
const REFRESH = 'r:';

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

  constructor(ctx: CacheContext) {
    this.#ctx = ctx;
  }

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
    const tokensIndex = ctx.key('ix:tokens');
    // Indexes first: a record that exists is always findable by user and family (a crash between
    // the two steps leaves at most an index member pointing nowhere, which readers skip).
    for (const op of ops) {
      if (op.op !== 'indexAdd') continue;
      const evicted = await ctx.store.indexAdd(op.key, op.member, op.score, {
        now,
        cap: op.key === tokensIndex && options.evict !== false ? ctx.config.maxTokens : undefined,
        keepGreater: op.keepGreater,
      });
      if (evicted.length) await this.#evict(evicted);
    }
    for (const op of ops) if (op.op === 'set') await ctx.store.set(op.key, op.value, op.ttlMs);
    ctx.counters.tokens.stored += 1;
    ctx.operation('token', 'store', 'ok', started);
    return info;
  }

  /**
   * Store many tokens at once (migrations). Uses the store's `writeBatch` (one transaction or
   * pipeline) when it has one; `maxTokens` is enforced once at the end of the batch, unless
   * `options.evict` is false.
   */
  async storeTokens(inputs: StoreTokenInput[], options: StoreTokensOptions = {}): Promise<StoredTokenInfo[]> {
    const ctx = this.#ctx;
    if (!ctx.store.writeBatch) {
      const out: StoredTokenInfo[] = [];
      for (const input of inputs) out.push(await this.storeToken(input, {}, options));
      return out;
    }
    const started = performance.now();
    const now = ctx.now();
    const ops: BatchOp[] = [];
    const infos: StoredTokenInfo[] = [];
    for (let i = 0; i < inputs.length; i++) infos.push(this.#plan(inputs[i]!, {}, now, ops));
    const tokensIndex = ctx.key('ix:tokens');
    const last = ops.findLast((op) => op.op === 'indexAdd' && op.key === tokensIndex);
    // The cap check is issued with the batch, not after its reply: the store applies it right after
    // the batch (see `writeBatch` in the contract), and on one Redis connection its reply no longer
    // waits behind the batches a migration sends meanwhile (300k legacy entries: ~0.4 s of ~10).
    const written = ctx.store.writeBatch(ops);
    const capped =
      last?.op === 'indexAdd' && options.evict !== false
        ? ctx.store.indexAdd(last.key, last.member, last.score, { now, cap: ctx.config.maxTokens })
        : Promise.resolve([]);
    const [, evicted] = await Promise.all([written, capped]);
    if (evicted.length) await this.#evict(evicted);
    ctx.counters.tokens.stored += inputs.length;
    ctx.operation('token', 'store_batch', 'ok', started);
    return infos;
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
    const common: RecordBody = {
      uid: input.userId,
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
    const uh = ctx.userHash(input.userId);
    const userIndex = ctx.key(`ix:u:${uh}`);
    const familyIndex = ctx.key(`ix:f:${familyId}`);
    const sessionIndex = sid === undefined ? undefined : ctx.key(`ix:st:${ctx.digester.digest(sid)}`);
    const tokensIndex = ctx.key('ix:tokens');
    const add = (kind: 'access' | 'refresh', id: string, exp: number, body: RecordBody) => {
      const key = ctx.key(`${kind === 'access' ? 'at' : 'rt'}:${id}`);
      ops.push({ op: 'set', key, value: ctx.codec.encode(key, kind, exp, body), ttlMs: exp - now });
      const member = (kind === 'access' ? ACCESS : REFRESH) + id;
      ops.push({ op: 'indexAdd', key: userIndex, member, score: exp });
      ops.push({ op: 'indexAdd', key: familyIndex, member, score: exp });
      if (sessionIndex !== undefined) ops.push({ op: 'indexAdd', key: sessionIndex, member, score: exp });
      ops.push({ op: 'indexAdd', key: tokensIndex, member, score: exp });
    };

    let maxExp = 0;
    if (input.accessToken !== undefined) {
      const exp = input.expiresAt ?? now + seconds(input.expiresIn, ctx.config.tokenTtl, 'expiresIn') * 1000;
      if (!(exp > now)) throw new InvalidInputError('the access token is already expired');
      const id = ctx.digester.digest(input.accessToken);
      add('access', id, exp, input.retrievable ? { ...common, tok: input.accessToken } : common);
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
      add('refresh', id, exp, {
        ...common,
        rot,
        ...(input.retrievable ? { tok: input.refreshToken } : {}),
      });
      info.refreshTokenId = id;
      info.refreshExpiresAt = exp;
      maxExp = Math.max(maxExp, exp);
    }
    // The users index keeps a user while any of their tokens lives; a later, shorter token must
    // not shorten it, hence "greatest" semantics on re-add.
    ops.push({ op: 'indexAdd', key: ctx.key('ix:users'), member: uh, score: maxExp, keepGreater: true });
    return info;
  }

  async #evict(members: string[]): Promise<void> {
    const ctx = this.#ctx;
    const n = await ctx.store.delete(...members.map((m) => ctx.key(recordKeyOf(m))));
    ctx.counters.tokens.evicted += n;
    ctx.operation('token', 'evict', 'ok', performance.now());
  }

  /** The hot path: one digest, one store read, no write. */
  async validateAccessToken(token: string): Promise<TokenValidation | null> {
    const ctx = this.#ctx;
    const started = ctx.events.listenerCount('operation') > 0 ? performance.now() : 0;
    ctx.counters.tokens.validations += 1;
    if (!isPlausibleToken(token)) return this.#reject('malformed', started);
    const id = ctx.digester.digest(token);
    const key = ctx.key(`at:${id}`);
    let raw: unknown;
    try {
      raw = await ctx.store.get(key);
    } catch (error) {
      ctx.failure('token', 'validate', error, started);
      throw error;
    }
    const record = this.#decode(key, raw);
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
    const key = ctx.key(`rt:${ctx.digester.digest(token)}`);
    const record = this.#decode(key, await ctx.store.get(key));
    const now = ctx.now();
    if (record === undefined || record.kind !== 'refresh' || record.exp <= now) return null;
    return toValidation(record, now, ctx.config.refreshThreshold);
  }

  async getTokensForUser(userId: string): Promise<TokenListing[]> {
    const ctx = this.#ctx;
    assertUserId(userId);
    const now = ctx.now();
    const indexKey = ctx.key(`ix:u:${ctx.userHash(userId)}`);
    const entries = await ctx.store.indexRange(indexKey, now);
    const keys = entries.map((e) => ctx.key(recordKeyOf(e.member)));
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
    return this.revokeTokenById(id);
  }

  /** Revoke by the id `getTokensForUser` lists (the digest). */
  async revokeTokenById(id: string): Promise<boolean> {
    const ctx = this.#ctx;
    const started = performance.now();
    const accessKey = ctx.key(`at:${id}`);
    const access = this.#decode(accessKey, await ctx.store.take(accessKey));
    if (access) {
      ctx.counters.tokens.revoked += 1;
      await this.#unindex(access, [ACCESS + id]);
      ctx.security({
        type: 'token_revoked',
        userId: access.body.uid,
        familyId: access.body.fam,
        tokenId: id,
      });
      ctx.operation('token', 'revoke', 'ok', started);
      return true;
    }
    const refreshKey = ctx.key(`rt:${id}`);
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
    const markerKey = ctx.key(`fr:${familyId}`);
    const markerExp = now + ctx.config.refreshTokenTtl * 1000;
    await ctx.store.set(
      markerKey,
      ctx.codec.encode(markerKey, 'family-revoked', markerExp, { fam: familyId, at: now }),
      markerExp - now,
    );
    const indexKey = ctx.key(`ix:f:${familyId}`);
    const members = (await ctx.store.indexRange(indexKey, now)).map((e) => e.member);
    const deleted = members.length
      ? await ctx.store.delete(...members.map((m) => ctx.key(recordKeyOf(m))))
      : 0;
    await ctx.store.indexDelete(indexKey);
    if (members.length) await ctx.store.indexRemove(ctx.key('ix:tokens'), members);
    ctx.counters.tokens.revoked += deleted;
    ctx.security({ type: 'family_revoked', familyId, reason });
    return deleted;
  }

  async isFamilyRevoked(familyId: string): Promise<boolean> {
    return (await this.#ctx.store.get(this.#ctx.key(`fr:${familyId}`))) !== undefined;
  }

  async revokeUserTokens(userId: string): Promise<number> {
    const ctx = this.#ctx;
    assertUserId(userId);
    const now = ctx.now();
    const uh = ctx.userHash(userId);
    const indexKey = ctx.key(`ix:u:${uh}`);
    const members = (await ctx.store.indexRange(indexKey, now)).map((e) => e.member);
    const keys = members.map((m) => ctx.key(recordKeyOf(m)));
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

  /** Decode a stored value, reporting (not throwing) records that no configured key opens. */
  decodeRecord(key: string, value: unknown): DecodedRecord | undefined {
    return this.#decode(key, value);
  }

  async #unindex(record: DecodedRecord, members: string[]): Promise<void> {
    const ctx = this.#ctx;
    const { uid, fam, sid } = record.body;
    if (uid) await ctx.store.indexRemove(ctx.key(`ix:u:${ctx.userHash(uid)}`), members);
    if (fam) await ctx.store.indexRemove(ctx.key(`ix:f:${fam}`), members);
    if (sid) await ctx.store.indexRemove(ctx.key(`ix:st:${ctx.digester.digest(sid)}`), members);
    await ctx.store.indexRemove(ctx.key('ix:tokens'), members);
  }

  async #sessionAlive(sid: string, now: number): Promise<boolean> {
    const key = this.#ctx.key(`s:${this.#ctx.digester.digest(sid)}`);
    const session = this.#decode(key, await this.#ctx.store.get(key));
    return session !== undefined && session.kind === 'session' && session.exp > now;
  }

  #decode(key: string, value: unknown): DecodedRecord | undefined {
    if (value === undefined) return undefined;
    try {
      return this.#ctx.codec.decode(key, value);
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
export function recordKeyOf(member: string): string {
  return member.startsWith(REFRESH) ? `rt:${member.slice(2)}` : `at:${member.slice(2)}`;
}

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

function seconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidInputError(`${name} must be a positive number of seconds`);
  }
  return value;
}

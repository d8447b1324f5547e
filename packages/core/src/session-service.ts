import type { CacheContext } from './context.js';
import { assertToken, assertUserId } from './limits.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys, sessionMemberships } from './records/keys.js';
import type { TxOp } from './store/contract.js';
import type { RevocationPlanner } from './token-revocation.js';
import { randomToken } from './token-service.js';
import type { Session } from './types.js';

/**
 * Sessions with a sliding idle timeout, an absolute lifetime, a per-user cap (least recently
 * active evicted) and a global cap. Tokens stored with a `sessionId` die with their session.
 */
export class SessionService {
  readonly #ctx: CacheContext;
  readonly #revocations: RevocationPlanner;

  constructor(ctx: CacheContext, revocations: RevocationPlanner) {
    this.#ctx = ctx;
    this.#revocations = revocations;
  }

  async create(userId: string, data?: unknown): Promise<Session> {
    const ctx = this.#ctx;
    const started = performance.now();
    assertUserId(userId);
    const now = ctx.now();
    const id = randomToken();
    const session: Session = {
      id,
      userId,
      data: data ?? null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + ctx.config.sessionTimeout * 1000,
      absoluteExpiresAt: now + ctx.config.sessionAbsoluteTimeout * 1000,
    };
    const sd = ctx.digester.digest(id);
    await this.#write(sd, session, now);
    const uh = ctx.userHash(userId);
    const evicted = [
      ...(await ctx.store.indexAdd(ctx.key(Keys.userSessions(uh)), sd, session.expiresAt, {
        now,
        cap: ctx.config.maxSessionsPerUser,
      })),
      ...(await ctx.store.indexAdd(ctx.key(Keys.sessions), sd, session.expiresAt, {
        now,
        cap: ctx.config.maxSessions,
      })),
    ];
    await ctx.store.indexAdd(ctx.key(Keys.users), uh, session.absoluteExpiresAt, { now, keepGreater: true });
    for (const victim of new Set(evicted)) {
      if (await this.#remove(victim, now)) {
        ctx.counters.sessions.evicted += 1;
        ctx.operation('session', 'evict', 'ok', started);
      }
    }
    ctx.counters.sessions.created += 1;
    ctx.operation('session', 'create', 'ok', started);
    return session;
  }

  async get(id: string): Promise<Session | null> {
    const started = performance.now();
    const found = await this.#read(id);
    this.#ctx.operation('session', 'get', found ? 'hit' : 'miss', started);
    return found?.session ?? null;
  }

  /** Slide the idle timeout. Writes at most once per `touchInterval` seconds per session. */
  async touch(id: string): Promise<Session | null> {
    const ctx = this.#ctx;
    const started = performance.now();
    const found = await this.#read(id);
    if (!found) {
      ctx.operation('session', 'touch', 'miss', started);
      return null;
    }
    const now = ctx.now();
    const { session, sd } = found;
    if (now - session.lastSeenAt < ctx.config.touchInterval * 1000) return session;
    const touched: Session = {
      ...session,
      lastSeenAt: now,
      expiresAt: Math.min(now + ctx.config.sessionTimeout * 1000, session.absoluteExpiresAt),
    };
    const uh = ctx.userHash(session.userId);
    // The record and its two capped indexes move together (the users index only ever rises).
    const ops: TxOp[] = [this.#writeOp(sd, touched, now)];
    for (const m of sessionMemberships(sd, uh)) {
      if (m.keepGreater) continue;
      ops.push({ op: 'indexAdd', key: ctx.key(m.key), member: m.member, score: touched.expiresAt });
    }
    await ctx.store.commit({ now, ops });
    ctx.counters.sessions.touched += 1;
    ctx.operation('session', 'touch', 'ok', started);
    return touched;
  }

  async revoke(id: string): Promise<boolean> {
    assertToken(id, 'sessionId');
    return this.revokeByDigest(this.#ctx.digester.digest(id));
  }

  /**
   * End a session given by the digest of its id (the `ref` listings give; the id itself is not
   * stored) and every token bound to it, as {@link revoke} does.
   */
  async revokeByDigest(sessionDigest: string): Promise<boolean> {
    const ctx = this.#ctx;
    const started = performance.now();
    const removed = await this.#remove(sessionDigest, ctx.now());
    if (removed) {
      ctx.counters.sessions.revoked += 1;
      ctx.security({ type: 'session_revoked', userId: removed.body.uid });
    }
    ctx.operation('session', 'revoke', removed ? 'ok' : 'miss', started);
    return removed !== undefined;
  }

  /** Live sessions of a user, least recently active first. */
  async listForUser(userId: string): Promise<Array<Omit<Session, 'id'> & { ref: string }>> {
    const ctx = this.#ctx;
    assertUserId(userId);
    const now = ctx.now();
    const entries = await ctx.store.indexRange(ctx.key(Keys.userSessions(ctx.userHash(userId))), now);
    const keys = entries.map((e) => ctx.key(Keys.session(e.member)));
    const values = keys.length ? await ctx.store.getMany(keys) : [];
    const out: Array<Omit<Session, 'id'> & { ref: string }> = [];
    values.forEach((value, i) => {
      const record = this.#decode(keys[i]!, value);
      if (record && record.exp > now) out.push({ ref: entries[i]!.member, ...fromRecord(record) });
    });
    return out;
  }

  async #read(id: string): Promise<{ session: Session; sd: string } | undefined> {
    const ctx = this.#ctx;
    assertToken(id, 'sessionId');
    const sd = ctx.digester.digest(id);
    const key = ctx.key(Keys.session(sd));
    const record = this.#decode(key, await ctx.store.get(key));
    if (!record || record.exp <= ctx.now()) return undefined;
    return { session: { id, ...fromRecord(record) }, sd };
  }

  async #write(sd: string, session: Session, now: number): Promise<void> {
    const op = this.#writeOp(sd, session, now);
    await this.#ctx.store.set(op.key, op.value, op.ttlMs);
  }

  #writeOp(sd: string, session: Session, now: number): Extract<TxOp, { op: 'set' }> {
    const ctx = this.#ctx;
    const key = ctx.key(Keys.session(sd));
    const record = ctx.codec.encode(key, 'session', session.expiresAt, {
      uid: session.userId,
      data: session.data,
      iat: session.createdAt,
      seen: session.lastSeenAt,
      abs: session.absoluteExpiresAt,
    });
    return { op: 'set', key, value: record, ttlMs: Math.max(1, session.expiresAt - now) };
  }

  /**
   * Delete a session and the tokens bound to it, in one commit (read again when a token joined
   * the session meanwhile). Resolves the removed record, if any.
   */
  async #remove(sd: string, now: number): Promise<DecodedRecord | undefined> {
    const ctx = this.#ctx;
    const key = ctx.key(Keys.session(sd));
    const tokenIndex = ctx.key(Keys.sessionTokens(sd));
    for (let attempt = 0; ; attempt++) {
      const record = this.#decode(key, await ctx.store.get(key));
      const found = await this.#revocations.read(tokenIndex, now);
      const revocation = this.#revocations.plan(tokenIndex, found, now, {
        markFamilies: false,
        dropIndexes: [tokenIndex],
      });
      const uid = record?.body.uid;
      const memberships = uid
        ? sessionMemberships(sd, ctx.userHash(uid)).filter((m) => !m.keepGreater)
        : [{ key: Keys.sessions, member: sd }];
      const result = await ctx.store.commit({
        now,
        require: [
          record ? { if: 'present', key } : { if: 'absent', key },
          ...(attempt < 2 ? revocation.require : []),
        ],
        ops: [
          { op: 'delete', keys: [key] },
          ...revocation.ops,
          ...memberships.map((m): TxOp => ({ op: 'indexRemove', key: ctx.key(m.key), members: [m.member] })),
        ],
      });
      if (!result.ok) {
        // Removed by someone else meanwhile: theirs to report.
        if (result.failed === 0 && record) return undefined;
        continue;
      }
      ctx.counters.tokens.revoked += revocation.count;
      return record;
    }
  }

  #decode(key: string, value: unknown): DecodedRecord | undefined {
    if (value === undefined) return undefined;
    try {
      const record = this.#ctx.codec.decode(key, value);
      return record?.kind === 'session' ? record : undefined;
    } catch {
      this.#ctx.security({
        type: 'seal_failed',
        reason: 'a stored session could not be opened with the configured keys',
      });
      return undefined;
    }
  }
}

function fromRecord(record: DecodedRecord): Omit<Session, 'id'> {
  const b = record.body;
  return {
    userId: b.uid ?? '',
    data: b.data ?? null,
    createdAt: b.iat ?? 0,
    lastSeenAt: b.seen ?? 0,
    expiresAt: record.exp,
    absoluteExpiresAt: b.abs ?? record.exp,
  };
}

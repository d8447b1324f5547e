import type { CacheContext } from './context.js';
import { assertToken, assertUserId } from './limits.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys, recordKeyOfMember } from './records/keys.js';
import { randomToken } from './token-service.js';
import type { Session } from './types.js';

/**
 * Sessions with a sliding idle timeout, an absolute lifetime, a per-user cap (least recently
 * active evicted) and a global cap. Tokens stored with a `sessionId` die with their session.
 */
export class SessionService {
  readonly #ctx: CacheContext;

  constructor(ctx: CacheContext) {
    this.#ctx = ctx;
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
    await this.#write(sd, touched, now);
    await ctx.store.indexAdd(
      ctx.key(Keys.userSessions(ctx.userHash(session.userId))),
      sd,
      touched.expiresAt,
      {
        now,
      },
    );
    await ctx.store.indexAdd(ctx.key(Keys.sessions), sd, touched.expiresAt, { now });
    ctx.counters.sessions.touched += 1;
    ctx.operation('session', 'touch', 'ok', started);
    return touched;
  }

  async revoke(id: string): Promise<boolean> {
    const ctx = this.#ctx;
    const started = performance.now();
    assertToken(id, 'sessionId');
    const removed = await this.#remove(ctx.digester.digest(id), ctx.now());
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
    const ctx = this.#ctx;
    const key = ctx.key(Keys.session(sd));
    const record = ctx.codec.encode(key, 'session', session.expiresAt, {
      uid: session.userId,
      data: session.data,
      iat: session.createdAt,
      seen: session.lastSeenAt,
      abs: session.absoluteExpiresAt,
    });
    await ctx.store.set(key, record, Math.max(1, session.expiresAt - now));
  }

  /** Delete a session and the tokens bound to it. Resolves the removed record, if any. */
  async #remove(sd: string, now: number): Promise<DecodedRecord | undefined> {
    const ctx = this.#ctx;
    const key = ctx.key(Keys.session(sd));
    const record = this.#decode(key, await ctx.store.take(key));
    const tokenIndex = ctx.key(Keys.sessionTokens(sd));
    const members = (await ctx.store.indexRange(tokenIndex, now)).map((e) => e.member);
    if (members.length) {
      const n = await ctx.store.delete(...members.map((m) => ctx.key(recordKeyOfMember(m))));
      ctx.counters.tokens.revoked += n;
      await ctx.store.indexRemove(ctx.key(Keys.tokens), members);
    }
    await ctx.store.indexDelete(tokenIndex);
    await ctx.store.indexRemove(ctx.key(Keys.sessions), [sd]);
    if (record?.body.uid)
      await ctx.store.indexRemove(ctx.key(Keys.userSessions(ctx.userHash(record.body.uid))), [sd]);
    return record;
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

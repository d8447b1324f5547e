import type { CacheContext } from './context.js';
import { InvalidInputError } from './errors.js';
import { assertUserId } from './limits.js';
import type { DecodedRecord } from './records/codec.js';
import { Keys, recordKeyOfMember } from './records/keys.js';
import type { StoreLock } from './store/contract.js';
import { type TokenService, toValidation } from './token-service.js';
import type { FreshToken, Refresher } from './types.js';

const LOCK_TTL_MS = 15_000;
const WAIT_STEP_MS = 50;

interface Current {
  access?: { token: string; record: DecodedRecord };
  refresh?: { token: string; record: DecodedRecord; id: string };
}

/**
 * `getFreshToken`: hand back a user's retrievable access token, refreshing it first when it is
 * inside the refresh threshold. One refresh per user and client at a time: concurrent callers in
 * this process share one promise (google-auth-library does the same), and where the store offers
 * a lock (Redis) other processes wait for the holder's result instead of refreshing again.
 */
export class FreshTokenFlight {
  readonly #ctx: CacheContext;
  readonly #tokens: TokenService;
  readonly #inFlight = new Map<string, Promise<FreshToken>>();

  constructor(ctx: CacheContext, tokens: TokenService) {
    this.#ctx = ctx;
    this.#tokens = tokens;
  }

  get(userId: string, refresher: Refresher, options: { clientId?: string } = {}): Promise<FreshToken> {
    assertUserId(userId);
    if (typeof refresher !== 'function') throw new InvalidInputError('refresher must be a function');
    const flightKey = `${userId}\u0000${options.clientId ?? ''}`;
    const pending = this.#inFlight.get(flightKey);
    if (pending) return pending;
    const flight = this.#run(userId, refresher, options.clientId).finally(() =>
      this.#inFlight.delete(flightKey),
    );
    this.#inFlight.set(flightKey, flight);
    return flight;
  }

  async #run(userId: string, refresher: Refresher, clientId: string | undefined): Promise<FreshToken> {
    const ctx = this.#ctx;
    const fresh = this.#freshFrom(await this.#current(userId, clientId));
    if (fresh) return fresh;
    const lockName = `refresh:${ctx.userHash(userId)}:${clientId ?? ''}`;
    let lock: StoreLock | null | undefined;
    if (ctx.store.lock) {
      lock = await ctx.store.lock(ctx.key(Keys.lock(lockName)), LOCK_TTL_MS);
      if (lock === null) {
        const theirs = await this.#waitForOtherProcess(userId, clientId);
        if (theirs) return theirs;
        lock = await ctx.store.lock(ctx.key(Keys.lock(lockName)), LOCK_TTL_MS);
      }
    }
    try {
      const current = await this.#current(userId, clientId);
      const already = this.#freshFrom(current);
      if (already) return already;
      const now = ctx.now();
      const validation = current.access
        ? toValidation(current.access.record, now, ctx.config.refreshThreshold)
        : current.refresh
          ? toValidation(current.refresh.record, now, ctx.config.refreshThreshold)
          : undefined;
      const issued = await refresher({
        userId,
        accessToken: current.access?.token,
        refreshToken: current.refresh?.token,
        validation,
      });
      const info = await this.#tokens.storeToken({
        userId,
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresIn: issued.expiresIn,
        refreshExpiresIn: issued.refreshExpiresIn,
        tokenType: issued.tokenType ?? validation?.tokenType,
        scopes: issued.scopes ?? validation?.scopes,
        clientId: clientId ?? validation?.clientId,
        resource: validation?.resource,
        sessionId: validation?.sessionId,
        userData: validation?.userData,
        familyId: validation?.familyId || undefined,
        retrievable: true,
      });
      if (
        current.refresh &&
        issued.refreshToken !== undefined &&
        issued.refreshToken !== current.refresh.token
      ) {
        // The refresher rotated the refresh token: the old one is dead upstream, drop ours.
        await ctx.store.delete(ctx.key(Keys.refresh(current.refresh.id)));
      }
      ctx.counters.tokens.refreshes += 1;
      return { accessToken: issued.accessToken, expiresAt: info.expiresAt ?? now, refreshed: true };
    } finally {
      await lock?.release();
    }
  }

  #freshFrom(current: Current): FreshToken | undefined {
    const access = current.access;
    if (!access) return undefined;
    const now = this.#ctx.now();
    if (access.record.exp - now <= this.#ctx.config.refreshThreshold * 1000) return undefined;
    return { accessToken: access.token, expiresAt: access.record.exp, refreshed: false };
  }

  async #waitForOtherProcess(userId: string, clientId: string | undefined): Promise<FreshToken | undefined> {
    const deadline = Date.now() + LOCK_TTL_MS;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
      const fresh = this.#freshFrom(await this.#current(userId, clientId));
      if (fresh) return fresh;
    }
    return undefined;
  }

  /** The user's newest retrievable access and refresh tokens (for the client, when given). */
  async #current(userId: string, clientId: string | undefined): Promise<Current> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const entries = await ctx.store.indexRange(ctx.key(Keys.userTokens(ctx.userHash(userId))), now);
    const keys = entries.map((e) => ctx.key(recordKeyOfMember(e.member)));
    const reads = await this.#tokens.readStored(keys);
    const current: Current = {};
    reads.forEach(({ value, grant }, i) => {
      const token = this.#tokens.decodeRecord(keys[i]!, value, undefined, grant)?.body.tok;
      // The raw token (sealed with the server key) opens the part sealed for its holder.
      const record =
        token === undefined ? undefined : this.#tokens.decodeRecord(keys[i]!, value, token, grant);
      if (!record || token === undefined || record.exp <= now) return;
      if (clientId !== undefined && record.body.cid !== clientId) return;
      if (record.kind === 'access' && (!current.access || record.exp > current.access.record.exp)) {
        current.access = { token, record };
      } else if (record.kind === 'refresh' && (!current.refresh || record.exp > current.refresh.record.exp)) {
        current.refresh = { token, record, id: entries[i]!.member.slice(2) };
      }
    });
    return current;
  }
}

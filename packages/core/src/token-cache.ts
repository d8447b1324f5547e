import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import { type CacheConfig, type CacheConfigInput, resolveConfig } from './config.js';
import type { CacheContext } from './context.js';
import { Counters } from './counters.js';
import { Digester } from './crypto/digest.js';
import { Sealer } from './crypto/sealer.js';
import { TokenSealer } from './crypto/token-sealer.js';
import { StoreUnavailableError } from './errors.js';
import type { CacheEventMap, SecurityEvent } from './events.js';
import { FreshTokenFlight } from './fresh-token.js';
import { GrantDirectory } from './operator/grant-directory.js';
import type { PendingGrant } from './pending-grant.js';
import { PendingGrants } from './pending-grants.js';
import { type ImportOutcome, RecordTransfer } from './record-transfer.js';
import { type DecodedRecord, RecordCodec } from './records/codec.js';
import { Keys } from './records/keys.js';
import { RefreshRotation } from './refresh-rotation.js';
import { SessionService } from './session-service.js';
import type { CacheStore, KeyValueStore } from './store/contract.js';
import { adaptKeyValueStore, isCacheStore } from './store/keyvalue-adapter.js';
import { MemoryStore } from './store/memory-store.js';
import { TokenService } from './token-service.js';
import type {
  CacheStats,
  ExportedRecord,
  FreshToken,
  ImportOptions,
  PendingGrantInput,
  Refresher,
  RotateOptions,
  RotationResult,
  Session,
  StoredTokenInfo,
  StoreTokenInput,
  StoreTokensOptions,
  TokenListing,
  TokenValidation,
} from './types.js';

/** Options of {@link createTokenCache}: config fields (over the environment's preset) plus wiring. */
export interface TokenCacheOptions extends CacheConfigInput {
  /** Where records live. A plain Keyv is accepted (single process only). Default: a new MemoryStore. */
  store?: CacheStore | KeyValueStore;
  /** A configuration already resolved (e.g. by `configFromEnv`); other config fields are then ignored. */
  config?: CacheConfig;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
  /** Start the periodic cleanup timer (default true when `cleanupInterval` > 0). */
  autoCleanup?: boolean;
}

/**
 * The token and session cache. One instance per process; several processes share state through
 * a shared store (SQLite file, Redis). See the package README for a tour.
 */
export class TokenCache {
  /** The resolved configuration. */
  readonly config: CacheConfig;
  /** The store, adapted to the full contract. */
  readonly store: CacheStore;
  /** `operation`, `security`, `cleanup` and `error` events; attach metrics and logs here. */
  readonly events = new EventEmitter<CacheEventMap>();

  readonly #ctx: CacheContext;
  readonly #tokens: TokenService;
  readonly #rotation: RefreshRotation;
  readonly #sessions: SessionService;
  readonly #fresh: FreshTokenFlight;
  readonly #transfer: RecordTransfer;
  readonly #pending: PendingGrants;
  readonly #directory: GrantDirectory;
  readonly #counters = new Counters();
  #cleanupTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: TokenCacheOptions = {}) {
    const { store, config, now, autoCleanup, ...configInput } = options;
    const resolved = config ?? resolveConfig(configInput);
    const ephemeral: string[] = [];
    if (!resolved.secret) ephemeral.push('secret');
    if (resolved.encryptionKeys.length === 0) ephemeral.push('encryption key');
    this.config = {
      ...resolved,
      // Without configured keys nothing survives a restart; say so through a security event.
      secret: resolved.secret ?? randomBytes(32),
      encryptionKeys: resolved.encryptionKeys.length
        ? resolved.encryptionKeys
        : [{ kid: 'ephemeral', key: randomBytes(32) }],
    };
    const rawStore: CacheStore | KeyValueStore = store ?? new MemoryStore();
    this.store = isCacheStore(rawStore) ? rawStore : adaptKeyValueStore(rawStore as KeyValueStore);
    const digester = new Digester(this.config.secret!);
    const sealer = new Sealer(this.config.encryptionKeys);
    const tokenSealer = new TokenSealer(this.config.secret!);
    const prefix = this.config.prefix;
    const clock = now ?? Date.now;
    const counters = this.#counters;
    const events = this.events;
    // User ids repeat across a user's tokens and sessions; their digests are memoised (bounded).
    const userHashes = new LRUCache<string, string>({ max: 10_000 });
    this.#ctx = {
      config: this.config,
      store: this.store,
      codec: new RecordCodec(this.config.securityLevel, sealer, tokenSealer, prefix),
      digester,
      sealer,
      tokenSealer,
      counters,
      events,
      now: clock,
      key: (suffix) => prefix + suffix,
      userHash: (userId) => {
        let hash = userHashes.get(userId);
        if (hash === undefined) {
          hash = digester.digest(`user:${userId}`);
          userHashes.set(userId, hash);
        }
        return hash;
      },
      security: (event) => {
        const full: SecurityEvent = { ...event, at: clock() };
        counters.security.events += 1;
        counters.security.lastEvent = full;
        events.emit('security', full);
      },
      operation: (subject, operation, result, started) => {
        if (events.listenerCount('operation') === 0) return;
        events.emit('operation', {
          subject,
          operation,
          result,
          duration: (performance.now() - started) / 1000,
        });
      },
      failure: (subject, operation, error, started) => {
        this.#ctx.operation(subject, operation, 'error', started || performance.now());
        if (events.listenerCount('error') > 0) {
          events.emit('error', error instanceof Error ? error : new Error(String(error)));
        }
      },
    };
    this.#tokens = new TokenService(this.#ctx);
    this.#rotation = new RefreshRotation(this.#ctx, this.#tokens);
    this.#sessions = new SessionService(this.#ctx, this.#tokens.revocations);
    this.#fresh = new FreshTokenFlight(this.#ctx, this.#tokens);
    this.#transfer = new RecordTransfer(this.#ctx);
    this.#pending = new PendingGrants(this.#ctx, (key, code) => this.#tokens.readRecord(key, code));
    this.#directory = new GrantDirectory({ ctx: this.#ctx, tokens: this.#tokens, sessions: this.#sessions });
    if (ephemeral.length) {
      queueMicrotask(() =>
        this.#ctx.security({
          type: 'ephemeral_keys',
          reason: `no ${ephemeral.join(' and no ')} configured: generated for this process only, stored tokens will not survive a restart`,
        }),
      );
    }
    if ((autoCleanup ?? true) && this.config.cleanupInterval > 0) {
      this.#cleanupTimer = setInterval(() => {
        this.purgeExpired().catch((error: Error) => this.#emitError(error));
      }, this.config.cleanupInterval * 1000);
      this.#cleanupTimer.unref();
    }
  }

  /**
   * The operator directory over this cache's store: list users, read a user's grants and sessions,
   * revoke a grant, a session or a user (see {@link GrantDirectory}).
   */
  get directory(): GrantDirectory {
    return this.#directory;
  }

  /**
   * Store an access and/or refresh token for a user. A new grant (family) beyond `maxGrantsPerUser`
   * revokes the same user's least recently issued grant; other users' tokens are never touched.
   * Throws `CapacityError` (nothing written) when the cache holds `maxTokens` live tokens.
   */
  storeToken(input: StoreTokenInput): Promise<StoredTokenInfo> {
    return this.#observe('token', 'store', () => this.#tokens.storeToken(input));
  }

  /**
   * Store the grant an authorization code stands for, before any token exists: the grant record
   * (user data sealed under a new grant key) and the code's record at `input.key`, which holds that
   * key wrapped under a key derived from the code. Resolves the grant's family id. One commit.
   * The code's single use is the caller's (it deletes the record when it redeems the code).
   */
  storePendingGrant(input: PendingGrantInput): Promise<string> {
    return this.#observe('token', 'store_pending_grant', () => this.#pending.store(input));
  }

  /**
   * Open the grant of the code record at `key` (relative to the prefix) with the code: `undefined`
   * when there is none, it expired, or `code` is not the code it was stored for. Pass the result
   * to `storeToken` as `pendingGrant`.
   */
  openPendingGrant(code: string, key: string): Promise<PendingGrant | undefined> {
    return this.#observe('token', 'open_pending_grant', () => this.#pending.open(code, key));
  }

  /**
   * Store many tokens in one batch where the store supports it (migrations). `{ evict: false }`
   * judges no cap; otherwise see {@link StoreTokensOptions}.
   */
  storeTokens(inputs: StoreTokenInput[], options?: StoreTokensOptions): Promise<StoredTokenInfo[]> {
    return this.#observe('token', 'store_batch', () => this.#tokens.storeTokens(inputs, options));
  }

  /**
   * Validate an access token: its metadata, or `null` for unknown, expired or revoked tokens.
   * Throws `StoreUnavailableError` when the store cannot answer (never `null` for that).
   */
  validateAccessToken(token: string): Promise<TokenValidation | null> {
    return this.#tokens.validateAccessToken(token);
  }

  /** Metadata of a live refresh token, or `null`. */
  inspectRefreshToken(token: string): Promise<TokenValidation | null> {
    return this.#observe('token', 'inspect', () => this.#tokens.inspectRefreshToken(token));
  }

  /**
   * Consume a refresh token and issue the next pair in the same family. Throws `InvalidGrantError`;
   * a consumed token presented again revokes the family (`reuse_detected`). Throws `CapacityError`
   * before consuming anything when the cache is full.
   */
  rotateRefreshToken(refreshToken: string, options?: RotateOptions): Promise<RotationResult> {
    return this.#observe('token', 'rotate', () => this.#rotation.rotate(refreshToken, options));
  }

  /** The user's live tokens (metadata only). */
  getTokensForUser(userId: string): Promise<TokenListing[]> {
    return this.#observe('token', 'list', () => this.#tokens.getTokensForUser(userId));
  }

  /** Revoke a token given raw (a refresh token revokes its family). */
  revokeToken(token: string): Promise<boolean> {
    return this.#observe('token', 'revoke', () => this.#tokens.revokeToken(token));
  }

  /** Revoke a token by the id `getTokensForUser` lists. */
  revokeTokenById(id: string): Promise<boolean> {
    return this.#observe('token', 'revoke', () => this.#tokens.revokeTokenById(id));
  }

  /** Revoke every token of a family (grant). Resolves how many records were deleted. */
  revokeFamily(familyId: string): Promise<number> {
    return this.#observe('token', 'revoke_family', () => this.#tokens.revokeFamily(familyId));
  }

  /** Revoke every token of a user. */
  revokeUserTokens(userId: string): Promise<number> {
    return this.#observe('token', 'revoke_user', () => this.#tokens.revokeUserTokens(userId));
  }

  /**
   * A usable access token for the user (tokens stored with `retrievable: true`), refreshed through
   * `refresher` when inside `refreshThreshold`; at most one refresh at a time per user and client.
   */
  getFreshToken(userId: string, refresher: Refresher, options?: { clientId?: string }): Promise<FreshToken> {
    return this.#observe('token', 'fresh', () => this.#fresh.get(userId, refresher, options));
  }

  /** Open a session; the user's least recently active sessions beyond the cap are evicted. */
  createSession(userId: string, data?: unknown): Promise<Session> {
    return this.#observe('session', 'create', () => this.#sessions.create(userId, data));
  }

  getSession(id: string): Promise<Session | null> {
    return this.#observe('session', 'get', () => this.#sessions.get(id));
  }

  /** Record activity (sliding idle timeout, bounded by the absolute lifetime). */
  touchSession(id: string): Promise<Session | null> {
    return this.#observe('session', 'touch', () => this.#sessions.touch(id));
  }

  /** End a session and every token bound to it. */
  revokeSession(id: string): Promise<boolean> {
    return this.#observe('session', 'revoke', () => this.#sessions.revoke(id));
  }

  /** The user's live sessions (without their ids, which are not stored). */
  getSessionsForUser(userId: string) {
    return this.#observe('session', 'list', () => this.#sessions.listForUser(userId));
  }

  /** Counters of this process plus gauges read from the store. */
  async stats(): Promise<CacheStats> {
    const now = Date.now();
    const [tokens, sessions, users] = await Promise.all([
      this.store.indexCount(this.#ctx.key(Keys.tokens), now),
      this.store.indexCount(this.#ctx.key(Keys.sessions), now),
      this.store.indexCount(this.#ctx.key(Keys.users), now),
    ]);
    const c = this.#counters;
    return {
      summary: {
        totalActiveTokens: tokens,
        totalActiveSessions: sessions,
        totalUsers: users,
        cacheHitRate: c.hitRate(),
      },
      tokens: { active: tokens, ...c.tokens },
      sessions: { active: sessions, ...c.sessions },
      security: {
        level: this.config.securityLevel,
        events: c.security.events,
        reuseDetected: c.security.reuseDetected,
        rejected: c.security.rejected,
        ...(c.security.lastEvent ? { lastEvent: c.security.lastEvent } : {}),
      },
      store: { kind: this.store.kind },
      cleanup: { ...c.cleanup },
    };
  }

  /** Remove expired records now (the timer does this every `cleanupInterval` seconds). */
  async purgeExpired(): Promise<number> {
    const started = performance.now();
    const removed = await this.store.sweep(this.#ctx.now());
    const c = this.#counters.cleanup;
    c.runs += 1;
    c.removed += removed;
    c.lastRunAt = Date.now();
    this.events.emit('cleanup', { removed, duration: (performance.now() - started) / 1000 });
    return removed;
  }

  /** Resolves when the store answers; throws `StoreUnavailableError` otherwise. */
  ping(): Promise<void> {
    return this.store.ping();
  }

  /** base64url HMAC-SHA-256 of `value` under the cache secret (for keying other secrets). */
  digest(value: string): string {
    return this.#ctx.digester.digest(value);
  }

  /** Prefixed store key for `suffix` (other components keep their records under `x:`). */
  key(suffix: string): string {
    return this.#ctx.key(suffix);
  }

  /** Seal any JSON value with the active key; `aad` binds it to its context (e.g. its store key). */
  seal(value: unknown, aad: string): string {
    return this.#ctx.sealer.seal(value, aad);
  }

  /** Open what `seal` produced with the same `aad`. Throws `SealError`. */
  open(sealed: string, aad: string): unknown {
    return this.#ctx.sealer.open(sealed, aad);
  }

  /**
   * Seal a JSON value for the holder of `secret` (a code, a token): the key is derived from it and
   * the cache secret, so the store plus every server key cannot open it (see `TokenSealer`).
   */
  sealFor(secret: string, value: unknown, aad: string): string {
    return this.#ctx.tokenSealer.seal(secret, value, aad);
  }

  /** Open what `sealFor` produced with the same `secret` and `aad`. Throws `SealError`. */
  openFor(secret: string, sealed: string, aad: string): unknown {
    return this.#ctx.tokenSealer.open(secret, sealed, aad);
  }

  /**
   * What the server's keys read of an exported record (`key` relative to the prefix): everything
   * but the part sealed for its token's holder (the 1C credentials; at `maximum` the user id).
   * `undefined` for what is not a token, session or marker record. Throws `SealError` when the
   * configured keys do not open it. For operators' tools and for tests of what a leak reveals.
   */
  readStoredRecord(key: string, value: unknown): DecodedRecord | undefined {
    return this.#ctx.codec.decode(this.#ctx.key(key), value);
  }

  /** Every live record, keys relative to the prefix, sealed parts still sealed. */
  exportRecords(): AsyncIterable<ExportedRecord> {
    return this.#transfer.export();
  }

  /**
   * Write one exported record (same secret and keys as the source) and rebuild its indexes.
   * Resolves `kept` when a record with a later or equal expiry is already there.
   */
  importRecord(record: ExportedRecord): Promise<ImportOutcome> {
    return this.#transfer.import(record);
  }

  /**
   * {@link importRecord} for a batch, in one store transaction/pipeline where the store has one.
   * `assumeAbsent` skips the read of what is stored (see {@link ImportOptions}).
   */
  importRecords(records: ExportedRecord[], options?: ImportOptions): Promise<ImportOutcome[]> {
    return this.#transfer.importMany(records, options);
  }

  /** Stop timers and close the store. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#cleanupTimer) clearInterval(this.#cleanupTimer);
    await this.store.close();
  }

  /**
   * Run a call and report a store failure as an `operation` event with result `error` and an
   * `error` event before rethrowing. Refusals on purpose (`InvalidGrantError`, `InvalidInputError`)
   * are not failures and are reported by the services themselves.
   */
  async #observe<T>(subject: 'token' | 'session', operation: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.#ctx.failure(subject, operation, error, started);
      throw error;
    }
  }

  #emitError(error: Error): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }
}

/** Create a cache. See {@link TokenCacheOptions}. */
export function createTokenCache(options: TokenCacheOptions = {}): TokenCache {
  return new TokenCache(options);
}

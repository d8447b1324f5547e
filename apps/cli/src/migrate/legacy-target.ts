import {
  type BulkLoadInfo,
  InvalidInputError,
  legacyFamilyId,
  type StoredRecord,
  type StoreTokenInput,
  type StoreTokensOptions,
  type TokenCache,
} from '@oauth-cache/core';
import type { LegacyEntry } from '../legacy/entry.js';
import { holdsNoRecord } from './empty-target.js';
import type { LegacyBinding } from './legacy-binding.js';

/**
 * How legacy entries are stored: never evicting (the run checked its room), and each token
 * holding its one-token grant itself (a grant record per token would cost a write more each: a
 * 100k import took 45 % longer on Redis); its first rotation moves the grant to a grant record.
 */
const WRITE_OPTIONS: StoreTokensOptions = { evict: false, selfContained: true };

/** What to do with a valid, live legacy entry once the target has been looked at. */
export type LegacyDecision = 'write' | 'present' | 'revoked';

/** The decisions on a batch, and each entry's family id (computed for the lookup, reused to write). */
export interface LegacyDecisions {
  actions: LegacyDecision[];
  familyIds: string[];
}

/**
 * Family (grant) id of a legacy token, deterministic so that a re-run writes the same records and
 * recognises a family revoked in the target: core's `legacyFamilyId`, named after the token's
 * digest, whose membership in the family's tokens index is implied rather than written.
 */
export function familyIdOf(cache: TokenCache, entry: Pick<LegacyEntry, 'kind' | 'token'>): string {
  return legacyFamilyId(entry.kind, cache.digest(entry.token));
}

/**
 * The family id release 0.1.0 gave a legacy token. A target they migrated may hold a
 * revocation marker under it, which a re-run must still honour.
 */
function previousFamilyId(cache: TokenCache, token: string): string {
  return `legacy-${cache.digest(`legacy-family:${token}`)}`;
}

/**
 * Writes legacy entries into a cache. Presence is checked for a whole batch with one `getMany` over
 * the documented record keys (`at:`/`rt:<digest>`, `rc:<digest>` for rotated refresh tokens,
 * `fr:<family>` for revoked families), reading only the clear `exp` of each record: the same rule
 * as core's `importRecord` (a record with a later or equal expiry is kept). Into a target that held
 * no record when the run started nothing is looked up.
 */
export class LegacyTarget {
  /** Set by {@link bulkLoad}: the target held no record when the run started. */
  #empty = false;

  constructor(
    private readonly cache: TokenCache,
    private readonly binding: LegacyBinding,
  ) {}

  /** One decision and family id per entry, same order. */
  async decide(entries: readonly LegacyEntry[]): Promise<LegacyDecisions> {
    const cache = this.cache;
    const keys: string[] = [];
    const spans: Array<{ record: number; markers: number[] }> = [];
    const familyIds: string[] = [];
    if (this.#empty) {
      // Nothing was there to be present or revoked, and the reader drops repeated tokens: no
      // lookup (~1500 keys a 500-token batch; 300k entries into an empty Redis: 9.9 → 8.2 s).
      for (const entry of entries) familyIds.push(familyIdOf(cache, entry));
      return { actions: entries.map(() => 'write'), familyIds };
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const id = cache.digest(entry.token);
      const markers: number[] = [];
      const record = keys.push(cache.key(`${entry.kind === 'access' ? 'at' : 'rt'}:${id}`)) - 1;
      if (entry.kind === 'refresh') markers.push(keys.push(cache.key(`rc:${id}`)) - 1);
      const family = legacyFamilyId(entry.kind, id);
      familyIds.push(family);
      markers.push(keys.push(cache.key(`fr:${family}`)) - 1);
      markers.push(keys.push(cache.key(`fr:${previousFamilyId(cache, entry.token)}`)) - 1);
      spans.push({ record, markers });
    }
    const values = keys.length > 0 ? await cache.store.getMany(keys) : [];
    const now = Date.now();
    const actions = entries.map((entry, i): LegacyDecision => {
      const span = spans[i]!;
      const existing = values[span.record] as Partial<StoredRecord> | undefined;
      if (existing !== undefined && typeof existing?.exp === 'number' && existing.exp > now) {
        if (existing.exp >= entry.expiresAt) return 'present';
      }
      if (span.markers.some((m) => isLive(values[m], now))) return 'revoked';
      return 'write';
    });
    return { actions, familyIds };
  }

  /** Whether the store writes a whole batch in one transaction or pipeline (`writeBatch`). */
  get bulk(): boolean {
    return typeof this.cache.store.writeBatch === 'function';
  }

  /**
   * Run the migration as the store's bulk load when it has one (SQLite stages the batches and
   * merges them in key order). `decide` never needs to read this run's own batches back: the dump
   * reader drops repeated tokens before they get here.
   */
  async bulkLoad<T>(run: (load: BulkLoadInfo) => Promise<T>): Promise<T> {
    this.#empty = await holdsNoRecord(this.cache);
    const store = this.cache.store;
    return store.bulkLoad ? store.bulkLoad(run) : run({ deferred: false });
  }

  /**
   * Store entries as core records with one `storeTokens` call (one transaction on SQLite, one
   * Lua script call on Redis: a batch lands whole or not at all, which is what makes a killed run
   * resumable). Never evicts: the run checked the room it needs before writing (`capacity.ts`).
   */
  async writeMany(entries: readonly LegacyEntry[], familyIds: readonly string[]): Promise<void> {
    await this.cache.storeTokens(
      entries.map((e, i) => this.input(e, familyIds[i])),
      WRITE_OPTIONS,
    );
  }

  /** Store one entry as core records (never evicting, as {@link writeMany}). */
  async write(entry: LegacyEntry, familyId?: string): Promise<void> {
    await this.cache.storeTokens([this.input(entry, familyId)], WRITE_OPTIONS);
  }

  /**
   * The `storeToken` input of an entry, bound to the server's resource, scopes and the legacy
   * client id (see {@link LegacyBinding}). Never invents an access token for a refresh token. Built
   * field by field: spreads would copy a temporary object per token of a million-token import.
   */
  private input(entry: LegacyEntry, familyId: string | undefined): StoreTokenInput {
    const { binding } = this;
    const input: StoreTokenInput = {
      userId: entry.login,
      userData: { login: entry.login, password: entry.password },
      familyId: familyId ?? familyIdOf(this.cache, entry),
      clientId: binding.clientId,
      resource: binding.resource,
      scopes: binding.scopes,
    };
    if (entry.kind === 'access') {
      input.accessToken = entry.token;
      input.expiresAt = entry.expiresAt;
    } else {
      input.refreshToken = entry.token;
      input.refreshExpiresAt = entry.expiresAt;
      if (entry.rotationCounter !== undefined) input.rotation = entry.rotationCounter;
    }
    return input;
  }
}

function isLive(value: unknown, now: number): boolean {
  if (value === undefined || value === null) return false;
  const exp = (value as Partial<StoredRecord>).exp;
  return typeof exp !== 'number' || exp > now;
}

/** Errors of one entry (bad input) as opposed to errors of the store (fatal). */
export function isEntryError(error: unknown): error is InvalidInputError {
  return error instanceof InvalidInputError;
}

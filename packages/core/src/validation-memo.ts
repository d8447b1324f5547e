import { LRUCache } from 'lru-cache';
import type { DecodedRecord } from './records/codec.js';
import type { StoredRecord } from './store/contract.js';

/**
 * The stored strings a sealed (`maximum`) record's decoding depends on: the record's own, and for a
 * record linked to a grant, the grant's (its sealed fields and private part).
 */
interface SealedForm {
  kind: string;
  exp: number;
  sealed: string | undefined;
  /** `pv` of a self-contained record, `wk` of a linked one. */
  pv: string | undefined;
  grantSealed: string | undefined;
  grantPart: string | undefined;
}

interface Entry extends SealedForm {
  decoded: DecodedRecord;
}

/** Default bound of {@link ValidationMemo}: entries, least recently used go first. */
export const VALIDATION_MEMO_MAX = 10_000;

/**
 * Decodings of access-token records made for validations, keyed by the digest of the token the
 * caller presented, each with the exact stored bytes it was opened from.
 *
 * Why: a record read from SQLite or Redis (an L1 miss) is a freshly parsed object, so the codec's
 * per-object memo never hits and every validation paid two AES-GCM opens and a key derivation
 * (about a third of the server's CPU per request at `maximum`). Opening is a pure function of the
 * stored bytes, the record key and the token: when a read hands back the same sealed bytes under
 * the same key, the earlier decoding IS the answer.
 *
 * What it never changes:
 * - the store (or its L1, with its own staleness rules) is still read on every validation; this
 *   memo answers only "what do these bytes say", never "does the record still exist": a revoked,
 *   rotated or deleted token is refused exactly as before, at once;
 * - expiry is checked against the clock by the caller on every call; an entry past the record's
 *   own expiry is never recalled (dropped when met), and the bound keeps the rest in check;
 * - it is consulted only with the digest computed from the token presented by the caller (no
 *   caller holding only a digest, such as a listing or a revocation by id, reads it), and only
 *   compares sealed (`maximum`) records, whose bytes bind the record key (AAD) and whose private
 *   part opens only with that token.
 */
export class ValidationMemo {
  readonly #entries: LRUCache<string, Entry>;

  constructor(max = VALIDATION_MEMO_MAX) {
    // No lru-cache TTL: its clock caching arms a timer every millisecond under load. Expiry is
    // checked here on each recall instead (and by the caller against its own clock).
    this.#entries = new LRUCache<string, Entry>({ max: Math.max(1, max) });
  }

  /** Entries held, expired ones not yet dropped included (for tests and stats). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The decoding made earlier for the token whose digest is `tokenDigest`, when `stored` carries
   * exactly the bytes it was made from; `undefined` otherwise (decode, then {@link remember}).
   */
  recall(tokenDigest: string, stored: unknown, grant?: unknown): DecodedRecord | undefined {
    const form = sealedForm(stored, grant);
    if (form === undefined) return undefined;
    const entry = this.#entries.get(tokenDigest);
    if (entry === undefined) return undefined;
    if (entry.exp <= Date.now()) {
      this.#entries.delete(tokenDigest);
      return undefined;
    }
    if (
      entry.sealed !== form.sealed ||
      entry.pv !== form.pv ||
      entry.exp !== form.exp ||
      entry.kind !== form.kind ||
      entry.grantSealed !== form.grantSealed ||
      entry.grantPart !== form.grantPart
    ) {
      return undefined;
    }
    return entry.decoded;
  }

  /**
   * Keep `decoded`, the decoding of `stored` made with the token whose digest is `tokenDigest`,
   * until the record's expiry (`now` is the caller's clock; the entry also goes once the wall
   * clock passes it). Records that are not sealed as a
   * whole are not kept (their decoding is cheap, and comparing their clear bodies is not).
   */
  remember(tokenDigest: string, stored: unknown, decoded: DecodedRecord, now: number, grant?: unknown): void {
    const form = sealedForm(stored, grant);
    if (form === undefined || decoded.exp <= now || decoded.exp <= Date.now()) {
      this.#entries.delete(tokenDigest);
      return;
    }
    this.#entries.set(tokenDigest, { ...form, decoded });
  }

  /** Drop the entry of one token (its record is gone, expired, or did not open). */
  forget(tokenDigest: string): void {
    this.#entries.delete(tokenDigest);
  }

  /** Drop every entry. */
  clear(): void {
    this.#entries.clear();
  }
}

function sealedForm(stored: unknown, grant: unknown): SealedForm | undefined {
  if (typeof stored !== 'object' || stored === null) return undefined;
  const s = stored as Partial<StoredRecord>;
  if (s.v !== 1 || typeof s.exp !== 'number' || typeof s.kind !== 'string') return undefined;
  if (s.sealed !== undefined && typeof s.sealed !== 'string') return undefined;
  if (typeof s.g === 'string') {
    // Linked: the grant's sealed strings decide the rest (its id is bound in them as AAD).
    const g = grant as Partial<StoredRecord> | undefined;
    if (typeof g !== 'object' || g === null || typeof g.sealed !== 'string') return undefined;
    if (typeof s.wk !== 'string' || (g.gp !== undefined && typeof g.gp !== 'string')) return undefined;
    return { kind: s.kind, exp: s.exp, sealed: s.sealed, pv: s.wk, grantSealed: g.sealed, grantPart: g.gp };
  }
  if (typeof s.sealed !== 'string' || (s.pv !== undefined && typeof s.pv !== 'string')) return undefined;
  return {
    kind: s.kind,
    exp: s.exp,
    sealed: s.sealed,
    pv: s.pv,
    grantSealed: undefined,
    grantPart: undefined,
  };
}

import type { SecurityLevel } from '../config.js';
import type { Sealer } from '../crypto/sealer.js';
import type { TokenSealer } from '../crypto/token-sealer.js';
import type { RecordBody, RecordKind, StoredRecord } from '../store/contract.js';
import { ValidationMemo } from '../validation-memo.js';

/** A record with its sealed parts opened. Shared between callers: never mutate. */
export interface DecodedRecord {
  kind: RecordKind;
  exp: number;
  body: RecordBody;
}

/** Decodings of one stored object: with its token (everything) and without (no private part). */
interface Decodings {
  full?: DecodedRecord;
  partial?: DecodedRecord;
}

/**
 * Turns record bodies into what is stored for the configured security level, and back.
 *
 * - `basic`: body in the clear (keys are still digests).
 * - `enhanced`: `userData` (`ud`), session data and retrievable raw tokens (`tok`) sealed.
 * - `maximum`: the whole body sealed; only `kind` and `exp` stay readable.
 *
 * A record encoded with its token (access, refresh and consumed records) keeps its private part —
 * `ud`, and at `maximum` also `uid` — sealed under that token's key (`pv`, {@link TokenSealer}):
 * the server's keys open the rest, never the 1C credentials (nor, at `maximum`, the login).
 * Decoding without the token (listings, revocation by id) gives the record without that part.
 * Records written before `pv` existed (credentials sealed with the server key) still decode.
 *
 * Decoding is memoised per stored object: the memory store and the L1 tier hand back the same
 * object for a hot token, so the AES-GCM open runs once per record, not once per request.
 */
export class RecordCodec {
  readonly #level: SecurityLevel;
  readonly #sealer: Sealer;
  readonly #tokenSealer: TokenSealer;
  readonly #decoded = new WeakMap<object, Decodings>();
  readonly #prefix: string;
  /**
   * Decodings made for validations, by the digest of the presented token: a record re-read from a
   * shared store is a new object each time, which the per-object memo above cannot recognise.
   */
  readonly validations = new ValidationMemo();

  /** `prefix` is left out of the sealed data's binding, so records move between prefixes intact. */
  constructor(level: SecurityLevel, sealer: Sealer, tokenSealer: TokenSealer, prefix: string) {
    this.#level = level;
    this.#sealer = sealer;
    this.#tokenSealer = tokenSealer;
    this.#prefix = prefix;
  }

  /**
   * Build the stored form of a record kept under `key`. `tok` is given raw and always sealed.
   * `token`: the raw token the record is keyed by, which seals its private part (see the class).
   */
  encode(storeKey: string, kind: RecordKind, exp: number, body: RecordBody, token?: string): StoredRecord {
    const key = this.#unprefixed(storeKey);
    const level = this.#level;
    let pv: string | undefined;
    let rest = body;
    if (token !== undefined && level !== 'basic') {
      const { ud, uid, ...others }: RecordBody = body;
      const privatePart: RecordBody = {};
      if (ud !== undefined) privatePart.ud = ud;
      if (level === 'maximum' && uid !== undefined) privatePart.uid = uid;
      rest = level === 'maximum' || uid === undefined ? others : { ...others, uid };
      pv = this.#tokenSealer.seal(token, privatePart, `${key}#pv`);
    }
    if (level === 'maximum') {
      const stored: StoredRecord = { v: 1, kind, exp, sealed: this.#sealer.seal(rest, key) };
      if (pv !== undefined) stored.pv = pv;
      return stored;
    }
    const { tok, ud, data, ...clear } = rest;
    const stored: RecordBody = clear;
    if (tok !== undefined) stored.toks = this.#sealer.seal(tok, `${key}#tok`);
    if (level === 'enhanced') {
      if (ud !== undefined) stored.uds = this.#sealer.seal(ud, `${key}#ud`);
      if (data !== undefined) stored.datas = this.#sealer.seal(data, `${key}#data`);
    } else {
      if (ud !== undefined) stored.ud = ud;
      if (data !== undefined) stored.data = data;
    }
    const record: StoredRecord = { v: 1, kind, exp, body: stored };
    if (pv !== undefined) record.pv = pv;
    return record;
  }

  /**
   * The full decoding (made with the token) of this very stored object, if one was made: the
   * memory store and the L1 hand back the same object for a hot token. The caller must hold the
   * token the object's key was derived from (as `decode` with `token` requires).
   */
  decodedWithToken(value: unknown): DecodedRecord | undefined {
    return typeof value === 'object' && value !== null ? this.#decoded.get(value)?.full : undefined;
  }

  /**
   * Open a stored value read under `key`; with `token`, its private part too. Returns `undefined`
   * for anything that is not a record of ours. Throws `SealError` when a sealed part does not open
   * (wrong keys, another token, tampering).
   */
  decode(storeKey: string, value: unknown, token?: string): DecodedRecord | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    let memo = this.#decoded.get(value);
    // Without the token only the partial decoding: a full one (opened earlier by the token's holder)
    // must not hand the private part to a caller that did not present the token.
    const cached = token !== undefined ? memo?.full : memo?.partial;
    if (cached) return cached;
    const key = this.#unprefixed(storeKey);
    const record = value as Partial<StoredRecord>;
    if (record.v !== 1 || typeof record.exp !== 'number' || typeof record.kind !== 'string') return undefined;
    let body: RecordBody;
    if (typeof record.sealed === 'string') {
      // Freshly parsed: adopted as is (a copy gave every body its own hidden class, ~2 µs a read).
      const opened = this.#sealer.open(record.sealed, key);
      if (typeof opened !== 'object' || opened === null) return undefined;
      body = opened as RecordBody;
    } else if (record.body && typeof record.body === 'object') {
      const { toks, uds, datas, ...clear } = record.body;
      body = clear;
      if (typeof toks === 'string') body.tok = this.#sealer.open(toks, `${key}#tok`) as string;
      if (typeof uds === 'string') body.ud = this.#sealer.open(uds, `${key}#ud`);
      if (typeof datas === 'string') body.data = this.#sealer.open(datas, `${key}#data`);
    } else {
      return undefined;
    }
    const opened = token !== undefined && typeof record.pv === 'string';
    if (opened) Object.assign(body, this.#tokenSealer.open(token, record.pv as string, `${key}#pv`));
    const decoded: DecodedRecord = { kind: record.kind as RecordKind, exp: record.exp, body };
    if (!memo) {
      memo = {};
      this.#decoded.set(value, memo);
    }
    // Without a private part there is nothing the token adds: one decoding serves both.
    if (opened || typeof record.pv !== 'string') memo.full = decoded;
    if (!opened) memo.partial = decoded;
    return decoded;
  }

  #unprefixed(key: string): string {
    return key.startsWith(this.#prefix) ? key.slice(this.#prefix.length) : key;
  }
}

import type { SecurityLevel } from '../config.js';
import type { Sealer } from '../crypto/sealer.js';
import type { RecordBody, RecordKind, StoredRecord } from '../store/contract.js';

/** A record with its sealed parts opened. Shared between callers: never mutate. */
export interface DecodedRecord {
  kind: RecordKind;
  exp: number;
  body: RecordBody;
}

/**
 * Turns record bodies into what is stored for the configured security level, and back.
 *
 * - `basic`: body in the clear (keys are still digests).
 * - `enhanced`: `userData` (`ud`), session data and retrievable raw tokens (`tok`) sealed.
 * - `maximum`: the whole body sealed; only `kind` and `exp` stay readable.
 *
 * Decoding is memoised per stored object: the memory store and the L1 tier hand back the same
 * object for a hot token, so the AES-GCM open runs once per record, not once per request.
 */
export class RecordCodec {
  readonly #level: SecurityLevel;
  readonly #sealer: Sealer;
  readonly #decoded = new WeakMap<object, DecodedRecord>();
  readonly #prefix: string;

  /** `prefix` is left out of the sealed data's binding, so records move between prefixes intact. */
  constructor(level: SecurityLevel, sealer: Sealer, prefix: string) {
    this.#level = level;
    this.#sealer = sealer;
    this.#prefix = prefix;
  }

  /** Build the stored form of a record kept under `key`. `tok` is given raw and always sealed. */
  encode(storeKey: string, kind: RecordKind, exp: number, body: RecordBody): StoredRecord {
    const key = this.#unprefixed(storeKey);
    if (this.#level === 'maximum') {
      return { v: 1, kind, exp, sealed: this.#sealer.seal(body, key) };
    }
    const { tok, ud, data, ...clear } = body;
    const stored: RecordBody = clear;
    if (tok !== undefined) stored.toks = this.#sealer.seal(tok, `${key}#tok`);
    if (this.#level === 'enhanced') {
      if (ud !== undefined) stored.uds = this.#sealer.seal(ud, `${key}#ud`);
      if (data !== undefined) stored.datas = this.#sealer.seal(data, `${key}#data`);
    } else {
      if (ud !== undefined) stored.ud = ud;
      if (data !== undefined) stored.data = data;
    }
    return { v: 1, kind, exp, body: stored };
  }

  /**
   * Open a stored value read under `key`. Returns `undefined` for anything that is not a record
   * of ours. Throws `SealError` when a sealed part does not open (wrong keys, tampering).
   */
  decode(storeKey: string, value: unknown): DecodedRecord | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const cached = this.#decoded.get(value);
    if (cached) return cached;
    const key = this.#unprefixed(storeKey);
    const record = value as Partial<StoredRecord>;
    if (record.v !== 1 || typeof record.exp !== 'number' || typeof record.kind !== 'string') return undefined;
    let body: RecordBody;
    if (typeof record.sealed === 'string') {
      body = this.#sealer.open(record.sealed, key) as RecordBody;
    } else if (record.body && typeof record.body === 'object') {
      const { toks, uds, datas, ...clear } = record.body;
      body = clear;
      if (typeof toks === 'string') body.tok = this.#sealer.open(toks, `${key}#tok`) as string;
      if (typeof uds === 'string') body.ud = this.#sealer.open(uds, `${key}#ud`);
      if (typeof datas === 'string') body.data = this.#sealer.open(datas, `${key}#data`);
    } else {
      return undefined;
    }
    const decoded: DecodedRecord = { kind: record.kind as RecordKind, exp: record.exp, body };
    this.#decoded.set(value, decoded);
    return decoded;
  }

  #unprefixed(key: string): string {
    return key.startsWith(this.#prefix) ? key.slice(this.#prefix.length) : key;
  }
}

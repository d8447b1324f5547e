import type { SecurityLevel } from '../config.js';
import { GrantKeys } from '../crypto/grant-key.js';
import type { Sealer } from '../crypto/sealer.js';
import type { TokenSealer } from '../crypto/token-sealer.js';
import type { RecordBody, RecordKind, StoredRecord } from '../store/contract.js';
import { ValidationMemo } from '../validation-memo.js';
import { Keys } from './keys.js';

/** The grant a token record links to, as its decoding found it (rotation wraps its key anew). */
export interface GrantRef {
  /** The grant (family) id. */
  id: string;
  /** The stored grant record as read: a rotation re-sets it with a later expiry, unchanged otherwise. */
  stored: StoredRecord;
  /** The grant's fields the server's keys open (no private part). */
  body: RecordBody;
  /** The grant's key, when the token record was decoded with its token (not at `basic`). */
  key?: Buffer;
}

/** A record with its sealed parts opened. Shared between callers: never mutate. */
export interface DecodedRecord {
  kind: RecordKind;
  exp: number;
  /** A linked token record's body: its grant's fields, then its own, as one. */
  body: RecordBody;
  /** The grant a token record links to (absent for a record that holds everything itself). */
  grant?: GrantRef;
}

/** Decodings of one stored object: with its token (everything) and without (no private part). */
interface Decodings {
  full?: DecodedRecord;
  partial?: DecodedRecord;
}

/** Joined decodings of one linked token record, valid while read with this very grant object. */
interface Joined extends Decodings {
  grant: object;
}

/**
 * Split a body into its private part (`ud`; at `maximum` also `uid`) and the rest. One pass, no object rest (that cost a migration ~3 µs a token).
 */
function privatePartOf(body: RecordBody, level: SecurityLevel): { part: RecordBody; rest: RecordBody } {
  const part: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const key in body) {
    const value = body[key as keyof RecordBody];
    if (value === undefined) continue;
    if (key === 'ud' || (key === 'uid' && level === 'maximum')) part[key] = value;
    else rest[key] = value;
  }
  return { part, rest };
}

/**
 * A linked token's body: its grant's fields, then its own, then the opened private part. One
 * literal of one shape (spreads of parsed objects gave every body its own hidden class, and the
 * hot path's reads of them went megamorphic: ~4 µs a validation).
 */
function joinBodies(
  grantId: string,
  grant: RecordBody,
  own: RecordBody,
  opened: RecordBody | undefined,
): RecordBody {
  return {
    uid: opened?.uid ?? grant.uid,
    uh: grant.uh,
    fam: grantId,
    cid: grant.cid,
    scp: own.scp ?? grant.scp,
    res: grant.res,
    typ: own.typ ?? grant.typ,
    sid: grant.sid,
    iat: own.iat ?? grant.iat,
    ud: opened?.ud ?? grant.ud,
    rot: own.rot,
    tok: own.tok,
    data: own.data,
  };
}

/** What a new grant holds of its issuance (and a self-contained token: the same, then its own). */
export interface GrantFields {
  userId: string;
  clientId?: string | undefined;
  scopes?: string[] | undefined;
  resource?: string | undefined;
  tokenType?: string | undefined;
  sessionId?: string | undefined;
  userData?: unknown;
}

/**
 * The body of a new grant `familyId` (`userHash`: the digest of `fields.userId`). The one place
 * for a grant's shape; a literal, as spreads of it cost a migration ~5 µs a token.
 */
export function grantBody(fields: GrantFields, familyId: string, userHash: string, now: number): RecordBody {
  return {
    uid: fields.userId,
    uh: userHash,
    fam: familyId,
    cid: fields.clientId,
    scp: fields.scopes ?? [],
    res: fields.resource,
    typ: fields.tokenType ?? 'Bearer',
    sid: fields.sessionId,
    iat: now,
    ud: fields.userData,
  };
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
 * Tokens issued now link to a grant record instead (`g:<id>`, {@link encodeGrant}): the grant
 * holds what its tokens share and its private part sealed under a random per-grant key (`gp`);
 * each token record holds only its kind, expiry, the grant id, that key wrapped under a key
 * derived from its token (`wk`) and what is its own ({@link encodeLinked}). Decoding a linked
 * record takes its grant record too and gives the same {@link DecodedRecord} as a self-contained
 * one, so every reader sees one shape.
 *
 * Decoding is memoised per stored object: the memory store and the L1 tier hand back the same
 * object for a hot token, so the AES-GCM open runs once per record, not once per request.
 */
export class RecordCodec {
  readonly #level: SecurityLevel;
  readonly #sealer: Sealer;
  readonly #tokenSealer: TokenSealer;
  readonly #grantKeys = new GrantKeys();
  readonly #decoded = new WeakMap<object, Decodings>();
  readonly #joined = new WeakMap<object, Joined>();
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
    if (token === undefined || this.#level === 'basic') return this.#encodeOpen(key, kind, exp, body);
    const { part, rest } = privatePartOf(body, this.#level);
    const record = this.#encodeOpen(key, kind, exp, rest);
    record.pv = this.#tokenSealer.seal(token, part, `${key}#pv`);
    return record;
  }

  /**
   * Build a grant record (`g:<familyId>`): its private part sealed under `grantKey` (`gp`), the
   * rest as any record. `grantKey` is `undefined` only at `basic` (nothing sealed).
   */
  encodeGrant(familyId: string, exp: number, body: RecordBody, grantKey: Buffer | undefined): StoredRecord {
    const key = Keys.grant(familyId);
    if (grantKey === undefined || this.#level === 'basic') return this.#encodeOpen(key, 'grant', exp, body);
    const { part, rest } = privatePartOf(body, this.#level);
    const record = this.#encodeOpen(key, 'grant', exp, rest);
    record.gp = this.#grantKeys.seal(grantKey, part, `${key}#gp`);
    return record;
  }

  /**
   * Build a token record linked to `grant`: its kind, expiry, the grant id, the grant key wrapped
   * for `token` (`wk`) and `own`, what is this token's own (empty for most tokens).
   */
  encodeLinked(
    storeKey: string,
    kind: RecordKind,
    exp: number,
    grant: { id: string; key: Buffer | undefined },
    own: RecordBody,
    token: string,
  ): StoredRecord {
    const key = this.#unprefixed(storeKey);
    const record: StoredRecord =
      Object.keys(own).length === 0 ? { v: 1, kind, exp } : this.#encodeOpen(key, kind, exp, own);
    record.g = grant.id;
    if (grant.key !== undefined && this.#level !== 'basic') {
      record.wk = this.#tokenSealer.seal(token, grant.key.toString('base64url'), `${key}#wk`);
    }
    return record;
  }

  /** A fresh grant key (`undefined` at `basic`, where nothing is sealed). */
  newGrantKey(): Buffer | undefined {
    return this.#level === 'basic' ? undefined : this.#grantKeys.create();
  }

  /** The stored form of `body` under the unprefixed `key`, sealed with the server's keys per level. */
  #encodeOpen(key: string, kind: RecordKind, exp: number, body: RecordBody): StoredRecord {
    const level = this.#level;
    if (level === 'maximum') return { v: 1, kind, exp, sealed: this.#sealer.seal(body, key) };
    const { tok, ud, data, ...clear } = body;
    const stored: RecordBody = clear;
    if (tok !== undefined) stored.toks = this.#sealer.seal(tok, `${key}#tok`);
    if (level === 'enhanced') {
      if (ud !== undefined) stored.uds = this.#sealer.seal(ud, `${key}#ud`);
      if (data !== undefined) stored.datas = this.#sealer.seal(data, `${key}#data`);
    } else {
      if (ud !== undefined) stored.ud = ud;
      if (data !== undefined) stored.data = data;
    }
    return { v: 1, kind, exp, body: stored };
  }

  /**
   * The full decoding (made with the token) of this very stored object (read with this very
   * `grant` object, when linked), if one was made: the memory store and the L1 hand back the same
   * objects for a hot token. The caller must hold the token the object's key was derived from (as
   * `decode` with `token` requires).
   */
  decodedWithToken(value: unknown, grant?: unknown): DecodedRecord | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    if (typeof (value as StoredRecord).g !== 'string') return this.#decoded.get(value)?.full;
    const joined = this.#joined.get(value);
    return joined !== undefined && joined.grant === grant ? joined.full : undefined;
  }

  /**
   * Open a stored value read under `key`; with `token`, its private part too. A token record
   * linked to a grant needs its grant record (`grant`, read from `g:<value.g>`): without it, or
   * when it is not a grant, the token is unusable (`undefined`: its grant was revoked). Returns
   * `undefined` for anything that is not a record of ours. Throws `SealError` when a sealed part
   * does not open (wrong keys, another token, tampering).
   */
  decode(storeKey: string, value: unknown, token?: string, grant?: unknown): DecodedRecord | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const link = (value as StoredRecord).g;
    if (typeof link !== 'string') return this.#decodeOwn(storeKey, value, token);
    if (typeof grant !== 'object' || grant === null) return undefined;
    let joined = this.#joined.get(value);
    if (joined?.grant !== grant) joined = undefined;
    const cached = token !== undefined ? joined?.full : joined?.partial;
    if (cached) return cached;
    const own = this.#decodeOwn(storeKey, value);
    const shared = this.#decodeOwn(Keys.grant(link), grant);
    if (own === undefined || shared === undefined || shared.kind !== 'grant') return undefined;
    const wrapped = (value as StoredRecord).wk;
    const sealedPart = (grant as StoredRecord).gp;
    let grantKey: Buffer | undefined;
    let opened: RecordBody | undefined;
    if (token !== undefined && typeof wrapped === 'string') {
      const key = this.#unprefixed(storeKey);
      grantKey = this.#grantKeys.fromText(this.#tokenSealer.open(token, wrapped, `${key}#wk`));
      if (typeof sealedPart === 'string') {
        opened = this.#grantKeys.open(grantKey, sealedPart, `${Keys.grant(link)}#gp`) as RecordBody;
      }
    }
    const decoded: DecodedRecord = {
      kind: own.kind,
      exp: own.exp,
      body: joinBodies(link, shared.body, own.body, opened),
      grant: {
        id: link,
        stored: grant as StoredRecord,
        body: shared.body,
        ...(grantKey !== undefined ? { key: grantKey } : {}),
      },
    };
    if (joined === undefined) {
      joined = { grant };
      this.#joined.set(value, joined);
    }
    // Nothing sealed for the token's holder (`basic`): one decoding serves both.
    const full = grantKey !== undefined || typeof wrapped !== 'string';
    if (full) joined.full = decoded;
    if (grantKey === undefined) joined.partial = decoded;
    return decoded;
  }

  /** {@link decode} of a record that holds everything itself (and of a linked record's own part). */
  #decodeOwn(storeKey: string, value: unknown, token?: string): DecodedRecord | undefined {
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
    } else if (typeof record.g === 'string') {
      // A linked token record with nothing of its own.
      body = {};
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

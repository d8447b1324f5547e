import { randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../config.js';
import { SealError } from '../errors.js';
import { gcmOpen, gcmSeal, IV_BYTES, TAG_BYTES } from './aes-gcm.js';

const VERSION = 'v1';
/** IVs are cut from one random buffer refilled every 512 seals: one CSPRNG call instead of 512. */
const IV_POOL_BYTES = IV_BYTES * 512;

/** A source of fresh random 96-bit IVs, each pool byte handed out once. */
export class IvPool {
  #pool = Buffer.alloc(0);
  #offset = 0;

  next(): Buffer {
    if (this.#offset + IV_BYTES > this.#pool.length) {
      this.#pool = randomBytes(IV_POOL_BYTES);
      this.#offset = 0;
    }
    const iv = this.#pool.subarray(this.#offset, this.#offset + IV_BYTES);
    this.#offset += IV_BYTES;
    return iv;
  }
}

/**
 * AES-256-GCM sealing of JSON values under rotating keys.
 *
 * Format: `v1.<kid>.<iv b64url>.<ciphertext||tag b64url>`. The first key seals, every key opens, so
 * keys rotate by prepending a new one. The record's store key is bound as additional data: a sealed
 * blob copied under another key does not open.
 */
export class Sealer {
  readonly #active: EncryptionKey;
  readonly #byKid: Map<string, Buffer>;
  readonly #ivs = new IvPool();

  constructor(keys: EncryptionKey[]) {
    if (keys.length === 0) throw new SealError('at least one encryption key is required');
    this.#active = keys[0]!;
    this.#byKid = new Map(keys.map((k) => [k.kid, k.key]));
  }

  /** Id of the key new records are sealed with. */
  get activeKid(): string {
    return this.#active.kid;
  }

  seal(value: unknown, aad: string): string {
    const iv = this.#ivs.next();
    const body = gcmSeal(this.#active.key, iv, value, aad);
    return `${VERSION}.${this.#active.kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, aad: string): unknown {
    // Not `parseSealed`: this format has a fourth part (the kid), whose key is looked up before
    // the length check, and its own messages.
    if (typeof sealed !== 'string') throw new SealError('sealed value is not a string');
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SealError('unrecognised sealed value format');
    const [, kid, ivText, bodyText] = parts as [string, string, string, string];
    const key = this.#byKid.get(kid);
    if (!key) throw new SealError(`no encryption key with id "${kid}" is configured`);
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SealError('sealed value is truncated');
    try {
      return gcmOpen(key, iv, body, aad);
    } catch {
      throw new SealError(`sealed value failed authentication (key id "${kid}")`);
    }
  }
}

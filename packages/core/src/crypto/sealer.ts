import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionKey } from '../config.js';
import { SealError } from '../errors.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** IVs are cut from one random buffer refilled every 512 seals: one CSPRNG call instead of 512. */
const IV_POOL_BYTES = IV_BYTES * 512;

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
  #ivPool = Buffer.alloc(0);
  #ivOffset = 0;

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
    const iv = this.#nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.#active.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const plaintext = Buffer.from(JSON.stringify(value ?? null), 'utf8');
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${this.#active.kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** A fresh random 96-bit IV (never reused: each pool byte is handed out once). */
  #nextIv(): Buffer {
    if (this.#ivOffset + IV_BYTES > this.#ivPool.length) {
      this.#ivPool = randomBytes(IV_POOL_BYTES);
      this.#ivOffset = 0;
    }
    const iv = this.#ivPool.subarray(this.#ivOffset, this.#ivOffset + IV_BYTES);
    this.#ivOffset += IV_BYTES;
    return iv;
  }

  open(sealed: string, aad: string): unknown {
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
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plaintext = Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plaintext.toString('utf8'));
    } catch {
      throw new SealError(`sealed value failed authentication (key id "${kid}")`);
    }
  }
}

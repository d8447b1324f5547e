import { randomBytes } from 'node:crypto';
import { SealError } from '../errors.js';
import { gcmOpen, gcmSeal, parseSealed } from './aes-gcm.js';
import { IvPool } from './sealer.js';

const VERSION = 'g1';
/** Bytes of a grant key (AES-256). */
const KEY_BYTES = 32;

/**
 * Per-grant keys: each grant's private part (the 1C credentials) is sealed under a random key of
 * its own, and each token of the grant keeps that key wrapped under a key derived from the token
 * (`TokenSealer`). Nothing the server holds opens a grant: only a presented token unwraps its key
 * (Cloudflare's workers-oauth-provider keeps grants the same way). A rotation wraps the same key
 * for the new pair, so the grant itself is never re-sealed.
 *
 * Format: `g1.<iv b64url>.<ciphertext||tag b64url>`; the grant's store key is bound as additional
 * data.
 */
export class GrantKeys {
  readonly #ivs = new IvPool();

  /** A fresh random grant key. */
  create(): Buffer {
    return randomBytes(KEY_BYTES);
  }

  /** A grant key from its wrapped form's plaintext (base64url); throws `SealError` when malformed. */
  fromText(text: unknown): Buffer {
    const key = typeof text === 'string' ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) throw new SealError('unwrapped grant key is malformed');
    return key;
  }

  seal(key: Buffer, value: unknown, aad: string): string {
    const iv = this.#ivs.next();
    return `${VERSION}.${iv.toString('base64url')}.${gcmSeal(key, iv, value, aad).toString('base64url')}`;
  }

  /** What {@link seal} sealed under `key`. Throws `SealError` for another key or a damaged value. */
  open(key: Buffer, sealed: string, aad: string): unknown {
    const { iv, body } = parseSealed(VERSION, sealed, 'grant-sealed value');
    try {
      return gcmOpen(key, iv, body, aad);
    } catch {
      throw new SealError('sealed value failed authentication (not sealed under this grant key)');
    }
  }
}

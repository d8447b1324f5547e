import { createHmac } from 'node:crypto';
import { SealError } from '../errors.js';
import { gcmOpen, gcmSeal, parseSealed } from './aes-gcm.js';
import { Digester } from './digest.js';
import { IvPool } from './sealer.js';

const VERSION = 't1';

/**
 * Seals a record's private part (the 1C credentials; at `maximum` also the user id) under a key
 * derived from the token the record belongs to: `HMAC(K, token)` with `K = HMAC(secret,
 * "oauth-cache/token-key/v1")`. The store keeps only `HMAC(secret, token)` (another input of the
 * same PRF), so the store plus every server secret opens nothing: a record opens only for whoever
 * presents its token (Cloudflare's workers-oauth-provider wraps its grant keys the same way).
 *
 * Format: `t1.<iv b64url>.<ciphertext||tag b64url>`; the record's store key is bound as additional
 * data, as with {@link Sealer}.
 */
export class TokenSealer {
  readonly #keys: Digester;
  readonly #ivs = new IvPool();

  constructor(secret: Buffer) {
    this.#keys = new Digester(createHmac('sha256', secret).update('oauth-cache/token-key/v1').digest());
  }

  /** `value` sealed for the holder of `token`. */
  seal(token: string, value: unknown, aad: string): string {
    const iv = this.#ivs.next();
    const body = gcmSeal(this.#key(token), iv, value, aad);
    return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** What {@link seal} sealed for `token`. Throws `SealError` for another token or a damaged value. */
  open(token: string, sealed: string, aad: string): unknown {
    const { iv, body } = parseSealed(VERSION, sealed, 'token-sealed value');
    try {
      return gcmOpen(this.#key(token), iv, body, aad);
    } catch {
      throw new SealError('sealed value failed authentication (not sealed for this token)');
    }
  }

  #key(token: string): Buffer {
    return Buffer.from(this.#keys.digest(token), 'base64url');
  }
}
